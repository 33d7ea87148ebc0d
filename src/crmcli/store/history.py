"""History and undo: every write command is an operation with the rows it changed.

Triggers (migrations m005, m009) log the image before of every row a command
inserts, updates or deletes (an insert has none), in the order the rows
changed; bulk imports log the rows they insert as runs of ids (m007: row_id to
last_id).  Undo writes the images back, newest change first, deletes what was
inserted and works the contacts' derived columns out again; it is itself an
operation, so it can be undone in turn.  It is refused when a later operation
still in effect changed, or links to, the same records.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from crmcli import models, when
from crmcli.errors import InvalidValue, NotFound, Refused
from crmcli.migrations import DERIVED, HISTORY_TABLES
from crmcli.store import refs

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
    operation; refuse if a later one still in effect changed or links to the same records."""
    target = _target(conn, ref)
    _refuse_inexact(conn, target)
    blocker = _blocker(conn, target["id"])
    if blocker:
        raise Refused(
            f"operation {blocker[0]} ({blocker[1]}) changed the same records since; undo it first"
        )
    conn.execute("PRAGMA defer_foreign_keys = ON")  # rows come back in any order
    # Read as undone, not all at once (an import's undo logs millions of images): the
    # rows this undo logs meanwhile belong to another operation, so none is read.
    changes = conn.execute(
        "SELECT tbl, row_id, last_id, before FROM changes WHERE operation_id = ? ORDER BY id DESC",
        (target["id"],),
    )
    reverter = _Reverter(conn)
    try:
        reverter.run(changes)
    except sqlite3.IntegrityError as exc:
        raise Refused(f"cannot undo operation {target['id']}: {exc}") from None
    current = conn.execute("SELECT id FROM current_operation").fetchone()[0]
    if current is not None:
        _check_contained(conn, target["id"], current, reverter.written)
        conn.execute(
            "UPDATE operations SET summary = ?, undoes = ? WHERE id = ?",
            (f"undo {target['id']}: {target['summary']}"[:200], target["id"], current),
        )
        conn.execute("UPDATE operations SET undone_by = ? WHERE id = ?", (current, target["id"]))
    return target


def _refuse_inexact(conn: sqlite3.Connection, target: dict) -> None:
    """An operation an older crm logged (before m009) may hold one row's images in
    the wrong order (its triggers ran after each change, newest trigger first): with
    a single image per row the order does not matter; with more it cannot be told,
    so such an undo is refused rather than put back a state that never was."""
    since = conn.execute("SELECT since FROM history_exact").fetchone()[0]
    if target["id"] >= since:
        return
    twice = conn.execute(
        "SELECT 1 FROM changes WHERE operation_id = ? AND before IS NOT NULL"
        " GROUP BY tbl, row_id HAVING count(*) > 1 LIMIT 1",
        (target["id"],),
    ).fetchone()
    if twice:
        raise Refused(
            f"operation {target['id']} ({target['summary']}) was logged by an older crm in"
            " a way that cannot be undone exactly (it changed a record twice); nothing was"
            " changed"
        )


# The later operations that changed a row the target changed.  Rows are single
# (last_id NULL) or runs (row_id..last_id): later changes within the target's
# rows, found through changes_row, and later runs (few, through changes_runs:
# CROSS JOIN makes SQLite start from them) that cover one of the target's rows.
_LATER = """later.operation_id > :target
    AND later.operation_id != coalesce((SELECT id FROM current_operation), 0)"""
_TOUCHED_SINCE = f"""
    SELECT DISTINCT operation_id FROM (
        SELECT later.operation_id FROM changes mine
        JOIN changes later ON later.tbl = mine.tbl
            AND later.row_id BETWEEN mine.row_id AND coalesce(mine.last_id, mine.row_id)
        WHERE mine.operation_id = :target AND {_LATER}
        UNION ALL
        SELECT later.operation_id FROM changes later
        CROSS JOIN changes mine ON mine.tbl = later.tbl
            AND mine.row_id BETWEEN later.row_id AND later.last_id
        WHERE later.last_id IS NOT NULL AND mine.operation_id = :target AND {_LATER})
    ORDER BY operation_id"""


