"""crm demo: a sample database to try crm on."""

import os
import shlex
import sys

import typer

from crmcli import db, render
from crmcli.cli import listing
from crmcli.cli import options as o
from crmcli.store import accounts, demo


def run(ctx: typer.Context) -> None:
    # Never the user's real database: only an explicit --db/CRM_DB, else ./crm-demo.db.
    chosen = o.settings(ctx).db  # an empty --db is refused by resolve_path
    if chosen is None:
        chosen = os.environ.get("CRM_DB") or "crm-demo.db"
    path = db.resolve_path(chosen)
    with db.session(path, write=True) as conn:
        counts = demo.fill_demo(conn)
    with db.session(path, write=False) as conn:
        listing.write("accounts", accounts.list_accounts(conn), "table")
    summary = ", ".join(f"{count} {table}" for table, count in counts.items())
    flag = "" if chosen == os.environ.get("CRM_DB") else f" --db {shlex.quote(str(path))}"
    print(
        f"\nDemo database {render.escape(str(path))}: {summary}.\n"
        "Explore it:\n"
        f"  crm{flag} list\n"
        f"  crm{flag} account show 'Acme Corporation'\n"
        f"  crm{flag} contact show jane@acme.example\n"
        f"  crm{flag} pipeline\n"
        f"  crm{flag} due\n"
        f"  crm{flag} list deals --format json",
        file=sys.stderr,
    )
