"""Records in: validate every one, then write all of them or none.

Records come checked (store.checks, without the database); the importer looks
each up, settles conflicts and writes it, new accounts and contacts in batches
(store.bulk).

Each item is (where, kind, data): `where` names it in messages (`line 12`),
`kind` is accounts/contacts/deals/activities/tasks and `data` maps SPEC's field
names to values, from our JSON export or from a CSV row already mapped to those
names (lists may then be `a;b` text).  Items are written in the order given;
links (`account_id`, `parent_id`...) follow ids remapped on the way, and names
(`account`) are looked up or, for a company column, created.

A record conflicts with one already stored when its id is taken, or for an
account its name, for a contact one of its e-mails.  On conflict: `error`
rejects the whole import and lists them, `skip` keeps the stored record,
`update` fills and overwrites it from the file (e-mails, phones and tags merged).

With skip_invalid, a record that cannot be written (a value refused, a conflict
under `error`, a link to nothing) is left out and counted in `Report.rejected`
with its reason; every other record is written, in the same transaction.  A
record is refused before anything of it is written (an update that fails half
way is undone by its own savepoint), so nothing of a rejected record stays.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import re
import sqlite3
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from crmcli import models
from crmcli.errors import CrmError, InvalidValue, Refused
from crmcli.store import bulk, common, contacts, details, persons, refs
from crmcli.store.checks import Checked, picture_bytes
from crmcli.words import counted

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
_SHOWN = 20  # problems listed before the rest are counted
PREVIEW = 5  # records a dry run shows as they would be stored
_CHUNK = 500  # records whose e-mails are looked up together
_CHUNK_BYTES = 1 << 20  # or fewer, when their photos come to this many bytes
_IMPORT_CACHE = -65536  # page cache while importing: 64 MB (SQLite reads a negative size as KiB)
_HELD = 20_000  # entries a _Spilled keeps in memory before moving them to its table
_CACHED = 200_000  # accounts whose name, id or person an import keeps at most (~50 MB)
# Link columns a record may give (store.checks), and the table each names.
_LINKED = {"account_id": "accounts", "parent_id": "accounts",
           "person_account_id": "accounts", "contact_id": "contacts",
           "person_contact_id": "contacts", "deal_id": "deals"}  # fmt: skip
_ONE = {"accounts": "account", "contacts": "contact", "deals": "deal",
        "activities": "activity", "tasks": "task"}  # fmt: skip


@dataclass
class Report:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    merged: Counter = field(default_factory=Counter)  # rows of one file merged into another
    problems: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why), skip_invalid
    written: list[tuple[str, int]] = field(default_factory=list)  # the first few (kind, id)
    preview: list[dict] = field(default_factory=list)  # a dry run: those records as stored

    def summary(self) -> str:
        parts = [
            f"{count:,} {kind if count != 1 else _ONE[kind]}"
            for kind in KINDS
            if (count := self.created[kind])
        ]
        text = "imported " + (", ".join(parts) or "nothing")
        if merged := sum(self.merged.values()):
            text += (" (1 row merged into another)" if merged == 1
                     else f" ({merged:,} rows merged into others)")  # fmt: skip
        for verb, counter in (("updated", self.updated), ("skipped", self.skipped)):
            if sum(counter.values()):
                text += f", {verb} {sum(counter.values()):,}"
        if self.rejected:
            text += f", rejected {len(self.rejected):,}"
        return text


class _Importer:
    def __init__(self, conn: sqlite3.Connection, on_conflict: str, merge_repeats: bool = False,
                 skip_invalid: bool = False):  # fmt: skip
        self.conn, self.on_conflict = conn, on_conflict
        self.merge_repeats = merge_repeats  # see import_records
        self.skip_invalid = skip_invalid
        self.undoable = False  # a savepoint holds the item being written (see _write)
        self.report = Report()
        # What an import learns record by record is kept in _Spilled maps, whose
        # entries move to temporary tables as they grow: memory stays flat.
        # file id -> ours, for a record not stored under its own id (see _remap).
        self.ids = {kind: _Spilled(conn) for kind in KINDS}
        self.parents: list[tuple[str, int, Checked]] = []  # (where, account id, its item)
        # New records wait in the batch (store.bulk); updates are written at once,
        # after what waits there (they may link to it).
        self.batch = bulk.Batch(conn)
        self.companies: dict[str, int] = {}  # folded account name -> id, as found
        self.no_company: set[str] = set()  # folded names of no stored account (see _look_up)
        self.account_names: dict[int, str] = {}
        self.by_kind = {kind: getattr(self, f"_{kind}") for kind in KINDS}
        self.where = ""  # the item being written
        self.origins = {kind: _Origins() for kind in KINDS}  # what each new record came from
        # A vCard UID (custom field uid) -> the record this import made or matched first.
        self.fresh_uids = {kind: _Spilled(conn, first=True) for kind in ("accounts", "contacts")}
        # Stored contacts this import updated or skipped (merge_repeats): a later row
        # of the same person is merged into what the first made of it (id -> 1).
        self.touched = _Spilled(conn)
        # Person accounts (store.persons), bound once every record is written: a
        # contact naming its account, a person an account record held, an account
        # of kind person with neither.
        self.binds: list[tuple[str, int, Checked]] = []
        self.people: list[tuple[str, int, Checked]] = []
        self.person_accounts: list[tuple[str, int]] = []
        self.account_persons: dict[int, int | None] = {}

    # -- the driver ---------------------------------------------------------------
    def run(self, items: Iterable[tuple[str, str, Checked | str]]) -> Report:
        for chunk in _chunks(items, _CHUNK):
            for spilled in self._spilled():
                spilled.spill()  # between records: no record's savepoint holds it
            self._look_up(chunk)
            for where, kind, item in chunk:
                if isinstance(item, str):
                    self._problem(where, item)
                    continue
                self.where = where
                try:
                    self.by_kind[kind](item)
                except CrmError as exc:
                    self._undo_item()
                    self._problem(where, exc.message)
                except sqlite3.IntegrityError as exc:  # e.g. renamed onto another's name
                    self._undo_item()
                    self._problem(where, f"clashes with a stored record ({exc})")
                else:
                    if self.undoable:
                        self.conn.execute("RELEASE record")
                        self.undoable = False
        self.batch.flush()
        self._link_parents()
        self._persons()
        return self.report

    def _look_up(self, chunk: list[tuple]) -> None:
        """What the chunk's records name that may be stored, a query per kind of
        thing rather than one a record.  A record's id is taken if it was stored
        (`stored_ids`), has been made since (`fresh_ids`) or waits in the batch;
        a contact none of whose e-mails are stored, nor added since
        (`fresh_emails`), nor wait in the batch, can conflict with no stored
        contact; a company column naming no stored account (`no_company`) makes
        one."""
        if max(map(len, (self.companies, self.account_names, self.account_persons))) > _CACHED:
            # What they name waits no more to be written: the database finds it again.
            self.batch.flush()
            for cache in (self.companies, self.account_names, self.account_persons):
                cache.clear()
        items = [item for _, _, item in chunk if not isinstance(item, str)]
        keys = [key for item in items for key in item.email_keys]
        found = self.conn.execute(
            "SELECT value_key FROM contact_emails"
            " WHERE value_key IN (SELECT value FROM json_each(?))",
            (json.dumps(keys),),
        )
        self.stored_emails = {row[0] for row in found}
        self.fresh_emails: set[str] = set()
        ids: dict[str, list[int]] = {kind: [] for kind in KINDS}
        for _, kind, item in chunk:
            if not isinstance(item, str):
                if item.file_id is not None:
                    ids[kind].append(item.file_id)
                if item.links:  # see _link
                    for key, target in item.links.items():
                        if key in _LINKED:
                            ids[_LINKED[key]].append(target)
        self.stored_ids = {
            kind: {row[0] for row in self.conn.execute(
                f"SELECT id FROM {kind} WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            )} if wanted else set()
            for kind, wanted in ids.items()
        }  # fmt: skip
        self.fresh_ids: dict[str, set[int]] = {kind: set() for kind in KINDS}
        names = {item.account[1] for item in items
                 if item.account is not None and item.account[1] not in self.companies}  # fmt: skip
        found = self.conn.execute(
            "SELECT name_key, id, name FROM accounts"
            " WHERE name_key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(names)),),
        )
        for key, account_id, name in found:  # the name a contact's row keeps (_account_name)
            self.companies[key] = account_id
            self.account_names.setdefault(account_id, name)
        self.no_company = names.difference(self.companies)
        if linked := [row_id for row_id in self.stored_ids["accounts"]
                      if row_id not in self.account_names]:  # fmt: skip
            self.account_names.update(self.conn.execute(
                "SELECT id, name FROM accounts WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(linked),),
            ))  # fmt: skip
        # kind -> stored source_id -> [(our id, the column that gave it)]; kind ->
        # stored UID (a vCard's, custom field uid) -> our id.
        self.sources: dict[str, dict[str, list[tuple[int, str | None]]]] = {}
        self.uids: dict[str, dict[str, int]] = {}
        for kind in ("accounts", "contacts"):
            wanted = [source[0] for _, what, item in chunk if what == kind
                      and not isinstance(item, str) and (source := _source_id(item))]  # fmt: skip
            self.sources[kind] = {}
            for source, row_id, column in self.conn.execute(
                f"SELECT json_extract(fields, '$.source_id'), id,"
                f" json_extract(fields, '$.source_id_column') FROM {kind}"
                " WHERE json_extract(fields, '$.source_id') IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            ) if wanted else ():  # fmt: skip
                self.sources[kind].setdefault(source, []).append((row_id, column))
            wanted = [uid for _, what, item in chunk if what == kind
                      and not isinstance(item, str) and (uid := _field(item, "uid"))]  # fmt: skip
            self.uids[kind] = dict(self.conn.execute(
                f"SELECT json_extract(fields, '$.uid'), id FROM {kind}"
                " WHERE json_extract(fields, '$.uid') IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            )) if wanted else {}  # fmt: skip

    def drop(self) -> None:
        """Drop the temporary tables the import's maps spilled into (see _Spilled)."""
        for spilled in self._spilled():
            spilled.drop()

    def _spilled(self) -> Iterator[_Spilled]:
        yield from self.ids.values()
        yield from self.fresh_uids.values()
        yield self.touched

    def _problem(self, where: str, message: str) -> None:
        if self.skip_invalid:
            self.report.rejected.append((where, message))
        else:
            self.report.problems.append(f"{where}: {message}")

    def _hold(self) -> None:
        """Skipping invalid records, before writing one straight into the database
        (an update, a repeat merged), when all that waits in the batch is written:
        what follows may fail half way (see _undo_item)."""
        if self.skip_invalid:
            self.conn.execute("SAVEPOINT record")
            self.undoable = True
            report = self.report
            self.counted = (report.updated.copy(), report.merged.copy(), len(report.written))

    def _undo_item(self) -> None:
        """Skipping a record that failed half way: take back what of it was written,
        and its counts."""
        if self.undoable:
            self.conn.execute("ROLLBACK TO record")
            self.conn.execute("RELEASE record")
            self.report.updated, self.report.merged, written = self.counted
            del self.report.written[written:]
            self.undoable = False

    # -- kinds --------------------------------------------------------------------
    def _accounts(self, item: Checked) -> None:
        key = item.row["name_key"]
        existing = self._from_uid("accounts", item)
        if existing is None:
            existing = self._from_source("accounts", item)
        if existing is None:
            sql = "SELECT id FROM accounts WHERE name_key = ?"
            existing = self._existing("accounts", item, [key], sql, key)
        row = item.row
        if existing is not None and self.on_conflict == "update":
            # An update keeps the account's kind: crm account convert changes it, by its
            # rules (else a person account without its person, or a business one with one).
            kind = self.conn.execute("SELECT kind FROM accounts WHERE id = ?", (existing,))
            row = {**row, "kind": kind.fetchone()[0]}
        account_id = self._write("accounts", item, row, existing)
        if existing is not None and item.person is not None and self.on_conflict == "update":
            self._update_person(existing, item.person)
        if existing is None and item.row.get("kind") == "person":
            if item.person is not None:
                self.people.append((self.where, account_id, item.person))
            elif item.links.get("person_contact_id") is None:  # else its person binds it
                self.person_accounts.append((self.where, account_id))
        self._fresh_uid("accounts", item, account_id)
        self._picture("accounts", item, account_id, existing)
        if item.links.get("parent_id") is not None or item.parent is not None:
            self.parents.append((f"account {item.row['name']!r}", account_id, item))

    def _contacts(self, item: Checked) -> None:
        existing = self._existing_contact(item)
        # The same person twice in another program's file: one contact, when the
        # names agree (see _same_person); else a conflict, whatever --on-conflict.
        repeat = (existing is not None and self.merge_repeats and item.file_id is None
                  and (self.touched.get(existing) is not None
                       or self.origins["contacts"].get(existing) is not None))  # fmt: skip
        merging = repeat and self._same_person(existing, item)
        if repeat and not merging and self.on_conflict != "skip":
            raise Refused(self._conflict("contacts", item, existing))
        if not merging:  # the conflict first: a record refused leaves no account it named
            self._refused_conflict("contacts", item, existing)
        if merging and self.on_conflict == "skip" and self.touched.get(existing) is not None:
            self.report.merged["contacts"] += 1  # a repeat of a stored record kept as it is
            return
        account = self._account(item)
        if account is not None and self._person_of(account) not in (None, existing):
            persons.refuse_member(self.conn, account, existing)
        if existing is None:
            name = self._account_name(account)
            new_id = self.batch.add_contact(item, item.file_id, account, name)
            if item.links.get("person_account_id") is not None:
                self.binds.append((self.where, new_id, item))
            self.fresh_emails.update(item.email_keys)
            self._created("contacts", item, new_id)
            self._fresh_uid("contacts", item, new_id)
            self._picture("contacts", item, new_id, None)
            return
        row = item.row if account is None else {**item.row, "account_id": account}
        if merging:
            self.batch.flush()
            self._hold()
            self._fill("contacts", existing, row)
            self.report.merged["contacts"] += 1
            contact_id = existing
        else:
            contact_id = self._write("contacts", item, row, existing)
            if self.merge_repeats and item.file_id is None:
                self.touched.set(contact_id, 1)
        # A repeat's photo as an update's: the later one (skip keeps the stored).
        self._picture("contacts", item, contact_id, None if merging else existing)
        if self.on_conflict == "update" or merging:
            contacts.check_emails_free(self.conn, item.emails, contact_id)
            contacts.add_emails(self.conn, contact_id, item.emails)
            self.fresh_emails.update(item.email_keys)
            contacts.add_phones(self.conn, contact_id, item.phones)

    def _picture(self, kind: str, item: Checked, owner_id: int, existing: int | None) -> None:
        """A record's photo (logo), if it brings one: for a new record, or replacing
        the stored one's with --on-conflict update (skip keeps it)."""
        if item.picture is not None and (existing is None or self.on_conflict == "update"):
            self.batch.add_picture(kind, owner_id, item.picture)

    def _deals(self, item: Checked) -> None:
        row = {**item.row, **self._links(item, ("contact_id", "contacts"))}
        existing = self._refused_conflict("deals", item, self._existing("deals", item))
        if (account := self._account(item)) is not None:
            row["account_id"] = account
        self._write("deals", item, row, existing)

    def _activities(self, item: Checked) -> None:
        self._linked("activities", item)

    def _tasks(self, item: Checked) -> None:
        self._linked("tasks", item)

    def _linked(self, table: str, item: Checked) -> None:
        links = self._links(
            item, ("account_id", "accounts"), ("contact_id", "contacts"), ("deal_id", "deals")
        )
        row = {**item.row, **links}
        self._write(table, item, row, self._existing(table, item))

    # -- conflicts and writing ------------------------------------------------------
    def _existing(
        self, table: str, item: Checked, keys: list[str] = (), sql: str | None = None, *params
    ) -> int | None:
        """The stored record this one conflicts with: same id, or same natural key
        (`keys`, folded, found by `sql`; rows waiting in the batch with one of
        them are written first, so that they are found as well)."""
        file_id = item.file_id
        if file_id is not None and (
            file_id in self.stored_ids[table]
            or file_id in self.fresh_ids[table]
            or self.batch.holds(table, file_id)
        ):
            return file_id  # see _look_up
        if keys and self.batch.holds(table, None, keys):
            self.batch.flush()
        if sql is not None:
            row = self.conn.execute(sql, params).fetchone()
            if row:
                return row[0]
        return None

    def _from_source(self, table: str, item: Checked) -> int | None:
        """The stored record with this one's source_id (another program's id for it),
        when it has one: the same source imported again.  An id means something only
        in its source: the stored record's came from the same column (`record id`,
        custom field source_id_column), and it agrees with this one on an e-mail, the
        name or a phone; else they are two records (two programs' `ID` 1 are not
        one person)."""
        source = _source_id(item) if item.file_id is None else None
        if not source:
            return None
        for row_id, column in self.sources[table].get(source[0], ()):
            if column == source[1] and self._agrees(table, row_id, item):
                return row_id
        return None

    def _agrees(self, table: str, row_id: int, item: Checked) -> bool:
        """Whether a stored record and an item share the folded name, an e-mail or a
        phone (its digits)."""
        self.batch.flush()
        row = item.row
        if table == "accounts":
            stored = self.conn.execute(
                "SELECT name_key, email, phone FROM accounts WHERE id = ?", (row_id,)
            ).fetchone()
            return stored[0] == row["name_key"] or any(
                value is not None and _same_value(value, row.get(key), key == "phone")
                for key, value in (("email", stored[1]), ("phone", stored[2]))
            )
        if self.conn.execute(
            "SELECT 1 FROM contacts WHERE id = ? AND name_key = ?", (row_id, row["name_key"])
        ).fetchone() or self.conn.execute(
            "SELECT 1 FROM contact_emails WHERE contact_id = ?"
            " AND value_key IN (SELECT value FROM json_each(?))",
            (row_id, json.dumps(list(item.email_keys))),
        ).fetchone():
            return True
        mine = {_digits(number) for _, number in item.phones} - {""}
        return bool(mine) and any(_digits(value) in mine for (value,) in self.conn.execute(
            "SELECT value FROM contact_phones WHERE contact_id = ?", (row_id,)
        ))  # fmt: skip

    def _from_uid(self, table: str, item: Checked) -> int | None:
        """The record with this one's vCard UID (custom field uid): stored, or made by
        this import."""
        if item.file_id is not None or not (uid := _field(item, "uid")):
            return None
        found = self.uids[table].get(uid)
        return found if found is not None else self.fresh_uids[table].get(uid)

    def _fresh_uid(self, table: str, item: Checked, row_id: int) -> None:
        if uid := _field(item, "uid"):
            self.fresh_uids[table].set(uid, row_id)

    def _same_person(self, existing: int, item: Checked) -> bool:
        """Whether a later row of another program's file names the person an
        earlier one did: the same folded name, or one of them has no name of its
        own (named by its e-mail, phone or company), or one name's words are all in
        the other's (`Ann` and `Ann Lee`), or the first words begin alike and the
        rest of one are in the other's (`Annie` and `Ann Lee`, `Jo Smith` and
        `John Smith`)."""
        self.batch.flush()
        key, account = self.conn.execute(
            "SELECT c.name_key, a.name FROM contacts c"
            " LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = ?", (existing,)
        ).fetchone()
        values = [value for (value,) in self.conn.execute(
            "SELECT value FROM contact_emails WHERE contact_id = ? UNION ALL"
            " SELECT value FROM contact_phones WHERE contact_id = ?", (existing, existing)
        )]  # fmt: skip
        stored = _own_name(key, [*values, account])
        given = _own_name(item.row["name_key"], [
            *(address for _, address in item.emails), *(number for _, number in item.phones),
            item.account[0] if item.account else None])  # fmt: skip
        if stored is None or given is None or set(stored) <= set(given) or set(given) <= set(
            stored
        ):
            return True
        rest, other = set(stored[1:]), set(given[1:])
        return (stored[0].startswith(given[0]) or given[0].startswith(stored[0])) and (
            rest <= other or other <= rest
        )

    def _existing_contact(self, item: Checked) -> int | None:
        if (found := self._from_uid("contacts", item)) is not None:
            return found
        if (found := self._from_source("contacts", item)) is not None:
            return found
        stored, fresh, pending = self.stored_emails, self.fresh_emails, self.batch.keys["contacts"]
        keys = [key for key in item.email_keys
                if key in stored or key in fresh or key in pending]  # fmt: skip
        if item.file_id is None and not keys:
            return None  # see _look_up
        found = self._existing("contacts", item, keys)
        for key in keys:
            if found is not None:
                break
            row = self.conn.execute(
                "SELECT contact_id FROM contact_emails WHERE value_key = ?", (key,)
            ).fetchone()
            found = row[0] if row else None
        return found

    def _refused_conflict(self, table: str, item: Checked, existing: int | None) -> int | None:
        if existing is not None and self.on_conflict == "error":
            raise Refused(self._conflict(table, item, existing))
        return existing

    def _write(self, table: str, item: Checked, row: dict, existing: int | None) -> int:
        """Insert, or settle a conflict; returns our id for the record."""
        if existing is None:
            if table == "accounts":
                new_id = self._new_account(row, item.file_id)
            else:
                new_id = self.batch.add_row(table, row, item.file_id)
            self._created(table, item, new_id)
            return new_id
        if self.on_conflict == "error":
            raise Refused(self._conflict(table, item, existing))
        if self.on_conflict == "skip":
            self.report.skipped[table] += 1
        else:
            self.batch.flush()
            self._hold()
            self._update(table, existing, row)
            self.report.updated[table] += 1
            self._note(table, existing)
        self._remap(table, item, existing)
        return existing

    def _conflict(self, table: str, item: Checked, existing: int) -> str:
        """What a record clashes with: one stored before, or one of this file."""
        listed = len(self.report.problems) + len(self.report.rejected)
        origin = self.origins[table].get(existing) if listed < _SHOWN else None
        if origin is None:
            return f"conflicts with {table[:-1]} {existing} already stored"
        if item.file_id == existing:
            return f"id {existing} is taken by {origin}"
        uids = self.fresh_uids.get(table)
        if (uid := _field(item, "uid")) and uids is not None and uids.get(uid) == existing:
            return f"the same UID as {origin}"
        return f"the same {'name' if table == 'accounts' else 'e-mail'} as {origin}"

    def _created(self, table: str, item: Checked, new_id: int) -> None:
        self.report.created[table] += 1
        self._note(table, new_id)
        self.origins[table].add(new_id, self.where)
        self.fresh_ids[table].add(new_id)
        if item.file_id is not None:
            self._remap(table, item, new_id)

    def _remap(self, table: str, item: Checked, row_id: int) -> None:
        """Note our id for the record's file id, if it has one: only one that differs
        is kept (most keep theirs); a link to any other id is found stored (_link)."""
        if item.file_id is not None:
            self.ids[table].set(item.file_id, None if row_id == item.file_id else row_id)

    def _note(self, table: str, row_id: int) -> None:
        """The first records written, in the file's order, for a dry run's preview."""
        if len(self.report.written) < PREVIEW:
            self.report.written.append((table, row_id))

    def _update(self, table: str, existing: int, row: dict) -> None:
        """Fill and overwrite a stored record from the file; tags and fields merged."""
        current = self.conn.execute(
            f"SELECT tags, fields FROM {table} WHERE id = ?", (existing,)
        ).fetchone()
        merged = dict(row)
        tags = json.loads(current[0]) + json.loads(row["tags"])  # both checked before
        merged["tags"] = common.dump(models.tags([], stored=tags))
        merged["fields"] = common.dump({**json.loads(current[1]), **json.loads(row["fields"])})
        merged.update(_merged_lists(self.conn, table, existing, row))
        merged = {key: value for key, value in merged.items()
                  if value is not None and key not in ("created_at",)}  # fmt: skip
        common.update(self.conn, table, existing, merged)
        if table == "accounts":  # it may have been renamed
            self.companies.clear()
            self.no_company.clear()
            self.account_names.pop(existing, None)

    def _fill(self, table: str, existing: int, row: dict) -> None:
        """A later row of the same record in one file: it fills what the first left
        empty (the first row's values stay), tags and custom fields are added; a
        record named only by what it has (no name parts) takes the later names."""
        columns = [key for key in row if key not in ("created_at", "updated_at")]
        current = dict(zip(columns, self.conn.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE id = ?", (existing,)
        ).fetchone(), strict=True))  # fmt: skip
        names = ("name", "name_key", "name_given", "first_name", "last_name")
        unnamed = all(current.get(key) is None for key in names[3:] if key in current)
        lists = contacts.LISTS if table == "contacts" else {}
        filled = {key: value for key, value in row.items()
                  if key in current and value is not None and key not in ("tags", "fields")
                  and key not in lists
                  and (current[key] is None or (unnamed and key in names))}  # fmt: skip
        for key, compared in lists.items():  # the first's items first: its primary address
            if key in row and row[key] not in (None, "[]"):
                first, later = json.loads(current[key] or "[]"), json.loads(row[key])
                filled[key] = common.dump(details.union(first, later, compared, key))
        tags = json.loads(current["tags"]) + json.loads(row["tags"])
        filled["tags"] = common.dump(models.tags([], stored=tags))
        fields = {**json.loads(row["fields"]), **json.loads(current["fields"])}  # the first's win
        filled["fields"] = common.dump(fields)
        common.update(self.conn, table, existing, filled)

    def _link(self, item: Checked, key: str, table: str) -> int | None:
        """Our id for a link in the file: remapped, or an id we already have."""
        file_id = item.links.get(key)
        if file_id is None:
            return None
        if (ours := self.ids[table].get(file_id)) is not None:
            return ours
        if file_id in self.stored_ids[table] or file_id in self.fresh_ids[table] or (
            self.batch.holds(table, file_id)
        ) or self.conn.execute(
            f"SELECT 1 FROM {table} WHERE id = ?", (file_id,)
        ).fetchone():
            return file_id
        raise InvalidValue(f"{key} {file_id} matches no {table[:-1]}")

    def _account(self, item: Checked) -> int | None:
        """The account by id, else by name (a company column), created when missing.

        A CSV from another database carries ids that mean nothing here: its
        account names still do.
        """
        try:
            found = self._link(item, "account_id", "accounts")
        except InvalidValue:
            if item.account is None:
                raise
            found = None
        return found if found is not None else self._company(item.account)

    def _links(self, item: Checked, *pairs: tuple[str, str]) -> dict:
        return {
            key: value
            for key, table in pairs
            if (value := self._link(item, key, table)) is not None
        }

    def _company(self, account: tuple[str, str] | None) -> int | None:
        """A company column: the account of that name, created when missing."""
        if account is None:
            return None
        name, key = account
        if key not in self.companies:
            row = None if key in self.no_company else self.conn.execute(
                "SELECT id FROM accounts WHERE name_key = ?", (key,)
            ).fetchone()
            if row is None:
                self._new_account({"name": name, "name_key": key, "kind": "business"})
                self.report.created["accounts"] += 1
            else:
                self.companies[key] = row[0]
        return self.companies[key]

    def _new_account(self, row: dict, file_id: int | None = None) -> int:
        account_id = self.batch.add_account(row, file_id)
        self.fresh_ids["accounts"].add(account_id)
        self.companies[row["name_key"]] = account_id
        self.account_names[account_id] = row["name"]
        return account_id

    def _account_name(self, account_id: int | None) -> str | None:
        """The name kept on a contact's row for its account."""
        if account_id is None:
            return None
        if account_id not in self.account_names:
            self.batch.flush()
            row = self.conn.execute("SELECT name FROM accounts WHERE id = ?", (account_id,))
            self.account_names[account_id] = row.fetchone()[0]
        return self.account_names[account_id]

    def _persons(self) -> None:
        """Bind person accounts to their persons (see __init__); a problem is reported."""
        bound: set[int] = set()
        for where, contact_id, item in self.binds:
            self._person(where, bound, self._named_person, contact_id, item)
        for where, account_id, person in self.people:
            self._person(where, bound, lambda a, p: (self._new_person(a, p), a), account_id, person)
        for where, account_id in self.person_accounts:
            if account_id not in bound and persons.person_of(self.conn, account_id) is None:
                self._person(where, bound, lambda a: (persons.make_person(self.conn, a), a),
                             account_id)  # fmt: skip

    def _person(self, where: str, bound: set[int], make, *args) -> None:
        """make(*args) gives (contact id, account id) to bind; a problem leaves neither."""
        self.conn.execute("SAVEPOINT person")
        try:
            contact_id, account_id = make(*args)
            persons.bind(self.conn, contact_id, account_id)
            bound.add(account_id)
        except CrmError as exc:
            self.conn.execute("ROLLBACK TO person")
            self.report.problems.append(f"{where}: {exc.message}")
        self.conn.execute("RELEASE person")

    def _person_of(self, account_id: int) -> int | None:
        """The stored person of an account (person_of, asked once an account)."""
        if account_id not in self.account_persons:
            self.account_persons[account_id] = persons.person_of(self.conn, account_id)
        return self.account_persons[account_id]

    def _named_person(self, contact_id: int, item: Checked) -> tuple[int, int]:
        return contact_id, self._link(item, "person_account_id", "accounts")

    def _update_person(self, account_id: int, person: Checked) -> None:
        """An update of a stored person account updates its person (the account's
        name, e-mail, phone and address follow it), as a contact's update would."""
        contact_id = persons.person_of(self.conn, account_id)
        if contact_id is None:
            return
        self._update("contacts", contact_id, {**person.row, "account_id": account_id})
        contacts.check_emails_free(self.conn, person.emails, contact_id)
        contacts.add_emails(self.conn, contact_id, person.emails)
        contacts.add_phones(self.conn, contact_id, person.phones)

    def _new_person(self, account_id: int, person: Checked) -> int:
        contacts.check_emails_free(self.conn, person.emails, None)
        contact_id = common.insert(self.conn, "contacts", {**person.row, "account_id": account_id})
        contacts.add_emails(self.conn, contact_id, person.emails)
        contacts.add_phones(self.conn, contact_id, person.phones)
        self.report.created["contacts"] += 1
        return contact_id

    def _link_parents(self) -> None:
        for where, account_id, item in self.parents:
            try:
                parent = (
                    self._link(item, "parent_id", "accounts")
                    if item.links.get("parent_id") is not None
                    else refs.account_id(self.conn, item.parent)
                )
                persons.refuse_child(self.conn, parent)
                self.conn.execute(
                    "UPDATE accounts SET parent_id = ? WHERE id = ?", (parent, account_id)
                )
            except CrmError as exc:  # not a record of the file to leave out: refused
                self.report.problems.append(f"{where}: {exc.message}")


