"""Turning what a user typed (`42`, `Acme`, `jane@acme.example`) into one record id.

SPEC: a number is an id first; then names compare ignoring case and Unicode
composition, and contacts are also found by any of their e-mail addresses.
No match or several is exit 3, naming the candidates or the closest names.
"""

from __future__ import annotations

import difflib
import sqlite3

from crmcli import models
from crmcli.errors import Ambiguous, NotFound

_SHOWN = 10  # candidates listed in an error


def account_id(conn: sqlite3.Connection, ref: str) -> int:
    return _resolve(conn, "account", "accounts", ref)


def contact_id(conn: sqlite3.Connection, ref: str) -> int:
    return _resolve(conn, "contact", "contacts", ref)


def deal_id(conn: sqlite3.Connection, ref: str) -> int:
    return _resolve(conn, "deal", "deals", ref)


def number(ref: str) -> int | None:
    """`42` as 42: ASCII digits only (not `²` or `٤٢`), else None.  Past SQLite's
    integers all numbers are one: MAX_INT + 1, which no record has (see by_id)."""
    text = ref.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    return int(digits or "0") if len(digits) <= 19 else models.MAX_INT + 1


def by_id(conn: sqlite3.Connection, table: str, ref: str) -> int | None:
    """The id of the row of `table` that a number names, or None."""
    wanted = number(ref)
    if wanted is None or wanted > models.MAX_INT:
        return None
    row = conn.execute(f"SELECT id FROM {table} WHERE id = ?", (wanted,)).fetchone()
    return row[0] if row else None


def id_only(conn: sqlite3.Connection, table: str, noun: str, ref: str, listing: str) -> int:
    """Records without names (activities, tasks) are named by id alone."""
    found = by_id(conn, table, ref)
    if found is None:
        raise NotFound(f"no {noun} has the id {ref!r} (see {listing})")
    return found


def _resolve(conn: sqlite3.Connection, noun: str, table: str, ref: str) -> int:
    found = by_id(conn, table, ref)
    if found is not None:
        return found
    text = ref.strip()
    key = models.fold(models.nfc(text))
    matches = conn.execute(
        f"SELECT id, name FROM {table} WHERE name_key = ? ORDER BY id LIMIT ?", (key, _SHOWN + 1)
    ).fetchall()
    if table == "contacts" and not matches:
        matches = conn.execute(
            "SELECT c.id, c.name FROM contact_emails e JOIN contacts c ON c.id = e.contact_id"
            " WHERE e.value_key = ?",
            (models.email_key(models.nfc(text)),),
        ).fetchall()
    if len(matches) == 1:
        return matches[0][0]
    if matches:
        raise Ambiguous(
            f"{noun} {ref!r} matches several records; use an id:\n"
            + _listing(matches)
            + ("\n  ..." if len(matches) > _SHOWN else "")
        )
    raise NotFound(f"no {noun} matches {ref!r}" + _suggestions(conn, table, key))


def _listing(rows: list[tuple[int, str]]) -> str:
    return "\n".join(f"  {row_id}  {name}" for row_id, name in rows[:_SHOWN])


def _suggestions(conn: sqlite3.Connection, table: str, key: str) -> str:
    """'did you mean' names: those containing what was typed, then similar spellings."""
    if not key:
        return ""
    rows = conn.execute(
        f"SELECT id, name FROM {table} WHERE instr(name_key, ?) > 0 ORDER BY id LIMIT ?",
        (key, _SHOWN),
    ).fetchall()
    if len(rows) < 3:
        # Similar spellings of the whole name or of one of its words, compared in
        # Python and so only over a bounded sample.
        pool = conn.execute(f"SELECT id, name, name_key FROM {table} LIMIT 20000").fetchall()
        by_word: dict[str, list[tuple[int, str]]] = {}
        for row_id, name, row_key in pool:
            for word in {row_key, *row_key.split()}:
                by_word.setdefault(word, []).append((row_id, name))
        for word in difflib.get_close_matches(key, list(by_word), n=5, cutoff=0.6):
            rows += [row for row in by_word[word] if row not in rows]
    if not rows:
        return ""
    return "; did you mean:\n" + _listing(rows)
