"""The listings `crm list KIND` and each group's `list` share, and their table columns."""

import importlib
import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from crmcli import models, render

ACCOUNT_COLUMNS = ("id", "name", "kind", "type", "industry", "city", "country", "tags")
CONTACT_COLUMNS = ("id", "name", "email", "phone", "account", "title", "tags")
DEAL_COLUMNS = ("id", "name", "account", "stage", "amount", "currency", "probability", "close_date")
ACTIVITY_COLUMNS = ("id", "at", "kind", "summary", "contact", "account", "deal")
TASK_COLUMNS = ("id", "due", "title", "done", "contact", "account", "deal")


class Listing(NamedTuple):
    store: str  # module.function that yields the rows, imported when used
    fields: tuple[str, ...]
    columns: tuple[str, ...]  # what a table shows


LISTINGS: dict[str, Listing] = {
    "accounts": Listing("accounts.list_accounts", models.ACCOUNT_FIELDS, ACCOUNT_COLUMNS),
    "contacts": Listing("contacts.list_contacts", models.CONTACT_FIELDS, CONTACT_COLUMNS),
    "deals": Listing("deals.list_deals", models.DEAL_FIELDS, DEAL_COLUMNS),
    "activities": Listing("activities.list_activities", models.ACTIVITY_FIELDS, ACTIVITY_COLUMNS),
    "tasks": Listing("tasks.list_tasks", models.TASK_FIELDS, TASK_COLUMNS),
}


def rows(kind: str, conn: sqlite3.Connection) -> Iterator[dict]:
    module, function = LISTINGS[kind].store.split(".")
    return getattr(importlib.import_module(f"crmcli.store.{module}"), function)(conn)


def write(kind: str, records: Iterator[dict], fmt: str) -> int:
    listing = LISTINGS[kind]
    return render.records(
        records, fmt, fields=listing.fields, columns=listing.columns, empty=f"no {kind}"
    )