def _merged_lists(conn: sqlite3.Connection, table: str, existing: int, row: dict) -> dict:
    """The list columns of a record updated from the file: the file's items first
    (its first address becomes the primary one), then the stored ones it lacks; a
    list the file leaves empty stays as stored."""
    lists = contacts.LISTS if table == "contacts" else {"vcard": lambda line: line}
    given = [key for key in lists if row.get(key, "[]") != "[]"]
    if table not in ("contacts", "accounts") or not given:
        return {key: None for key in lists if key in row}  # None: not written
    stored = conn.execute(
        f"SELECT {', '.join(given)} FROM {table} WHERE id = ?", (existing,)
    ).fetchone()
    merged: dict = {key: None for key in lists if key in row}
    for key, old in zip(given, stored, strict=True):
        new = details.union(json.loads(row[key]), json.loads(old), lists[key], key)
        merged[key] = common.dump(new)
    return merged


class _Spilled:
    """A map an import fills record by record (key -> our id; a key is an int or a
    str): held in a dict until it has _HELD entries, then moved to a temporary table
    (SQLite's temp file, with its own 2 MB page cache) and looked up there, by its
    primary key.  `spill` moves them, between chunks: never inside a record's
    savepoint, whose undo would take them back.  With `first`, a key keeps the
    first value it was given (a later set is ignored); else the latest, and None
    removes it."""

    _made = 0  # tables made in this process: each map's own name

    def __init__(self, conn: sqlite3.Connection, first: bool = False):
        self.conn, self.first = conn, first
        self.held: dict = {}
        self.table: str | None = None  # once entries were moved

    def get(self, key) -> int | None:
        if not self.first and key in self.held:
            return self.held[key]
        if self.table is not None:
            row = self.conn.execute(
                f"SELECT value FROM temp.{self.table} WHERE key = ?", (key,)
            ).fetchone()
            if row is not None:  # with `first`, older than what is held
                return row[0]
        return self.held.get(key)

    def set(self, key, value: int | None) -> None:
        if self.first:
            self.held.setdefault(key, value)
        elif value is not None or self.table is not None or key in self.held:
            self.held[key] = value  # None: removed (from the table too, when spilled)

    def spill(self) -> None:
        if len(self.held) < _HELD:
            return
        if self.table is None:
            _Spilled._made += 1
            self.table = f"crm_import_{_Spilled._made}"
            self.conn.execute(
                f"CREATE TEMP TABLE {self.table} (key PRIMARY KEY, value INTEGER) WITHOUT ROWID"
            )
        verb = "INSERT OR IGNORE" if self.first else "INSERT OR REPLACE"
        self.conn.executemany(
            f"{verb} INTO temp.{self.table} VALUES (?, ?)",
            [entry for entry in self.held.items() if entry[1] is not None],
        )
        if not self.first:
            self.conn.executemany(
                f"DELETE FROM temp.{self.table} WHERE key = ?",
                [(key,) for key, value in self.held.items() if value is None],
            )
        self.held.clear()

    def drop(self) -> None:
        if self.table is not None:  # gone already if the import was rolled back
            self.conn.execute(f"DROP TABLE IF EXISTS temp.{self.table}")
            self.table = None


