"""History and undo: every write command is an operation with the rows it changed.

Triggers (migration m005) log the image before of every row a command
inserts, updates or deletes (an insert has none); bulk imports log the rows they
insert as runs of ids (m007: row_id to last_id).  Undo writes the images back,
newest change first, and deletes what was inserted; it is itself an operation,
so it can be undone in turn.
"""

from __future__ import annotations

import json
import sqlite3

from crmcli import when
from crmcli.errors import InvalidValue, NotFound, Refused
from crmcli.migrations import HISTORY_TABLES

FIELDS = ("id", "at", "summary", "changes", "undoes", "undone_by")


_SELECT = (
    "SELECT o.id, o.at, o.summary,"
    " (SELECT coalesce(sum(coalesce(last_id - row_id + 1, 1)), 0) FROM changes"
    " WHERE operation_id = o.id) AS changes,"
    " o.undoes, o.undone_by FROM operations o"
)


def list_operations(conn: sqlite3.Connection, limit: int | None = None) -> list[dict]:
    sql = _SELECT + " ORDER BY o.id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [dict(zip(FIELDS, row, strict=True)) for row in conn.execute(sql)]


def undo(conn: sqlite3.Connection, ref: str | None = None) -> dict:
    """Revert an operation (default: the latest not yet undone) inside this command's own
    operation; refuse if a later one touched the same records."""
    target = _target(conn, ref)
    blocker = conn.execute(_BLOCKER, {"target": target["id"]}).fetchone()
    if blocker:
        raise Refused(
            f"operation {blocker[0]} ({blocker[1]}) changed the same records since; undo it first"
        )
    conn.execute("PRAGMA defer_foreign_keys = ON")  # rows come back in any order
    for table, row_id, last_id, before in conn.execute(
        "SELECT tbl, row_id, last_id, before FROM changes WHERE operation_id = ? ORDER BY id DESC",
        (target["id"],),
    ).fetchall():
        try:
            if last_id is not None:
                _delete_run(conn, table, row_id, last_id)
            else:
                _restore(conn, table, row_id, json.loads(before) if before else None)
        except sqlite3.IntegrityError as exc:
            raise Refused(f"cannot undo operation {target['id']}: {exc}") from None
    current = conn.execute("SELECT id FROM current_operation").fetchone()[0]
    if current is not None:
        conn.execute(
            "UPDATE operations SET summary = ?, undoes = ? WHERE id = ?",
            (f"undo {target['id']}: {target['summary']}"[:200], target["id"], current),
        )
        conn.execute("UPDATE operations SET undone_by = ? WHERE id = ?", (current, target["id"]))
    return target


# The first later operation, not itself undone since, that changed a row the
# target changed.  Rows are single (last_id NULL) or runs (row_id..last_id):
# later changes within the target's rows, found through changes_row, and later
# runs (few, through changes_runs: CROSS JOIN makes SQLite start from them) that
# cover one of the target's rows.
_LATER = """later.operation_id > :target
    AND later.operation_id != coalesce((SELECT id FROM current_operation), 0)"""
_BLOCKER = f"""
    SELECT o.id, o.summary FROM operations o WHERE o.id IN (
        SELECT later.operation_id FROM changes mine
        JOIN changes later ON later.tbl = mine.tbl
            AND later.row_id BETWEEN mine.row_id AND coalesce(mine.last_id, mine.row_id)
        WHERE mine.operation_id = :target AND {_LATER}
        UNION ALL
        SELECT later.operation_id FROM changes later
        CROSS JOIN changes mine ON mine.tbl = later.tbl
            AND mine.row_id BETWEEN later.row_id AND later.last_id
        WHERE later.last_id IS NOT NULL AND mine.operation_id = :target AND {_LATER})
    AND NOT (o.undone_by IS NOT NULL AND o.undone_by > :target)
    AND NOT (o.undoes IS NOT NULL AND o.undoes > :target)
    ORDER BY o.id LIMIT 1"""


def _target(conn: sqlite3.Connection, ref: str | None) -> dict:
    if ref is None:
        row = conn.execute(
            "SELECT id FROM operations WHERE undone_by IS NULL"
            " AND id != coalesce((SELECT id FROM current_operation), 0) ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise Refused("nothing to undo")
        wanted = row[0]
    else:
        if not ref.strip().isdigit():
            raise InvalidValue(f"an operation is named by its id (see crm history), not {ref!r}")
        wanted = int(ref)
    row = conn.execute(_SELECT + " WHERE o.id = ?", (wanted,)).fetchone()
    if row is None:
        raise NotFound(f"no operation {wanted} (see crm history)")
    operation = dict(zip(FIELDS, row, strict=True))
    if operation["undone_by"] is not None:
        raise Refused(f"operation {wanted} was already undone by {operation['undone_by']}")
    return operation


def _restore(conn: sqlite3.Connection, table: str, row_id: int, image: dict | None) -> None:
    """Put a row back as `image` (None: it did not exist)."""
    if table not in HISTORY_TABLES:
        raise Refused(f"the history names an unknown table {table!r}")
    if image is None:
        conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        return
    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    image = {key: value for key, value in image.items() if key in columns}
    names = ", ".join(image)
    marks = ", ".join("?" for _ in image)
    updates = ", ".join(f"{key} = excluded.{key}" for key in image if key != "id")
    conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}",
        list(image.values()),
    )


def _delete_run(conn: sqlite3.Connection, table: str, first: int, last: int) -> None:
    """Take back a run of inserted rows."""
    if table not in HISTORY_TABLES:
        raise Refused(f"the history names an unknown table {table!r}")
    conn.execute(f"DELETE FROM {table} WHERE id BETWEEN ? AND ?", (first, last))


def describe(conn: sqlite3.Connection, detail: str) -> None:
    """Add what a command did to its operation's summary (`import x.csv: 950 contacts`)."""
    conn.execute(
        "UPDATE operations SET summary = substr(summary || ': ' || ?, 1, 200)"
        " WHERE id = (SELECT id FROM current_operation)",
        (detail,),
    )


def prune(conn: sqlite3.Connection, before: str) -> int:
    """Forget operations older than `before` (a WHEN); they can no longer be undone."""
    day = when.day(before)
    cursor = conn.execute(
        "DELETE FROM operations WHERE at < ?"
        " AND id != coalesce((SELECT id FROM current_operation), 0)",
        (day,),
    )
    return cursor.rowcount
