"""crm history and crm undo."""

import sys
from typing import Annotated

import typer

from crmcli import models, render, start
from crmcli.cli import options as o
from crmcli.errors import InvalidValue
from crmcli.words import counted

app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)
undo_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)


@app.callback(invoke_without_command=True)
def history(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="The last N only.")] = 20,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Operations, newest first: every write command, with how many rows it changed.

    The latest 20 unless --limit says otherwise; a line on stderr says when older
    ones are left out.

    `crm undo` reverts the latest (or `crm undo ID`); `crm history prune --before WHEN`
    forgets old ones.

    Examples:

    \b
      crm history
      crm history -n 100
      crm history prune --before -90d
    """
    if ctx.invoked_subcommand is not None:
        return
    start.resume()  # the group is the command: its work runs as CrmCommand's does
    from crmcli.store import history as store

    if limit is not None and not 1 <= limit <= models.MAX_INT:
        raise InvalidValue(f"--limit takes a number from 1 to {models.MAX_INT:,}")
    with o.session(ctx, write=False) as conn:
        # One more than asked: whether there are older ones to mention.
        asked = None if limit is None else min(limit + 1, models.MAX_INT)
        operations = store.list_operations(conn, asked)
        more = limit is not None and len(operations) > limit
        total = conn.execute("SELECT count(*) FROM operations").fetchone()[0] if more else 0
    columns = ("id", "at", "summary", "changes", "undone_by")
    render.records(operations[:limit], o.output(fmt, as_json), fields=store.FIELDS,
                   columns=columns, empty="no history yet")  # fmt: skip
    if more:
        shown = counted(limit, "operation")
        print(f"showing the latest {shown} of {total:,}: use --limit N for more", file=sys.stderr)


@app.command("prune")
def prune(
    ctx: typer.Context,
    before: Annotated[
        str, typer.Option("--before", metavar="WHEN", help="Forget operations before this day.")
    ],
) -> None:
    """Forget operations before WHEN; they can no longer be undone.

    Examples:

    \b
      crm history prune --before -90d
      crm history prune --before 2026-01-01
    """
    from crmcli.store import history as store

    with o.session(ctx, write=True) as conn:
        count = store.prune(conn, before)
    print(f"forgot {counted(count, 'operation')}", file=sys.stderr)


@undo_app.command("undo")
def undo(
    ctx: typer.Context,
    operation: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="The operation (default: the latest).")
    ] = None,
) -> None:
    """Revert an operation exactly: deleted records come back with their ids and links,
    edits get their old values, an import disappears whole. Undo can be undone.

    An older operation is refused while a later one changed or links to the same
    records (a note on a contact it added, say): the message names the one to undo first.

    Examples:

    \b
      crm undo
      crm undo 41
    """
    from crmcli.store import history as store

    with o.session(ctx, write=True) as conn:
        target = store.undo(conn, operation)
    print(f"undid operation {target['id']}: {render.escape(target['summary'])}", file=sys.stderr)