class _Origins:
    """Where in the file each record an import made came from (`line 2`, `card 3
    (line 20)`), for the message of a later record that clashes with it.  The
    places of one file have one shape, text around a few numbers: the numbers are
    kept in arrays, 8 bytes each a record, ids too (a dict of the texts would take
    some 150 MB for a million)."""

    def __init__(self) -> None:
        self.shape: tuple[str, ...] | None = None  # ("line ", ""), ("card ", " (line ", ")")
        self.prefix: str | None = None  # the shape's text, when a number ends it
        self.ids = array("q")
        self.numbers: list[array] = []  # one array a number of the shape
        self.ordered = True  # ids in increasing order (new ids are): bisect finds them
        self.others: dict[int, str] = {}

    def add(self, row_id: int, where: str) -> None:
        digits = where[where.rfind(" ") + 1 :].lstrip("#")
        if digits.isascii() and digits.isdigit() and len(digits) < 19:  # `line 12`: fast
            prefix = where[: len(where) - len(digits)]
            if prefix != self.prefix and not self._shaped((prefix, "")):
                self.others[row_id] = where
                return
            self.numbers[0].append(int(digits))
        else:
            texts = _NUMBER.split(where)
            numbers = _NUMBER.findall(where)
            if not numbers or not self._shaped(tuple(texts)) or any(
                len(number) > 18 or (number[0] == "0" and number != "0") for number in numbers
            ):  # fmt: skip
                self.others[row_id] = where
                return
            for kept, number in zip(self.numbers, numbers, strict=True):
                kept.append(int(number))
        if self.ids and row_id < self.ids[-1]:
            self.ordered = False
        self.ids.append(row_id)

    def _shaped(self, shape: tuple[str, ...]) -> bool:
        """Whether a place of this shape is kept in the arrays (the first one's is)."""
        if self.shape is None:
            self.shape, self.numbers = shape, [array("q") for _ in shape[1:]]
            self.prefix = shape[0] if shape[1:] == ("",) else None
        return shape == self.shape

    def get(self, row_id: int) -> str | None:
        if row_id in self.others:
            return self.others[row_id]
        if self.ordered:
            at = bisect.bisect_left(self.ids, row_id)
        else:
            at = self.ids.index(row_id) if row_id in self.ids else len(self.ids)
        if at < len(self.ids) and self.ids[at] == row_id:
            texts = iter(self.shape)
            return next(texts) + "".join(
                f"{numbers[at]}{text}" for numbers, text in zip(self.numbers, texts, strict=True)
            )
        return None


