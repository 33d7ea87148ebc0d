"""crm task ... and crm due: follow-ups, and what needs attention today."""

from functools import partial
from typing import Annotated

import typer

from crmcli import models, render, when
from crmcli.cli import options as o
from crmcli.errors import InvalidValue
from crmcli.store import tasks as store

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings=o.CONTEXT)
due_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

Ref = Annotated[str, typer.Argument(metavar="ID", help="Task id.")]
DueOpt = Annotated[
    str | None,
    typer.Option("--due", metavar="WHEN", help="Due date: 2026-12-01, tomorrow, +3d, fri ..."),
]
ContactOpt = o.ContactRefOpt
AccountOpt = o.AccountRefOpt
DealOpt = o.DealRefOpt


@app.command("add")
@app.command("new", hidden=True)
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="What to do.")],
    due: DueOpt = None,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    tag: o.TagOpt = None,
    set_: o.SetOpt = None,
    quiet: o.QuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Add a task (also: crm task new).

    Examples:

    \b
      crm task add 'Send the quote' --due fri -c 'Jane Doe'
      crm task add 'Renewal call' --due +30d --deal 'Acme renewal 2027'
    """
    with o.session(ctx, write=True) as conn:
        task = store.add_task(
            conn,
            title,
            due=due,
            contact=contact,
            account=account,
            deal=deal,
            tags=tag,
            fields=models.assignments(set_),
        )
    o.created(task, quiet, fmt, as_json, models.TASK_FIELDS)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include done tasks (listed last).")] = False,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    where: o.WhereOpt = None,
    tag: o.HasTagOpt = None,
    sort: o.SortOpt = None,
    limit: o.LimitOpt = None,
    offset: o.OffsetOpt = 0,
    columns: o.ColumnsOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """List open tasks: overdue first, then by due date, undated last.

    Examples:

    \b
      crm task list
      crm task list --all --account Acme
      crm task list --where 'due<2026-12-31' --format csv
    """
    from crmcli.cli import listing
    from crmcli.store import refs

    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        rows = partial(
            store.list_tasks,
            conn,
            include_done=all_,
            contact_id=refs.contact_id(conn, contact) if contact is not None else None,
            account_id=refs.account_id(conn, account) if account is not None else None,
            deal_id=refs.deal_id(conn, deal) if deal is not None else None,
        )
        listing.show("tasks", rows, o.output(fmt, as_json), filters, columns)


def _set_done(ctx: typer.Context, ref: str, done: bool, fmt: str, as_json: bool) -> None:
    with o.session(ctx, write=True) as conn:
        task = store.set_done(conn, ref, done)
    render.record(task, o.output(fmt, as_json), fields=models.TASK_FIELDS)


@app.command("done")
def done(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Mark a task done.

    Examples:

    \b
      crm task done 7
      crm task done 7 --json
    """
    _set_done(ctx, ref, True, fmt, as_json)


@app.command("reopen")
def reopen(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Open a done task again.

    Examples:

    \b
      crm task reopen 7
    """
    _set_done(ctx, ref, False, fmt, as_json)


@app.command("show")
def show(
    ctx: typer.Context, ref: Ref, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False
) -> None:
    """Show one task.

    Examples:

    \b
      crm task show 7
      crm task show 7 --json
    """
    with o.session(ctx, write=False) as conn:
        task = store.get_task(conn, store.task_id(conn, ref))
    render.record(task, o.output(fmt, as_json), fields=models.TASK_FIELDS)


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    due: DueOpt = None,
    contact: ContactOpt = None,
    account: AccountOpt = None,
    deal: DealOpt = None,
    tag: o.TagOpt = None,
    add_tag: o.AddTagOpt = None,
    remove_tag: o.RemoveTagOpt = None,
    set_: o.SetOpt = None,
    unset: o.UnsetOpt = None,
    quiet: o.EditQuietOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Change a task. '' clears --due or unlinks --contact, --account, --deal.

    Examples:

    \b
      crm task edit 7 --due tomorrow
      crm task edit 7 --contact '' --title 'Call back'
    """
    tags = o.tag_edit(tag, add_tag, remove_tag, set_, unset)
    if not o.anything([title, due, contact, account, deal, tags]):
        raise InvalidValue("nothing to change: give at least one option (see -h)")
    with o.session(ctx, write=True) as conn:
        task = store.edit_task(
            conn,
            ref,
            title=title,
            due=due,
            contact=contact,
            account=account,
            deal=deal,
            tag_edit=tags,
        )
    o.created(task, quiet, fmt, as_json, models.TASK_FIELDS)


@app.command("delete")
def delete(
    ctx: typer.Context,
    ref: Ref,
    yes: o.YesOpt = False,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Delete a task.

    Examples:

    \b
      crm task delete 7
      crm task delete 7 --yes
    """
    o.delete(
        ctx,
        "task",
        lambda conn: store.get_task(conn, store.task_id(conn, ref)),
        store.delete_task,
        yes,
        fmt,
        as_json,
        models.TASK_FIELDS,
    )


DUE_CONTACT_COLUMNS = ("id", "name", "every", "last_contacted", "due", "email", "phone")
DUE_FIELDS = ("kind", "id", "name", "due", "account", "contact", "email", "phone")


@due_app.command("due")
def due(ctx: typer.Context, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False) -> None:
    """What needs attention today: tasks due, and people you should get in touch with.

    Tasks due today or earlier, and contacts whose --every interval has run out
    since the last call, meeting or e-mail (never contacted counts); most
    overdue first. JSON: {"tasks": [...], "contacts": [...]}; jsonl, csv and tsv:
    one line each, with `kind` task or contact.

    Examples:

    \b
      crm due
      crm due --json
    """
    import sys

    from crmcli.cli import listing
    from crmcli.store import contacts

    today = when.today().isoformat()
    with o.session(ctx, write=False) as conn:
        tasks = list(store.list_tasks(conn, due_by=today))
        people = contacts.due_contacts(conn, today)
    fmt = o.output(fmt, as_json)
    if fmt == "json":
        render.document({"tasks": tasks, "contacts": people}, fmt)
    elif fmt == "ids":
        raise InvalidValue("crm due mixes tasks and contacts: use --format json, jsonl or csv")
    elif fmt != "table":
        # One line a thing to do, `kind` saying which: a task or a contact.
        rows = [{"kind": "task", **task, "name": task["title"]} for task in tasks]
        rows += [{"kind": "contact", **person} for person in people]
        render.records(rows, fmt, fields=DUE_FIELDS, columns=DUE_FIELDS)
    else:
        if not tasks and not people:
            print("nothing is due today", file=sys.stderr)
        if tasks:
            render.line(f"Tasks due ({len(tasks)})")
            render.records(tasks, "table", fields=(), columns=listing.TASK_COLUMNS)
        if people:
            render.line(f"Get in touch ({len(people)})")
            render.records(people, "table", fields=(), columns=DUE_CONTACT_COLUMNS)
