"""Full-text search over accounts, contacts, deals and activities (SQLite FTS5).

The index is kept in step by triggers (migration m004), so every write, by
crm or anything else, is findable at once.  Whatever the user types is taken
as words: each becomes a quoted prefix term, so FTS5 syntax (quotes, AND, *,
NEAR, -) can never be injected or cause a syntax error.
"""

from __future__ import annotations

import re
import sqlite3

from crmcli.errors import InvalidValue
from crmcli.migrations import SEARCH_KINDS

HIT_START, HIT_END = "\x02", "\x03"  # around matches in a snippet; render highlights them
KINDS = {"accounts": "account", "contacts": "contact", "deals": "deal", "activities": "activity"}


def match_expression(query: str) -> str | None:
    """`Jane Doe@acme` -> `"jane"* "doe"* "acme"*`: every word must match, as a prefix."""
    words = re.findall(r"[^\W_]+", query.casefold())
    return " ".join(f'"{word}"*' for word in words) or None


def search(
    conn: sqlite3.Connection, query: str, *, kind: str | None = None, limit: int = 20
) -> list[dict]:
    """Ranked hits: kind, id, name, snippet (matches marked), rank (1 = best)."""
    if limit < 1:
        raise InvalidValue("--limit must be 1 or more")
    expression = match_expression(query)
    if expression is None:
        raise InvalidValue("give at least one word to search for")
    sql = "SELECT rowid, name, snippet(search, -1, ?, ?, '…', 12) FROM search WHERE search MATCH ?"
    params: list = [HIT_START, HIT_END, expression]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(KINDS[kind])
    sql += " ORDER BY bm25(search, 0.0, 10.0, 1.0) LIMIT ?"
    params.append(limit)
    return [
        {
            "kind": SEARCH_KINDS[rowid & 3],
            "id": rowid >> 2,
            "name": name,
            "snippet": " ".join(snippet.split()),  # one line, whatever the text held
            "rank": position,
        }
        for position, (rowid, name, snippet) in enumerate(conn.execute(sql, params), start=1)
    ]
