"""Tasks: follow-ups with an optional due date."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from crmcli import models
from crmcli.store import common, refs

_SELECT = """
    SELECT id, title, due, done, done_at, account_id, contact_id, deal_id,
           tags, fields, created_at, updated_at
    FROM tasks
"""
# Open tasks first, then by due date with undated ones last.
_ORDER = " ORDER BY done, due IS NULL, due, id"


def add_task(
    conn: sqlite3.Connection,
    title: str,
    *,
    due: str | None = None,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
) -> dict:
    row = {
        "title": models.name("title", title),
        "due": models.date("due", due),
        "contact_id": refs.contact_id(conn, contact) if contact is not None else None,
        "account_id": refs.account_id(conn, account) if account is not None else None,
        "deal_id": refs.deal_id(conn, deal) if deal is not None else None,
    }
    return get_task(conn, common.insert(conn, "tasks", row))


def get_task(conn: sqlite3.Connection, task_id: int) -> dict:
    cursor = conn.execute(_SELECT + " WHERE id = ?", (task_id,))
    return _typed(common.record(cursor, cursor.fetchone()))


def list_tasks(conn: sqlite3.Connection, *, account_id: int | None = None) -> Iterator[dict]:
    if account_id is None:
        cursor = conn.execute(_SELECT + _ORDER)
    else:
        cursor = conn.execute(_SELECT + " WHERE account_id = ?" + _ORDER, (account_id,))
    return (_typed(task) for task in common.records(cursor))


def _typed(task: dict) -> dict:
    task["done"] = bool(task["done"])
    return task
