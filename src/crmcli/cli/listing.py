"""The listings `crm list KIND` and each group's `list` share, and their table columns."""

import importlib
import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import NamedTuple

from crmcli import models, render
from crmcli.errors import InvalidValue

TABLE_ROWS = 200  # a table shows at most this many rows unless --limit says otherwise

ACCOUNT_COLUMNS = ("id", "name", "kind", "type", "industry", "city", "country", "tags")
CONTACT_COLUMNS = ("id", "name", "email", "phone", "account", "title", "tags")
DEAL_COLUMNS = ("id", "name", "account", "stage", "amount", "currency", "probability", "close_date")
ACTIVITY_COLUMNS = ("id", "at", "kind", "summary", "contact", "account", "deal")
TASK_COLUMNS = ("id", "due", "title", "done", "contact", "account", "deal")


class Listing(NamedTuple):
    store: str  # module.function that yields the rows, imported when used
    fields: tuple[str, ...]
    columns: tuple[str, ...]  # what a table shows
    # Order for json, csv ... when --sort is not given.  Accounts and contacts
    # read best by name in a table, but scripts and diffs want a stable order,
    # and id order streams a million rows at three times the speed.
    data_sort: tuple[str, ...] = ()


LISTINGS: dict[str, Listing] = {
    "accounts": Listing(
        "accounts.list_accounts", models.ACCOUNT_FIELDS, ACCOUNT_COLUMNS, data_sort=("id",)
    ),
    "contacts": Listing(
        "contacts.list_contacts", models.CONTACT_FIELDS, CONTACT_COLUMNS, data_sort=("id",)
    ),
    "deals": Listing("deals.list_deals", models.DEAL_FIELDS, DEAL_COLUMNS),
    "activities": Listing("activities.list_activities", models.ACTIVITY_FIELDS, ACTIVITY_COLUMNS),
    "tasks": Listing("tasks.list_tasks", models.TASK_FIELDS, TASK_COLUMNS),
}


SINGULAR = {"account": "accounts", "contact": "contacts", "deal": "deals",
            "activity": "activities", "task": "tasks"}  # fmt: skip


def kind(name: str) -> str:
    """`contacts` from contacts, contact or Contacts: what `crm list KIND` takes."""
    folded = name.lower()
    folded = SINGULAR.get(folded, folded)
    if folded not in LISTINGS:
        import difflib

        close = difflib.get_close_matches(folded, [*LISTINGS, *SINGULAR], n=1)
        hint = f"did you mean {SINGULAR.get(close[0], close[0])!r}? " if close else ""
        raise InvalidValue(f"no such kind {name!r}: {hint}use {', '.join(LISTINGS)}")
    return folded


def rows(kind: str, conn: sqlite3.Connection, filters=None):
    module, function = LISTINGS[kind].store.split(".")
    store = getattr(importlib.import_module(f"crmcli.store.{module}"), function)
    return store(conn, filters=filters)


def write(kind: str, records: Iterator[dict], fmt: str, columns: str | None = None) -> int:
    listing = LISTINGS[kind]
    chosen = pick_columns(kind, columns)
    if fmt == "table" and hasattr(records, "columns"):  # a store listing: read whole
        records = render.Columns(records.columns())
    if kind == "contacts" and fmt == "table":
        records = _person_accounts_marked(records)
    return render.records(
        records,
        fmt,
        fields=chosen or listing.fields,
        columns=chosen or listing.columns,
        empty=f"no {kind}",
        chosen=chosen is not None,
    )


def _person_accounts_marked(records):
    """A contact who is a person account's person says so in the account column."""
    mark = "(person account)"
    if isinstance(records, render.Columns):
        accounts = records.column("account")
        people = records.column("person_account_id")
        marked = [mark if person else account
                  for account, person in zip(accounts, people, strict=True)]  # fmt: skip
        return records.replaced("account", marked)
    return ({**row, "account": mark} if row.get("person_account_id") else row for row in records)


def show(kind: str, list_rows: Callable, fmt: str, filters, columns: str | None = None) -> None:
    """A listing with the user's filters; a table stops at TABLE_ROWS and says what is left.

    `list_rows(filters=...)` returns the store's rows; other formats stream them all.
    """
    capped = fmt == "table" and filters.limit is None
    if fmt != "table" and not filters.sort:
        filters = filters.replace(sort=list(LISTINGS[kind].data_sort))
    records = list_rows(filters=filters.replace(limit=TABLE_ROWS) if capped else filters)
    if fmt == "table" and hasattr(records, "only"):
        records = records.only(table_fields(kind, columns))
    shown = write(kind, records, fmt, columns)
    if capped and shown == TABLE_ROWS:
        more = records.total() - filters.offset - shown
        if more > 0:
            print(f"... and {more:,} more {kind}: use --limit N, --offset N or --format",
                  file=sys.stderr)  # fmt: skip


# What drawing a table reads besides its columns: the name, the person
# account mark, a task's done (overdue), a deal's status (its stage's colour).
_TABLE_READS = ("id", "name", "person_account_id", "done", "status")


def table_fields(kind: str, columns: str | None) -> tuple[str, ...]:
    """The fields a table of `kind` reads: its columns (or --columns), and _TABLE_READS."""
    fields = LISTINGS[kind].fields
    shown = pick_columns(kind, columns) or LISTINGS[kind].columns
    return (*shown, *(field for field in _TABLE_READS if field in fields))



def pick_columns(kind: str, columns: str | None) -> tuple[str, ...] | None:
    if columns is None:
        return None
    fields = LISTINGS[kind].fields
    chosen = tuple(column.strip() for column in columns.split(",") if column.strip())
    unknown = [column for column in chosen if column not in fields]
    if unknown or not chosen:
        raise InvalidValue(
            f"unknown column(s) {', '.join(unknown) or '(none given)'}: use {', '.join(fields)}"
        )
    return chosen