def _blocker(conn: sqlite3.Connection, target: int) -> tuple[int, str] | None:
    """(id, summary) of the first later operation that changed the target's rows
    and is still in effect.  An operation and its undo since the target cancel
    out; an undo of that undo (a redo) puts the operation back in effect, so the
    chain blocks when it has an odd number of links after the target, and the
    one to undo first is its last."""

    def operation(op_id: int | None) -> tuple | None:
        if op_id is None:
            return None
        return conn.execute(
            "SELECT id, summary, undoes, undone_by FROM operations WHERE id = ?", (op_id,)
        ).fetchone()

    for (candidate,) in conn.execute(_TOUCHED_SINCE, {"target": target}).fetchall():
        last = operation(candidate)
        while last is not None and (following := operation(last[3])) is not None:
            last = following
        links, link = 0, last
        while link is not None and link[0] > target:
            links += 1
            link = operation(link[2])
        if last is not None and links % 2:
            return last[0], last[1]
    return None


def _check_contained(conn: sqlite3.Connection, target: int, undo: int, written: set) -> None:
    """Refuse an undo that reached past the target's rows (the blocker sees only
    rows both changed): one that changed another's row through a link (ON DELETE
    SET NULL or CASCADE: a later note on a contact the target added), removed a
    row another still links to, or put back a link to a row since deleted."""
    row = conn.execute(_OUTSIDE, {"target": target, "undo": undo}).fetchone()
    if row is not None:
        _refuse(conn, target, undo, *row)
    for child, column, parent, on_delete in _links(conn):
        if child in written:  # rows put back, linking to a row that is gone
            row = conn.execute(
                f"SELECT c.{column} FROM {child} c WHERE c.id IN (SELECT row_id FROM changes"
                f" WHERE operation_id = ? AND tbl = ?) AND c.{column} IS NOT NULL"
                f" AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column}) LIMIT 1",
                (undo, child),
            ).fetchone()
            if row is not None:
                _refuse(conn, target, undo, parent, row[0])
        if on_delete == "NO ACTION":  # rows removed that others still link to
            row = conn.execute(
                f"SELECT c.id FROM {child} c WHERE c.{column} IN (SELECT row_id FROM changes"
                " WHERE operation_id = ? AND tbl = ?)"
                f" AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = c.{column}) LIMIT 1",
                (undo, parent),
            ).fetchone()
            if row is not None:
                _refuse(conn, target, undo, child, row[0])


# A row the undo changed that the target did not: neither one of its single
# changes nor inside the run starting nearest below it (through changes_runs;
# left to itself, SQLite walks all the table's changes below the row).
_OUTSIDE = """
    SELECT u.tbl, u.row_id FROM changes u WHERE u.operation_id = :undo
    AND u.row_id > coalesce((SELECT t.last_id FROM changes t INDEXED BY changes_runs
        WHERE t.operation_id = :target AND t.last_id IS NOT NULL AND t.tbl = u.tbl
        AND t.row_id <= u.row_id ORDER BY t.row_id DESC LIMIT 1), 0)
    AND NOT EXISTS (SELECT 1 FROM changes t
        WHERE t.tbl = u.tbl AND t.row_id = u.row_id AND t.operation_id = :target)
    LIMIT 1"""


