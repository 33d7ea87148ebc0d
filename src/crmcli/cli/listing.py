"""The listings `crm list KIND` and each group's `list` share."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Literal, NamedTuple

from crmcli import models, render
from crmcli.store import accounts, activities, contacts, deals, tasks

Kind = Literal["accounts", "contacts", "deals", "activities", "tasks"]


class Listing(NamedTuple):
    rows: Callable[[sqlite3.Connection], Iterator[dict]]
    fields: tuple[str, ...]
    columns: tuple[str, ...]  # what a table shows


LISTINGS: dict[str, Listing] = {
    "accounts": Listing(
        accounts.list_accounts,
        models.ACCOUNT_FIELDS,
        ("id", "name", "kind", "type", "industry", "city", "country", "tags"),
    ),
    "contacts": Listing(
        contacts.list_contacts,
        models.CONTACT_FIELDS,
        ("id", "name", "email", "phone", "account", "title", "tags"),
    ),
    "deals": Listing(
        deals.list_deals,
        models.DEAL_FIELDS,
        ("id", "name", "account", "stage", "amount", "currency", "status", "close_date"),
    ),
    "activities": Listing(
        activities.list_activities,
        models.ACTIVITY_FIELDS,
        ("id", "at", "kind", "subject", "account_id", "contact_id", "deal_id"),
    ),
    "tasks": Listing(
        tasks.list_tasks, models.TASK_FIELDS, ("id", "due", "title", "done", "contact_id")
    ),
}


def write(kind: str, rows: Iterator[dict], fmt: render.Format) -> int:
    listing = LISTINGS[kind]
    return render.records(
        rows, fmt, fields=listing.fields, columns=listing.columns, empty=f"no {kind}"
    )