_NUMBER = re.compile(r"[0-9]+")


def import_records(
    conn: sqlite3.Connection,
    items: Iterable[tuple[str, str, Checked | str]],
    *,
    on_conflict: str = "error",
    dry_run: bool = False,
    merge_repeats: bool = False,
    skip_invalid: bool = False,
) -> Report:
    """Import checked `items` (see `checked`) inside the caller's transaction; any
    problem rejects them all, unless skip_invalid: then the records with one are
    left out and listed in `Report.rejected`.

    merge_repeats (another program's CSV): a contact without a crm id whose e-mail
    a record made by this import has is merged into it (Report.merged), not a
    conflict.  A record whose custom field source_id a stored one has is that
    record, whatever its name or e-mails (--on-conflict decides).

    Raises Refused listing the problems (the caller's rollback undoes everything);
    with dry_run nothing stays written either way, and `Report.preview` holds the
    first records as they would have been stored.
    """
    conn.execute("SAVEPOINT import")
    # Batch after batch revisits the same index pages: a bigger page cache for the
    # import's span keeps more of them in memory (4% of a million-row import).
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {_IMPORT_CACHE}")
    importer = _Importer(conn, on_conflict, merge_repeats, skip_invalid)
    try:
        report = importer.run(items)
        if dry_run and not report.problems:
            report.preview = [_stored(conn, kind, row_id) for kind, row_id in report.written]
    except BaseException:
        conn.execute("ROLLBACK TO import")
        conn.execute("RELEASE import")
        raise
    finally:
        with contextlib.suppress(sqlite3.Error):  # else gone when the connection closes
            importer.drop()
        conn.execute(f"PRAGMA cache_size = {cache}")
    if report.problems or dry_run:
        conn.execute("ROLLBACK TO import")
    conn.execute("RELEASE import")
    if report.problems:
        shown = report.problems[:_SHOWN]
        more = len(report.problems) - len(shown)
        raise Refused(
            f"import rejected, nothing written: {counted(len(report.problems), 'problem')}\n  "
            + "\n  ".join(shown)
            + (f"\n  ... and {more:,} more" if more else "")
        )
    return report