def _links(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """(child table, its column, parent table, ON DELETE) of every link between
    the history's tables."""
    return [
        (child, row[3], row[2], row[6].upper())
        for child in HISTORY_TABLES
        for row in conn.execute(f"PRAGMA foreign_key_list({child})")
    ]


def _refuse(conn: sqlite3.Connection, target: int, undo: int, table: str, row_id: int):
    """The latest operation (not undone) that changed the row in the way, named."""
    found = conn.execute(
        "SELECT o.id, o.summary FROM operations o WHERE o.id IN ("
        " SELECT operation_id FROM changes WHERE tbl = :tbl AND row_id = :row"
        " UNION ALL SELECT operation_id FROM changes"
        " WHERE last_id IS NOT NULL AND tbl = :tbl AND :row BETWEEN row_id AND last_id)"
        " AND o.undone_by IS NULL AND o.id NOT IN (:target, :undo) ORDER BY o.id DESC LIMIT 1",
        {"tbl": table, "row": row_id, "target": target, "undo": undo},
    ).fetchone()
    if found is None:
        raise Refused(
            f"cannot undo operation {target}: {table} row {row_id}, written outside crm,"
            " links to its records"
        )
    raise Refused(
        f"operation {found[0]} ({found[1]}) changed or linked to the same records since;"
        " undo it first"
    )


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
        wanted = refs.number(ref)
        if wanted is None:
            raise InvalidValue(f"an operation is named by its id (see crm history), not {ref!r}")
    row = conn.execute(_SELECT + " WHERE o.id = ?", (min(wanted, models.MAX_INT),)).fetchone()
    if row is None or row[0] != wanted:
        raise NotFound(f"no operation {wanted} (see crm history)")
    operation = dict(zip(FIELDS, row, strict=True))
    if operation["undone_by"] is not None:
        raise Refused(f"operation {wanted} was already undone by {operation['undone_by']}")
    return operation


class _Reverter:
    """Changes undone newest first, consecutive ones of a kind (the same table; rows
    put back, or deleted) in one statement.  A statement a row, every row's
    triggers ran on their own and FTS5 wrote each search entry out by itself:
    redoing an undone import of 100,000 contacts took 55 s (now 26)."""

    _PER_STATEMENT = 500

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.columns: dict[str, dict[str, bool]] = {}  # each table's (name: a BLOB?), asked once
        self.kind: tuple | None = None  # (table, the image's keys or None: deleted)
        self.rows: list[tuple[int, dict | None]] = []
        self.written: set[str] = set()  # tables rows were put back in

    def run(self, changes: Iterable[tuple]) -> None:
        runs: list[tuple[str, int, int]] = []
        for table, row_id, last_id, before in changes:
            if table not in HISTORY_TABLES:
                raise Refused(f"the history names an unknown table {table!r}")
            if last_id is not None:  # a run of inserted rows
                self._write()
                runs.append((table, row_id, last_id))
                continue
            self._delete(runs)
            image = json.loads(before) if before else None
            kind = (table, None if image is None else tuple(image))
            if kind != self.kind or len(self.rows) >= self._PER_STATEMENT:
                self._write()
                self.kind = kind
            self.rows.append((row_id, image))
        self._write()
        self._delete(runs)

    def _delete(self, runs: list[tuple[str, int, int]]) -> None:
        """Runs of inserted rows (an import's), one after another, deleted: contacts
        first, whose e-mails and phones go with them.  Deleted on their own, each of
        those would first update (and index) its contact."""
        runs.sort(key=lambda run: run[0] != "contacts")  # stable: the rest keep their order
        for table, first, last in runs:
            self.conn.execute(f"DELETE FROM {table} WHERE id BETWEEN ? AND ?", (first, last))
        runs.clear()

    def _write(self) -> None:
        if not self.rows:
            return
        (table, keys), rows = self.kind, self.rows
        self.rows = []
        if keys is None:  # inserted: deleted again
            self.conn.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([row_id for row_id, _ in rows]),),
            )
            return
        if table not in self.columns:
            found = self.conn.execute(f"PRAGMA table_info({table})")
            self.columns[table] = {row[1]: row[2].upper() == "BLOB" for row in found}
        columns = self.columns[table]
        names = [key for key in keys if key in columns]  # an older image's may go
        one = "(" + ", ".join("?" for _ in names) + ")"
        updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != "id")
        # Rows go in in order: where one comes back twice, the older image wins, as it
        # would one at a time.  A BLOB's image is its hex() (see migrations.history_triggers).
        self.conn.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([one] * len(rows))}"
            f" ON CONFLICT(id) DO UPDATE SET {updates}",
            [_stored(image[name], columns[name]) for _, image in rows for name in names],
        )
        self.written.add(table)
        if table in DERIVED:
            self._derive(table, [row_id for row_id, _ in rows])

    def _derive(self, table: str, ids: list[int]) -> None:
        """The derived columns of rows put back, worked out again where the image
        brought back old ones (a later note may have moved a contact's
        last_contacted, which the history does not log as a change of hers).
        What is written after them keeps them in step through the triggers; the
        rows they follow from (an account) come back before them, as links must
        have been removed before what they linked to."""
        derived = DERIVED[table]
        stale = " OR ".join(f"{column} IS NOT {value}" for column, value in derived.items())
        self.conn.execute(
            f"UPDATE {table} SET {', '.join(f'{c} = {v}' for c, v in derived.items())}"
            f" WHERE id IN (SELECT value FROM json_each(?)) AND ({stale})",
            (json.dumps(ids),),
        )


def _stored(value, blob: bool):
    """A value of an image as its column holds it: a BLOB's hex text as bytes."""
    return bytes.fromhex(value) if blob and isinstance(value, str) else value


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
