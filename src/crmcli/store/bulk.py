"""New records written many at a time (imports).

Written one statement at a time, every new contact costs three trigger passes
per table it touches: its search entry, its summary columns (`email`,
`phones`...) and its history image.  A Batch gathers new rows instead, and
`flush()` writes them a few statements per table (many rows each) while the triggers on
those tables are lifted, then does the triggers' work once for the whole batch:
search entries with the text the triggers' `search_*` views would give
(store.search works it out in Python, a contact's in the checking process),
history as runs of inserted ids (a row each would be three million rows for a
million contacts), and summary columns filled in as the rows are made.  The
lifting is DDL inside the caller's transaction, so a failure, a Ctrl-C or a
kill takes it back together with the rows; other connections never see the
triggers missing (WAL readers keep their snapshot).

A full batch is written as rows are added, and the triggers stay lifted for
the next one (lifting costs 60 statements).  So the caller must call
`flush()`, which writes the rest and puts the triggers back, before it writes
anything else itself, and at the end.

New deals, activities and tasks wait in the batch too, and are written after
the accounts and contacts they may link to, with their triggers on but many
rows to a statement: one statement at a time, FTS5 writes every row's index
entry out on its own (72 µs a deal; 6 µs this way).  An activity's trigger
updates its contact, whose triggers must be on then: they are put back first.

Ids are handed out when a row joins the batch (the caller holds the write
lock, so nobody else takes them), which lets later rows link to earlier ones
before they are written.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from itertools import chain

from crmcli import migrations
from crmcli.store import common, search

TABLES = ("accounts", "contacts", "contact_emails", "contact_phones")
# The triggers on TABLES whose work flush() does itself, by name prefix: a
# trigger that is none of these must be taught to flush() before it is lifted.
TRIGGER_JOBS = ("search_", "summary_", "history_", "odd_")
DEFAULT_SIZE = 5_000  # rows written together (larger gains nothing)
# Photos and logos waiting make a batch full sooner: memory follows a few of them,
# not DEFAULT_SIZE of them (up to 2 MB each).
PICTURE_BYTES = 16 << 20
PLAIN = ("deals", "activities", "tasks")  # written with their triggers, in this order
_TOUCHED_CONTACT = "summary_activities_insert"  # see Batch._write_plain
_REINDEX_CONTACT = "search_contacts_update"
_PER_STATEMENT = 64  # rows a statement inserts, at most (see _insert_values)
# With their triggers on, each statement writes the search entries it made out (FTS5).
_PLAIN_PER_STATEMENT = 512


class UnknownTrigger(RuntimeError):
    """A trigger flush() would lift without doing its work: a programming error."""


# Columns the batch gives a row besides those it is handed, in this order.
_ADDED = {
    "accounts": ("id",),
    "contacts": ("id", "account_id", "account", "email", "emails", "phone", "phones"),
    **{table: ("id",) for table in PLAIN},
}


class Batch:
    def __init__(self, conn: sqlite3.Connection):
        self.conn, self.size = conn, DEFAULT_SIZE
        # (row, the values of _ADDED's columns) for each new record
        self.rows: dict[str, list[tuple[dict, tuple]]] = {table: [] for table in _ADDED}
        self.addresses: dict[str, list[tuple]] = {"contact_emails": [], "contact_phones": []}
        self.entries: list[tuple] = []  # search rows: (rowid, kind, name, body)
        self.ids: dict[str, set[int]] = {table: set() for table in _ADDED}
        # Keys that make rows conflict (account names, e-mails), folded, still unwritten.
        self.keys: dict[str, set[str]] = {"accounts": set(), "contacts": set()}
        # Photos and logos, (owner id, media type, bytes), written after their owners,
        # with their tables' triggers on (each is logged for undo: a replaced one's
        # image is its old bytes), which keep the owner's `photo`/`logo` column.
        self.pictures: dict[str, list[tuple]] = {kind: [] for kind in migrations.PICTURES}
        self._picture_bytes = 0
        self._next: dict[str, int] = {}
        self._count = 0
        self.odd = 0  # new contacts odd_rows counts (checks.odd)
        self._lifted: list[str] | None = None  # the SQL that puts the triggers back

    def holds(self, table: str, row_id: int | None, keys=()) -> bool:
        """Whether a row with this id or one of these keys waits to be written."""
        if table not in self.ids:
            return False
        return row_id in self.ids[table] or any(key in self.keys.get(table, ()) for key in keys)

    def new_id(self, table: str) -> int:
        """The next id for `table`; AUTOINCREMENT's counter moves when the row is written."""
        if table not in self._next:
            self._next[table] = (
                1
                + self.conn.execute(
                    f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'),"
                    f" 0), coalesce((SELECT max(id) FROM {table}), 0))"
                ).fetchone()[0]
            )
        return self._next[table]

    def add_account(self, row: dict, row_id: int | None = None) -> int:
        """An account with these columns, and this id or the next."""
        account_id = self._add("accounts", row_id, row, ())
        self.entries.append((account_id * 4, "account", row["name"], search.account_text(row)))
        self.keys["accounts"].add(row["name_key"])
        self._flush_when_full()
        return account_id

    def add_contact(
        self, item, row_id: int | None, account_id: int | None, account: str | None
    ) -> int:
        """A contact checked as `item` (a checks.Checked: its columns, e-mails,
        phones, their folded keys, search text and summary columns), with this id
        or the next, linked to account `account_id` named `account`."""
        contact_id = self._add("contacts", row_id, item.row, (account_id, account, *item.summary))
        if item.odd or (account is not None and "\x00" in account):
            self.odd += 1
        self.entries.append((contact_id * 4 + 1, "contact", item.row["name"], item.text))
        self.keys["contacts"].update(item.email_keys)
        emails, phones = item.emails, item.phones
        if len(emails) == 1:  # most contacts: one e-mail, one phone
            ((label, address),) = emails
            self.addresses["contact_emails"].append(
                (contact_id, 0, address, item.email_keys[0], label)
            )
        elif emails:
            addresses = self.addresses["contact_emails"]
            for position, ((label, address), key) in enumerate(
                zip(emails, item.email_keys, strict=True)
            ):
                addresses.append((contact_id, position, address, key, label))
        if len(phones) == 1:
            ((label, number),) = phones
            self.addresses["contact_phones"].append((contact_id, 0, number, label))
        elif phones:
            numbers = self.addresses["contact_phones"]
            for position, (label, number) in enumerate(phones):
                numbers.append((contact_id, position, number, label))
        self._flush_when_full()
        return contact_id

    def add_picture(self, kind: str, owner_id: int, picture) -> None:
        """A photo (kind contacts) or logo (accounts), a store.photos.Picture, for a
        record new in this batch or stored: it replaces the one it has."""
        self.pictures[kind].append((owner_id, picture.media_type, picture.data))
        self._picture_bytes += len(picture.data)
        self._count += 1
        if self._picture_bytes >= PICTURE_BYTES:
            self._write_all()
        else:
            self._flush_when_full()

    def add_row(self, table: str, row: dict, row_id: int | None = None) -> int:
        """A deal, activity or task with these columns, and this id or the next."""
        new_id = self._add(table, row_id, row, ())
        self._flush_when_full()
        return new_id

    def _add(self, table: str, row_id: int | None, row: dict, added: tuple) -> int:
        if row_id is None:
            row_id = self.new_id(table)
        elif table not in self._next:
            self.new_id(table)
        if row_id >= self._next[table]:
            self._next[table] = row_id + 1
        self.rows[table].append((common.ordered(table, row), (row_id, *added)))
        self.ids[table].add(row_id)
        self._count += 1
        return row_id

    def _flush_when_full(self) -> None:
        if self._count >= self.size:
            self._write_all()

    def flush(self) -> None:
        """Write everything gathered, triggers' work included, and put the
        triggers back: call it before writing anything else."""
        self._write_all()
        self._put_back()

    def _write_all(self) -> None:
        if not self._count:
            return
        try:
            if self.rows["accounts"] or self.rows["contacts"] or any(self.pictures.values()):
                if self._lifted is None:
                    self._lifted = _lift(self.conn)
                self._write_lifted()
            if any(self.rows[table] for table in PLAIN):
                self._put_back()
                self._write_plain()
        except BaseException:
            # The caller rolls back, which brings the triggers back as well; they are
            # put back here only so the connection stays usable until it does.
            with contextlib.suppress(sqlite3.Error):
                self._put_back()
            raise
        for pending in (self.rows, self.addresses, self.ids, self.keys, self.pictures):
            for rows in pending.values():
                rows.clear()
        self.entries.clear()
        self._count = self._picture_bytes = self.odd = 0

    def _write_plain(self) -> None:
        """Deals, activities and tasks, their triggers on, but for the one that
        sets an activity's contact's `last_contacted`: done row by row, that
        updates (and so indexes) the contact once for each of its
        activities, rather than once a batch."""
        conn, stamp = self.conn, common.now()
        contact_ids = {row.get("contact_id") for row, _ in self.rows["activities"]} - {None}
        with _without(conn, _TOUCHED_CONTACT if contact_ids else None):
            for table in PLAIN:
                _insert_rows(conn, table, self.rows[table], stamp, _PLAIN_PER_STATEMENT)
        if contact_ids:
            # last_contacted is no part of a contact's search text (db check would
            # find the entries out of step if it were): they need no new one.
            with _without(conn, _REINDEX_CONTACT):
                conn.execute(
                    f"UPDATE contacts SET {migrations.SUMMARIES['activities']}"
                    " WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(sorted(contact_ids)),),
                )

    def _put_back(self) -> None:
        if self._lifted is not None:
            triggers, self._lifted = self._lifted, None
            _restore(self.conn, triggers)

    def _write_lifted(self) -> None:
        """The new accounts and contacts, and their triggers' work."""
        conn = self.conn
        operation = conn.execute("SELECT id FROM current_operation").fetchone()[0]
        # Address rows take ids after the largest: those above it are this batch's.
        before = {
            table: conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            for table in self.addresses
        }
        stamp = common.now()
        for table in ("accounts", "contacts"):
            _insert_rows(conn, table, self.rows[table], stamp)
        if self.odd:  # what odd_rows' triggers would have counted (migrations.ODD_TABLE)
            conn.execute(
                "UPDATE odd_rows SET rows = rows + ? WHERE tbl = ?",
                (self.odd, migrations.ODD_TABLE),
            )
        _insert_values(
            conn,
            "INSERT INTO contact_emails (contact_id, position, value, value_key, label)",
            "(?, ?, ?, ?, ?)",
            self.addresses["contact_emails"],
        )
        _insert_values(
            conn,
            "INSERT INTO contact_phones (contact_id, position, value, label)",
            "(?, ?, ?, ?)",
            self.addresses["contact_phones"],
        )
        conn.executemany(
            "INSERT INTO search (rowid, kind, name, body) VALUES (?, ?, ?, ?)", self.entries
        )
        for kind, pictures in self.pictures.items():
            conn.executemany(
                f"INSERT INTO {migrations.PICTURES[kind][0]} (id, media_type, data)"
                " VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE"
                " SET media_type = excluded.media_type, data = excluded.data",
                pictures,
            )
        if operation is None:  # not a crm command: nothing is logged
            return
        # What a trigger logs a row at a time, as runs of ids (migration m007).
        new_ids = {table: sorted([added[0] for _, added in self.rows[table]])  # [0]: the id
                   for table in ("accounts", "contacts")}  # fmt: skip
        runs = [(table, run) for table, ids in new_ids.items() for run in _runs(ids)]
        for table, last in before.items():
            runs.extend((table, run) for run in _new_runs(conn, table, last))
        conn.executemany(
            "INSERT INTO changes (operation_id, tbl, row_id, last_id) VALUES (?, ?, ?, ?)",
            [(operation, table, first, last) for table, (first, last) in runs],
        )


