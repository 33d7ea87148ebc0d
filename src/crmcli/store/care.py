"""The database looking after itself: facts about it, a health check, a backup."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from crmcli.errors import Refused

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
_CODES = {"accounts": 0, "contacts": 1, "deals": 2, "activities": 3}  # search rowid low bits


def info(conn: sqlite3.Connection, path: Path) -> dict:
    from crmcli.migrations import SCHEMA_VERSION

    exists = path.exists()
    return {
        "path": str(path),
        "size": path.stat().st_size if exists else 0,
        "schema_version": conn.execute("PRAGMA user_version").fetchone()[0] if exists else
        SCHEMA_VERSION,
        "sqlite_version": sqlite3.sqlite_version,
        "counts": {kind: conn.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
                   for kind in KINDS},
    }  # fmt: skip


def check(conn: sqlite3.Connection) -> list[str]:
    """Every problem found: SQLite's own checks, then crm's invariants."""
    problems = [
        f"integrity: {row[0]}" for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"
    ]
    problems += [
        f"foreign key: {table} row {rowid} points to a missing {parent} row"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")
    ]
    for table, code in _CODES.items():
        missing = conn.execute(
            f"SELECT count(*) FROM {table} WHERE id * 4 + {code} NOT IN (SELECT rowid FROM search)"
        ).fetchone()[0]
        stale = conn.execute(
            f"SELECT count(*) FROM search WHERE rowid % 4 = {code}"
            f" AND rowid / 4 NOT IN (SELECT id FROM {table})"
        ).fetchone()[0]
        if missing or stale:
            problems.append(f"search index: {missing} {table} missing, {stale} stale")
        outdated = conn.execute(
            f"SELECT count(*) FROM search_{table} v JOIN search s ON s.rowid = v.rowid"
            " WHERE s.name IS NOT v.name OR s.body IS NOT v.body"
        ).fetchone()[0]
        if outdated:
            problems.append(f"search index: {outdated} {table} out of date")
    stale = conn.execute(f"SELECT count(*) FROM contacts c WHERE {_STALE}").fetchone()[0]
    if stale:
        problems.append(f"contacts: {stale} with summary columns out of step")
    return problems + _keys(conn)


def _keys(conn: sqlite3.Connection) -> list[str]:
    """Key columns that are not what crm makes of their text: names and e-mails that
    became one when keys began to ignore invisible characters and to read IDNA
    domains (migration m008 kept both rows), or keys written by another program."""
    from crmcli import migrations, models

    problems = []
    for table, column, source, how, unique in migrations.KEYS:
        make = getattr(models, how)
        owner = "contact_id" if table == "contact_emails" else "id"
        rows = conn.execute(f"SELECT {owner}, {source}, {column} FROM {table}")
        stale = [(at, text, new) for at, text, stored in rows if (new := make(text)) != stored]
        noun = "the e-mail of contact" if table == "contact_emails" else table[:-1]
        for at, text, key in stale[:_SHOWN]:
            other = unique and conn.execute(
                f"SELECT {owner}, {source} FROM {table} WHERE {column} = ?", (key,)
            ).fetchone()
            if other:
                problems.append(
                    f"{table}: {text!r} ({noun} {at}) is the same as {other[1]!r} ({noun}"
                    f" {other[0]}) once invisible characters and IDNA spellings are ignored:"
                    " rename or merge one of them"
                )
            else:
                problems.append(f"{table}: the {column} of {text!r} ({noun} {at}) is out of step")
        if len(stale) > _SHOWN:
            problems.append(f"{table}: {len(stale) - _SHOWN:,} more keys out of step")
    return problems


_SHOWN = 10  # problems of one kind listed


# A contact's summary columns (kept by triggers, or written by an import) against
# what its addresses, account and activities say.
def _listed(table: str) -> str:
    rows = f"SELECT label, value FROM {table} WHERE contact_id = c.id ORDER BY position"
    return f"(SELECT group_concat(coalesce(label || ':', '') || value, ';') FROM ({rows}))"


def _first(table: str) -> str:
    return f"(SELECT value FROM {table} WHERE contact_id = c.id ORDER BY position LIMIT 1)"


_STALE = (
    f"c.email IS NOT {_first('contact_emails')} OR c.emails IS NOT {_listed('contact_emails')}"
    f" OR c.phone IS NOT {_first('contact_phones')} OR c.phones IS NOT {_listed('contact_phones')}"
    " OR c.account IS NOT (SELECT name FROM accounts WHERE id = c.account_id)"
    " OR c.last_contacted IS NOT (SELECT max(at) FROM activities"
    " WHERE contact_id = c.id AND kind IN ('call', 'meeting', 'email'))"
)


def backup(conn: sqlite3.Connection, target: Path) -> int:
    """A consistent copy, even while others write (SQLite's backup API); mode 0600."""
    target = target.expanduser()
    if target.exists():
        raise Refused(f"{target} already exists; choose a new file")
    try:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise Refused(f"cannot create {target}: {exc.strerror}") from None
    os.close(fd)
    copy = sqlite3.connect(target)
    try:
        conn.backup(copy)
    except BaseException:
        copy.close()
        target.unlink(missing_ok=True)
        raise
    copy.close()
    os.chmod(target, 0o600)
    return target.stat().st_size
