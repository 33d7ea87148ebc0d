"""Activities: the timeline of notes, calls, meetings and e-mails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from crmcli import models
from crmcli.errors import InvalidValue
from crmcli.store import common, refs

KINDS = ("note", "call", "meeting", "email")

_SELECT = """
    SELECT id, kind, subject, body, at, account_id, contact_id, deal_id,
           tags, fields, created_at, updated_at
    FROM activities
"""


def add_activity(
    conn: sqlite3.Connection,
    body: str | None,
    *,
    kind: str = "note",
    subject: str | None = None,
    at: str | None = None,
    contact: str | None = None,
    account: str | None = None,
    deal: str | None = None,
) -> dict:
    """Log an activity; a contact or deal also links its account."""
    if kind not in KINDS:
        raise InvalidValue(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    row = {
        "kind": kind,
        "subject": models.line("subject", subject),
        "body": models.text("body", body),
        "at": at or common.now(),
        "contact_id": refs.contact_id(conn, contact) if contact is not None else None,
        "deal_id": refs.deal_id(conn, deal) if deal is not None else None,
        "account_id": refs.account_id(conn, account) if account is not None else None,
    }
    if row["subject"] is None and row["body"] is None:
        raise InvalidValue("an activity needs a subject or a body")
    for table, key in (("contacts", "contact_id"), ("deals", "deal_id")):
        if row["account_id"] is None and row[key] is not None:
            row["account_id"] = conn.execute(
                f"SELECT account_id FROM {table} WHERE id = ?", (row[key],)
            ).fetchone()[0]
    cursor = conn.execute(_SELECT + " WHERE id = ?", (common.insert(conn, "activities", row),))
    return common.record(cursor, cursor.fetchone())


def list_activities(conn: sqlite3.Connection, *, account_id: int | None = None) -> Iterator[dict]:
    if account_id is None:
        return common.records(conn.execute(_SELECT + " ORDER BY at DESC, id DESC"))
    cursor = conn.execute(
        _SELECT + " WHERE account_id = ? ORDER BY at DESC, id DESC", (account_id,)
    )
    return common.records(cursor)
