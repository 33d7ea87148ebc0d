"""New accounts and contacts written many at a time (imports).

Written one statement at a time, every new contact costs three trigger passes
per table it touches: its search entry, its summary columns (`email`,
`phones`...) and its history image.  A Batch gathers new rows instead, and
`flush()` writes them with one `executemany` per table while the triggers on
those tables are lifted, then does the triggers' work once for the whole batch:
search entries with the text the triggers' `search_*` views would give
(store.search works it out in Python, a contact's in the checking process),
history as runs of inserted ids (a row each would be three million rows for a
million contacts), and summary columns filled in as the rows are made.  The
lifting is DDL inside the caller's transaction, so a failure, a Ctrl-C or a
kill takes it back together with the rows; other connections never see the
triggers missing (WAL readers keep their snapshot).

Ids are handed out when a row joins the batch (the caller holds the write
lock, so nobody else takes them), which lets later rows link to earlier ones
before they are written.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import defaultdict
from collections.abc import Iterator

from crmcli.store import common, contacts, search

TABLES = ("accounts", "contacts", "contact_emails", "contact_phones")
# The triggers on TABLES whose work flush() does itself, by name prefix: a
# trigger that is none of these must be taught to flush() before it is lifted.
TRIGGER_JOBS = ("search_", "summary_", "history_")
DEFAULT_SIZE = 5_000  # rows a batch holds before it is written (larger gains nothing)


class UnknownTrigger(RuntimeError):
    """A trigger flush() would lift without doing its work: a programming error."""


class Batch:
    def __init__(self, conn: sqlite3.Connection, size: int = DEFAULT_SIZE):
        self.conn, self.size = conn, size
        self.rows: dict[str, list[dict]] = {"accounts": [], "contacts": []}
        self.addresses: dict[str, list[tuple]] = {"contact_emails": [], "contact_phones": []}
        self.entries: list[tuple] = []  # search rows: (rowid, kind, name, body)
        self.ids: dict[str, set[int]] = {"accounts": set(), "contacts": set()}
        # Keys that make rows conflict (account names, e-mails), folded, still unwritten.
        self.keys: dict[str, set[str]] = {"accounts": set(), "contacts": set()}
        self._next: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.rows["accounts"]) + len(self.rows["contacts"])

    def holds(self, table: str, row_id: int | None, keys=()) -> bool:
        """Whether a row with this id or one of these keys waits to be written."""
        if table not in self.ids:
            return False
        return row_id in self.ids[table] or any(key in self.keys[table] for key in keys)

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

    def add_account(self, row: dict) -> int:
        account_id = self._add("accounts", row)
        self.entries.append((account_id * 4, "account", row["name"], search.account_text(row)))
        self.keys["accounts"].add(row["name_key"])
        self._flush_when_full()
        return account_id

    def add_contact(
        self, row: dict, emails: list, phones: list, account: str | None, keys: list, text: str
    ) -> int:
        """A contact with its (label, value) e-mails and phones, the addresses' folded
        `keys`, `account`, the name of its account, and `text`, its search body
        (search.contact_text).  `row` gains the summary columns the triggers would
        have filled."""
        row["email"] = emails[0][1] if emails else None
        row["emails"] = contacts.flat(emails)
        row["phone"] = phones[0][1] if phones else None
        row["phones"] = contacts.flat(phones)
        row["account"] = account
        contact_id = self._add("contacts", row)
        self.entries.append((contact_id * 4 + 1, "contact", row["name"], text))
        self.keys["contacts"].update(keys)
        addresses = self.addresses["contact_emails"]
        for position, ((label, address), key) in enumerate(zip(emails, keys, strict=True)):
            addresses.append((contact_id, position, address, key, label))
        numbers = self.addresses["contact_phones"]
        for position, (label, number) in enumerate(phones):
            numbers.append((contact_id, position, number, label))
        self._flush_when_full()
        return contact_id

    def _add(self, table: str, row: dict) -> int:
        row_id = row.setdefault("id", self.new_id(table))
        if row_id >= self._next[table]:
            self._next[table] = row_id + 1
        self.rows[table].append(row)
        self.ids[table].add(row_id)
        return row_id

    def _flush_when_full(self) -> None:
        if len(self) >= self.size:
            self.flush()

    def flush(self) -> None:
        """Write everything gathered, triggers' work included."""
        if not len(self):
            return
        triggers = _lift(self.conn)
        try:
            self._write()
        except BaseException:
            # The caller rolls back, which brings the triggers back as well; they are
            # put back here only so the connection stays usable until it does.
            with contextlib.suppress(sqlite3.Error):
                _restore(self.conn, triggers)
            raise
        _restore(self.conn, triggers)
        for pending in (self.rows, self.addresses, self.ids, self.keys):
            for rows in pending.values():
                rows.clear()
        self.entries.clear()

    def _write(self) -> None:
        conn = self.conn
        operation = conn.execute("SELECT id FROM current_operation").fetchone()[0]
        # Address rows take ids after the largest: those above it are this batch's.
        before = {
            table: conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            for table in self.addresses
        }
        stamp = common.now()
        for table, rows in self.rows.items():
            _insert_rows(conn, table, rows, stamp)
        conn.executemany(
            "INSERT INTO contact_emails (contact_id, position, value, value_key, label)"
            " VALUES (?, ?, ?, ?, ?)",
            self.addresses["contact_emails"],
        )
        conn.executemany(
            "INSERT INTO contact_phones (contact_id, position, value, label) VALUES (?, ?, ?, ?)",
            self.addresses["contact_phones"],
        )
        conn.executemany(
            "INSERT INTO search (rowid, kind, name, body) VALUES (?, ?, ?, ?)", self.entries
        )
        if operation is None:  # not a crm command: nothing is logged
            return
        # What a trigger logs a row at a time, as runs of ids (migration m007).
        new_ids = {table: sorted(row["id"] for row in rows) for table, rows in self.rows.items()}
        for table, last in before.items():
            found = conn.execute(f"SELECT id FROM {table} WHERE id > ? ORDER BY id", (last,))
            new_ids[table] = [row_id for (row_id,) in found]
        conn.executemany(
            "INSERT INTO changes (operation_id, tbl, row_id, last_id) VALUES (?, ?, ?, ?)",
            [
                (operation, table, first, last)
                for table, ids in new_ids.items()
                for first, last in _runs(ids)
            ],
        )


def _runs(ids: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted ids as (first, last) runs of consecutive ones."""
    start = 0
    for index in range(1, len(ids) + 1):
        if index == len(ids) or ids[index] != ids[index - 1] + 1:
            yield ids[start], ids[index - 1]
            start = index


def _lift(conn: sqlite3.Connection) -> list[str]:
    """Drop the triggers on TABLES; returns the SQL that creates them again."""
    marks = ", ".join("?" for _ in TABLES)
    found = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})"
        " ORDER BY name",
        TABLES,
    ).fetchall()
    for name, _ in found:
        if not name.startswith(TRIGGER_JOBS):
            raise UnknownTrigger(f"bulk writes do not know what trigger {name} does")
    for name, _ in found:
        conn.execute(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in found]


def _restore(conn: sqlite3.Connection, triggers: list[str]) -> None:
    for sql in triggers:
        conn.execute(sql)


def _insert_rows(conn: sqlite3.Connection, table: str, rows: list[dict], stamp: str) -> None:
    """One executemany per set of columns (rows leave out the fields they lack)."""
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for row in rows:
        row = {"created_at": stamp, "updated_at": stamp, **row}
        groups[tuple(row)].append(tuple(row.values()))
    for columns, values in groups.items():
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
