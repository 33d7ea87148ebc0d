"""crm deal ... and crm pipeline: sales opportunities and where they stand."""

from functools import partial
from typing import Annotated, Literal

import typer

from crmcli import config, models, render
from crmcli.cli import complete
from crmcli.cli import options as o
from crmcli.errors import InvalidValue
from crmcli.store import deals as store
from crmcli.store import refs

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings=o.CONTEXT)
pipeline_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

Ref = Annotated[
    str, typer.Argument(metavar="DEAL", help="Deal id or name.", autocompletion=complete.deals)
]
AccountOpt = o.AccountRefOpt
ContactOpt = o.ContactRefOpt
AmountOpt = Annotated[
    str | None,
    typer.Option(
        "--amount",
        help="Amount, an exact decimal: 1200.50 or 1,200.50 (a comma only between thousands).",
    ),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option("--currency", help="ISO 4217 code (default: config.toml's, else USD)."),
]
StageOpt = Annotated[
    str | None,
    typer.Option(
        "--stage",
        help="lead, qualified, proposal, negotiation, won, lost (or yours).",
        autocompletion=complete.stages,
    ),
]
ProbabilityOpt = Annotated[
    int | None,
    typer.Option("--probability", metavar="0-100", help="Chance to win (default: the stage's)."),
]
CloseOpt = Annotated[
    str | None, typer.Option("--close", metavar="WHEN", help="Expected or actual close date.")
]
StatusOpt = Annotated[
    Literal["open", "won", "lost"] | None, typer.Option("--status", help="open, won or lost.")
]


