"""crm db ...: facts, a health check and a backup of the database."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from crmcli import render
from crmcli.cli import options as o
from crmcli.errors import DatabaseRefused, Refused
from crmcli.words import counted

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings=o.CONTEXT)


@app.command("info")
def info(ctx: typer.Context, fmt: o.FormatOpt = "table", as_json: o.JsonOpt = False) -> None:
    """Where the database is, its size, schema and SQLite versions, records per kind.

    Examples:

    \b
      crm db info
      crm db info --json
    """
    from crmcli import db
    from crmcli.store import care

    fmt = o.output_without_ids(fmt, as_json, "crm db info")
    path = db.resolve_path(o.settings(ctx).db)
    with o.session(ctx, write=False) as conn:
        facts = care.info(conn, path)
    if fmt in ("json", "jsonl"):
        render.document(facts, fmt)
    else:
        counts = facts.pop("counts")
        flat = {**facts, **counts}
        render.record(flat, fmt, fields=tuple(flat))


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Check the file (SQLite's integrity and foreign keys) and crm's own invariants
    (the search index and contact summaries in step). Exit 1 with the problems listed.

    Examples:

    \b
      crm db check
      crm db check || crm db backup broken-copy.db
    """
    from crmcli.store import care

    with o.session(ctx, write=False) as conn:
        problems = care.check(conn)
    if problems:
        raise Refused(f"{counted(len(problems), 'problem')}:\n  " + "\n  ".join(problems))
    print("database ok", file=sys.stderr)


@app.command("backup")
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(metavar="FILE", help="A new file for the copy.")],
) -> None:
    """Copy the database to FILE (mode 0600), consistent even while others write.

    FILE must be new (never the database itself). The copy is checked: a damaged
    database is still copied, but the command says so and exits 1.

    Examples:

    \b
      crm db backup ~/backups/crm-2026-12-01.db
      crm --db work.db db backup work-copy.db
    """
    from crmcli import db
    from crmcli.store import care

    source = db.resolve_path(o.settings(ctx).db)
    if not source.exists():
        raise DatabaseRefused(f"there is no database at {source}: nothing to back up")
    with o.session(ctx, write=False) as conn:
        size, problems = care.backup(conn, target, source)
    if problems:
        raise DatabaseRefused(
            f"the database is damaged; its copy in {target} ({size:,} bytes) is too."
            f" {counted(len(problems), 'problem')}:\n  "
            + "\n  ".join(problems[:20])
            + "\nrun 'crm db check' for the whole list"
        )
    print(f"backed up to {render.escape(str(target))} ({size:,} bytes)", file=sys.stderr)
