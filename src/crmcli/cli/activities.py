"""crm log, crm note and crm activity ...: the timeline."""

import sys
from functools import partial
from typing import Annotated, Literal

import typer

from crmcli import models, render
from crmcli.cli import options as o
from crmcli.errors import InvalidValue, Refused
from crmcli.store import activities as store
from crmcli.store import refs

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings=o.CONTEXT)
log_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)
note_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

Ref = Annotated[str, typer.Argument(metavar="ID", help="Activity id.")]
Kind = Literal["note", "call", "meeting", "email"]
TextArg = Annotated[
    str | None,
    typer.Argument(metavar="[TEXT|-]", help="What happened; - reads it from stdin."),
]
KindOpt = Annotated[Kind | None, typer.Option("--kind", "-k", help="note, call, meeting, email.")]
SubjectOpt = Annotated[str | None, typer.Option("--subject", "-s", help="A one-line subject.")]
ContactOpt = o.ContactRefOpt
AccountOpt = o.AccountRefOpt
DealOpt = o.DealRefOpt
AtOpt = Annotated[
    str | None,
    typer.Option("--at", metavar="WHEN", help="When it happened (default now; a date is noon)."),
]


def _body(text: str | None, subject: str | None, kind: str) -> str | None:
    """TEXT as given; '-' reads stdin; neither TEXT nor --subject on a terminal: $EDITOR."""
    if text == "-":
        return _stdin()
    if text is not None or subject is not None or not o.on_terminal():
        return text
    return _edit(kind)


def _stdin() -> str:
    """The text piped in, without the line end(s) `echo` or a file adds at the end."""
    return sys.stdin.read().rstrip("\r\n")


_HINTS = """
# Write the {kind} above this line and save. Lines starting with # are left out;
# the first line is its summary in lists. An empty {kind} logs nothing.
"""


def _edit(kind: str) -> str:
    from crmcli.cli import editor

    kind = "e-mail" if kind == "email" else kind
    text = editor.edit_text(_HINTS.format(kind=kind), name=f"crm-{kind}.txt")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    if not body.strip():
        raise Refused(f"the {kind} is empty; nothing was logged")
    return body.strip("\n")


def _log(ctx, text, kind, subject, contact, account, deal, at, tag, set_, quiet, fmt, as_json):
    body = _body(text, subject, kind)
    if body is None and subject is None:
        raise InvalidValue("give TEXT, - (to read stdin) or --subject")
    with o.session(ctx, write=True) as conn:
        activity = store.add_activity(
            conn,
            body,
            kind_name=kind,
            subject=subject,
            at=at,
            contact=contact,
            account=account,
            deal=deal,
            tags=tag,
            fields=models.assignments(set_),
        )
    o.created(activity, quiet, fmt, as_json, models.ACTIVITY_FIELDS)


@log_app.command("log")
def log(
    ctx: typer.Context,
    text: TextArg = None,
    kind: KindOpt = None,
    subject: SubjectOpt = None,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    at: AtOpt = None,
    tag: o.TagOpt = None,
    set_: o.SetOpt = None,
    quiet: o.QuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Log a note, call, meeting or e-mail (default: note).

    With neither TEXT nor --subject on a terminal, $EDITOR opens. A contact or
    deal also links its account.

    Examples:

    \b
      crm log 'Called about the renewal' --kind call -c 'Jane Doe'
      crm log --kind meeting -s 'Quarterly review' --deal Skates --at 2026-12-01T14:30
      git log -1 --format=%B | crm log - -a Acme
    """
    _log(
        ctx,
        text,
        kind or "note",
        subject,
        contact,
        account,
        deal,
        at,
        tag,
        set_,
        quiet,
        fmt,
        as_json,
    )


@note_app.command("note")
def note(
    ctx: typer.Context,
    text: TextArg = None,
    subject: SubjectOpt = None,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    at: AtOpt = None,
    tag: o.TagOpt = None,
    set_: o.SetOpt = None,
    quiet: o.QuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Write a note: the same as crm log --kind note.

    Examples:

    \b
      crm note 'Prefers e-mail to calls' -c jane@acme.example
      crm note -a Acme
    """
    _log(ctx, text, "note", subject, contact, account, deal, at, tag, set_, quiet, fmt, as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    kind: KindOpt = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="Only from this day on.")
    ] = None,
    where: o.WhereOpt = None,
    tag: o.HasTagOpt = None,
    sort: o.SortOpt = None,
    limit: o.LimitOpt = None,
    offset: o.OffsetOpt = 0,
    columns: o.ColumnsOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """List activities, newest first.

    Examples:

    \b
      crm activity list --contact 'Jane Doe'
      crm activity list --kind call --since -7d
      crm activity list --account Acme --format json
    """
    from crmcli.cli import listing

    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        rows = partial(
            store.list_activities,
            conn,
            contact_id=refs.contact_id(conn, contact) if contact is not None else None,
            account_id=refs.account_id(conn, account) if account is not None else None,
            deal_id=refs.deal_id(conn, deal) if deal is not None else None,
            kind_name=kind,
            since=since,
        )
        listing.show("activities", rows, o.output(fmt, as_json), filters, columns)


@app.command("show")
def show(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Show one activity.

    Examples:

    \b
      crm activity show 42
      crm activity show 42 --json
    """
    with o.session(ctx, write=False) as conn:
        activity = store.get_activity(conn, store.activity_id(conn, ref))
    render.record(activity, o.output(fmt, as_json), fields=models.ACTIVITY_FIELDS)


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    text: Annotated[
        str | None, typer.Option("--text", metavar="TEXT", help="New text; - reads stdin.")
    ] = None,
    kind: KindOpt = None,
    subject: SubjectOpt = None,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    at: AtOpt = None,
    tag: o.TagOpt = None,
    add_tag: o.AddTagOpt = None,
    remove_tag: o.RemoveTagOpt = None,
    set_: o.SetOpt = None,
    unset: o.UnsetOpt = None,
    quiet: o.EditQuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Change an activity.

    Examples:

    \b
      crm activity edit 42 --subject 'Renewal call'
      echo 'New text' | crm activity edit 42 --text -
    """
    tags = o.tag_edit(tag, add_tag, remove_tag, set_, unset)
    if not o.anything([text, kind, subject, contact, account, deal, at, tags]):
        raise InvalidValue("nothing to change: give at least one option (see -h)")
    body = _stdin() if text == "-" else text
    with o.session(ctx, write=True) as conn:
        activity = store.edit_activity(
            conn,
            ref,
            body=body,
            kind_name=kind,
            subject=subject,
            at=at,
            contact=contact,
            account=account,
            deal=deal,
            tag_edit=tags,
        )
    o.created(activity, quiet, fmt, as_json, models.ACTIVITY_FIELDS)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Ref,
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Delete an activity.

    Examples:

    \b
      crm activity delete 42
      crm activity delete 42 --yes
    """
    o.delete(
        ctx,
        "activity",
        lambda conn: store.get_activity(conn, store.activity_id(conn, ref)),
        store.delete_activity,
        yes,
        fmt,
        as_json,
        models.ACTIVITY_FIELDS,
    )