@app.command("new")
@app.command("add", hidden=True)
def new(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What is being sold, e.g. 'Acme renewal 2027'.")],
    account: Annotated[
        str,
        typer.Option(
            "--account",
            "-a",
            metavar="ACCOUNT",
            help="Account id or name.",
            autocompletion=complete.accounts,
        ),
    ],
    contact: ContactOpt = None,
    amount: AmountOpt = None,
    currency: CurrencyOpt = None,
    stage: StageOpt = None,
    probability: ProbabilityOpt = None,
    close: CloseOpt = None,
    description: o.DescriptionOpt = None,
    tag: o.TagOpt = None,
    set_: o.SetOpt = None,
    quiet: o.QuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Create a deal (also: crm deal add). It starts at the first stage unless --stage.

    Examples:

    \b
      crm deal new 'Acme renewal 2027' -a Acme --amount 12,500 --close 2027-01-31
      crm deal new Skates -a Globex -c 'Jane Doe' --stage proposal
    """
    settings = config.load()
    with o.session(ctx, write=True) as conn:
        deal = store.add_deal(
            conn,
            settings,
            name,
            account=account,
            contact=contact,
            amount_text=amount,
            currency_code=currency,
            stage=stage,
            chance=probability,
            close=close,
            description=description,
            tags=tag,
            fields=models.assignments(set_),
        )
    o.created(deal, quiet, fmt, as_json, models.DEAL_FIELDS)


@app.command("list")
def list_(
    ctx: typer.Context,
    stage: StageOpt = None,
    status: StatusOpt = None,
    account: AccountOpt = None,
    contact: ContactOpt = None,
    where: o.WhereOpt = None,
    tag: o.HasTagOpt = None,
    sort: o.SortOpt = None,
    limit: o.LimitOpt = None,
    offset: o.OffsetOpt = 0,
    columns: o.ColumnsOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """List deals, optionally by stage, status, account or contact.

    Examples:

    \b
      crm deal list --status open
      crm deal list --stage proposal --sort close_date
      crm deal list --account Acme --format csv
    """
    from crmcli.cli import listing

    stage = config.load().check_stage(stage) if stage is not None else None
    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        rows = partial(
            store.list_deals,
            conn,
            stage=stage,
            status=status,
            account_id=refs.account_id(conn, account) if account is not None else None,
            contact_id=refs.contact_id(conn, contact) if contact is not None else None,
        )
        listing.show("deals", rows, o.output(fmt, as_json), filters, columns)


@app.command("show")
def show(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Show one deal with its open tasks and latest activities.

    Examples:

    \b
      crm deal show 'Acme renewal 2027'
      crm deal show 5 --json
    """
    from crmcli.cli import listing
    from crmcli.store import activities, tasks
    from crmcli.store.query import Query

    with o.session(ctx, write=False) as conn:
        deal = store.get_deal(conn, refs.deal_id(conn, ref))
        sections = {
            "tasks": (list(tasks.list_tasks(conn, deal_id=deal["id"])), listing.TASK_COLUMNS),
            "activities": (
                list(activities.list_activities(conn, deal_id=deal["id"], filters=Query(limit=10))),
                listing.ACTIVITY_COLUMNS,
            ),
        }
    render.record(deal, o.output(fmt, as_json), fields=models.DEAL_FIELDS, sections=sections)


def _find(conn, ref: str) -> dict:
    return store.get_deal(conn, refs.deal_id(conn, ref))


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str | None, typer.Option("--name", help="Rename the deal.")] = None,
    account: AccountOpt = None,
    no_account: Annotated[bool, typer.Option("--no-account", help="Unlink its account.")] = False,
    contact: ContactOpt = None,
    no_contact: Annotated[bool, typer.Option("--no-contact", help="Unlink its contact.")] = False,
    amount: AmountOpt = None,
    currency: CurrencyOpt = None,
    stage: StageOpt = None,
    probability: ProbabilityOpt = None,
    close: CloseOpt = None,
    description: o.DescriptionOpt = None,
    tag: o.TagOpt = None,
    add_tag: o.AddTagOpt = None,
    remove_tag: o.RemoveTagOpt = None,
    set_: o.SetOpt = None,
    unset: o.UnsetOpt = None,
    editor: o.EditorOpt = False,
    quiet: o.EditQuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Change a deal. --stage works like `crm deal move`; '' clears --amount, --close.

    Examples:

    \b
      crm deal edit Skates --amount 1,200.50 --close +30d
      crm deal edit 5 --no-contact --add-tag urgent
      crm deal edit Skates --editor
    """
    tags = o.tag_edit(tag, add_tag, remove_tag, set_, unset)
    changes = [
        name,
        account,
        no_account,
        contact,
        no_contact,
        amount,
        currency,
        stage,
        probability,
        close,
        description,
        tags,
    ]
    if editor or (not o.anything(changes) and o.on_terminal()):
        find = partial(_find, ref=ref)
        again = partial(edit, ctx, ref, quiet=quiet, fmt=fmt, as_json=as_json)
        return o.in_editor(ctx, "deal", find, again, o.anything(changes))
    if not o.anything(changes):
        raise InvalidValue("nothing to change: give at least one option (see -h)")
    settings = config.load()
    with o.session(ctx, write=True) as conn:
        deal = store.edit_deal(
            conn,
            settings,
            ref,
            name=name,
            account=account,
            no_account=no_account,
            contact=contact,
            no_contact=no_contact,
            amount_text=amount,
            currency_code=currency,
            stage=stage,
            chance=probability,
            close=close,
            description=description,
            tag_edit=tags,
        )
    o.created(deal, quiet, fmt, as_json, models.DEAL_FIELDS)


@app.command("move")
def move(
    ctx: typer.Context,
    ref: Ref,
    stage: Annotated[
        str, typer.Argument(help="The stage the deal enters.", autocompletion=complete.stages)
    ],
    probability: ProbabilityOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Move a deal to STAGE; its probability and status follow (won/lost close it).

    Examples:

    \b
      crm deal move Skates negotiation
      crm deal move 5 won
    """
    settings = config.load()
    with o.session(ctx, write=True) as conn:
        deal = store.move_deal(conn, settings, ref, stage, probability)
    render.record(deal, o.output(fmt, as_json), fields=models.DEAL_FIELDS)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Ref,
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Delete a deal; its activities and tasks stay, unlinked from it.

    Examples:

    \b
      crm deal delete Skates
      crm deal delete 5 --yes
    """
    o.delete(
        ctx,
        "deal",
        lambda conn: store.get_deal(conn, refs.deal_id(conn, ref)),
        store.delete_deal,
        yes,
        fmt,
        as_json,
        models.DEAL_FIELDS,
    )


PIPELINE_FIELDS = ("stage", "currency", "count", "amount", "weighted")


@pipeline_app.command("pipeline")
def pipeline(ctx: typer.Context, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False) -> None:
    """Deals per stage and currency: count, total and weighted total (amount x probability).

    Examples:

    \b
      crm pipeline
      crm pipeline --format csv
    """
    fmt = o.output_without_ids(fmt, as_json, "crm pipeline")
    settings = config.load()
    with o.session(ctx, write=False) as conn:
        rows = store.pipeline(conn, settings)
    if fmt != "table":
        render.records(rows, fmt, fields=PIPELINE_FIELDS, columns=PIPELINE_FIELDS)
        return
    largest = max((row["amount"] for row in rows), default=0) or 1
    for row in rows:
        row["bar"] = "█" * round(30 * row["amount"] / largest)
    open_totals: dict[str, object] = {}
    for row in rows:
        if settings.status(row["stage"]) == "open" and row["currency"]:
            open_totals[row["currency"]] = open_totals.get(row["currency"], 0) + row["weighted"]
    render.records(rows, "table", fields=PIPELINE_FIELDS, columns=(*PIPELINE_FIELDS, "bar"))
    weighted = ", ".join(f"{render.money(total)} {code}" for code, total in open_totals.items())
    weighted = weighted or "0"
    render.line(f"Open pipeline, weighted: {weighted}")