def _new_runs(conn: sqlite3.Connection, table: str, last: int) -> Iterator[tuple[int, int]]:
    """The runs of ids above `last` in `table`: one, unless SQLite skipped some."""
    first, final, count = conn.execute(
        f"SELECT min(id), max(id), count(*) FROM {table} WHERE id > ?", (last,)
    ).fetchone()
    if count and final - first + 1 == count:
        yield first, final
    elif count:
        found = conn.execute(f"SELECT id FROM {table} WHERE id > ? ORDER BY id", (last,))
        yield from _runs([row_id for (row_id,) in found])


def _runs(ids: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted ids as (first, last) runs of consecutive ones."""
    start = 0
    for index in range(1, len(ids) + 1):
        if index == len(ids) or ids[index] != ids[index - 1] + 1:
            yield ids[start], ids[index - 1]
            start = index


@contextlib.contextmanager
def _without(conn: sqlite3.Connection, trigger: str | None) -> Iterator[None]:
    """The block runs without this trigger (if there is one of that name)."""
    lifted = _drop(conn, _triggers(conn, "name = ?", [trigger])) if trigger else []
    try:
        yield
    except BaseException:  # the caller's rollback brings it back; this keeps conn usable
        with contextlib.suppress(sqlite3.Error):
            _restore(conn, lifted)
        raise
    _restore(conn, lifted)


def _lift(conn: sqlite3.Connection) -> list[str]:
    """Drop the triggers on TABLES; returns the SQL that creates them again."""
    found = _triggers(conn, f"tbl_name IN ({', '.join('?' for _ in TABLES)})", TABLES)
    for name, _ in found:
        if not name.startswith(TRIGGER_JOBS):
            raise UnknownTrigger(f"bulk writes do not know what trigger {name} does")
    return _drop(conn, found)


def _triggers(conn: sqlite3.Connection, where: str, params) -> list[tuple[str, str]]:
    """(name, sql) of the triggers `where` picks."""
    return conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND {where} ORDER BY name",
        params,
    ).fetchall()


def _drop(conn: sqlite3.Connection, triggers: list[tuple[str, str]]) -> list[str]:
    """Drop these triggers; returns the SQL that creates them again."""
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in triggers]


def _restore(conn: sqlite3.Connection, triggers: list[str]) -> None:
    for sql in triggers:
        conn.execute(sql)


def _insert_rows(
    conn: sqlite3.Connection,
    table: str,
    rows: list[tuple[dict, tuple]],
    stamp: str,
    per_statement: int = _PER_STATEMENT,
) -> None:
    """Rows grouped by the columns they give (they leave out those they lack),
    many rows an INSERT (_insert_values); rows that give no timestamps are stamped
    `stamp` (ours: no quote in it)."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for row, added in rows:
        groups[tuple(row)].append((*row.values(), *added))
    for given, values in groups.items():
        stamped = [column for column in ("created_at", "updated_at") if column not in given]
        columns = ", ".join((*given, *_ADDED[table], *stamped))
        one = "(" + ", ".join(["?"] * len(values[0]) + [f"'{stamp}'"] * len(stamped)) + ")"
        _insert_values(conn, f"INSERT INTO {table} ({columns})", one, values, per_statement)


def _insert_values(
    conn: sqlite3.Connection,
    head: str,
    one: str,
    values: list[tuple],
    per_statement: int = _PER_STATEMENT,
) -> None:
    """`head` VALUES `one` for each of `values`, many rows a statement: executemany
    runs the statement once a row, whose overhead is as much as a narrow row's
    insert.  Statements hold a power of two of rows, at most per_statement (and
    SQLite's limit on parameters), the rest in fewer each (45: 32, 8, 4 and 1):
    the connection keeps the statements it prepared, with their values, so a few
    sizes for a table, not one for each batch's rest (500 rows a statement and
    rests of any size took a 200,000-contact import from 135 to 243 MB)."""
    if not values:
        return
    # This SQLite's limit on a statement's parameters: 32,766 by default, lower
    # where it was built with a lower SQLITE_MAX_VARIABLE_NUMBER.
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    most = max(1, min(per_statement, limit // len(values[0])))
    start = 0
    while start < len(values):
        count = 1 << (min(most, len(values) - start).bit_length() - 1)
        part = values[start : start + count]
        conn.execute(f"{head} VALUES {', '.join([one] * count)}", [*chain(*part)])
        start += count