def _stored(conn: sqlite3.Connection, kind: str, row_id: int) -> dict:
    """A record as `crm KIND show -f json` gives it."""
    from crmcli.store import accounts, activities, deals, tasks

    get = {"accounts": accounts.get_account, "contacts": contacts.get_contact,
           "deals": deals.get_deal, "activities": activities.get_activity,
           "tasks": tasks.get_task}[kind]  # fmt: skip
    return {"record": _ONE[kind], **get(conn, row_id)}


def _source_id(item: Checked) -> tuple[str, str | None] | None:
    """Another program's id for the record (custom field source_id) and the column
    it came from (source_id_column), if it has one."""
    text = item.row.get("fields")
    if not text or '"source_id"' not in text:
        return None
    fields = json.loads(text)
    source = fields.get("source_id")
    return (source, fields.get("source_id_column")) if source else None


def _field(item: Checked, key: str) -> str | None:
    """A custom field of a checked record (`uid`), if it has it."""
    text = item.row.get("fields")
    if not text or f'"{key}"' not in text:
        return None
    return json.loads(text).get(key) or None


def _digits(number: str) -> str:
    return "".join(char for char in number if char.isdigit())


def _same_value(stored: str, given: str | None, phone: bool) -> bool:
    if given is None:
        return False
    if phone:
        return _digits(stored) != "" and _digits(stored) == _digits(given)
    return models.email_key(stored) == models.email_key(given)


def _own_name(key: str, others: list[str | None]) -> list[str] | None:
    """The words of a contact's folded name, or None when it is named by what it
    has (one of `others`: its e-mails, phones, company)."""
    if key in {models.fold(value) for value in others if value}:
        return None
    return key.split() or None


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items, or fewer whose photos come to _CHUNK_BYTES."""
    iterator = iter(items)
    while True:
        chunk, held = [], 0
        for entry in iterator:
            chunk.append(entry)
            held += picture_bytes(entry[2])
            if len(chunk) == size or held >= _CHUNK_BYTES:
                break
        if not chunk:
            return
        yield chunk

