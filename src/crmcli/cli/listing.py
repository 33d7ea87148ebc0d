"""The listings `crm list KIND` and each group's `list` share."""

import importlib
import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from crmcli import models, render


class Listing(NamedTuple):
    store: str  # module.function that yields the rows, imported when used
    fields: tuple[str, ...]
    columns: tuple[str, ...]  # what a table shows


LISTINGS: dict[str, Listing] = {
    "accounts": Listing(
        "accounts.list_accounts",
        models.ACCOUNT_FIELDS,
        ("id", "name", "kind", "type", "industry", "city", "country", "tags"),
    ),
    "contacts": Listing(
        "contacts.list_contacts",
        models.CONTACT_FIELDS,
        ("id", "name", "email", "phone", "account", "title", "tags"),
    ),
    "deals": Listing(
        "deals.list_deals",
        models.DEAL_FIELDS,
        ("id", "name", "account", "stage", "amount", "currency", "status", "close_date"),
    ),
    "activities": Listing(
        "activities.list_activities",
        models.ACTIVITY_FIELDS,
        ("id", "at", "kind", "subject", "account_id", "contact_id", "deal_id"),
    ),
    "tasks": Listing(
        "tasks.list_tasks", models.TASK_FIELDS, ("id", "due", "title", "done", "contact_id")
    ),
}


def rows(kind: str, conn: sqlite3.Connection) -> Iterator[dict]:
    module, function = LISTINGS[kind].store.split(".")
    return getattr(importlib.import_module(f"crmcli.store.{module}"), function)(conn)


def write(kind: str, records: Iterator[dict], fmt: str) -> int:
    listing = LISTINGS[kind]
    return render.records(
        records, fmt, fields=listing.fields, columns=listing.columns, empty=f"no {kind}"
    )
