"""Contacts as a sync sees them: each as the record its vCard is written from, and
a card's record written in, whole (crmcli.sync.engine).

A card comes in as `formats.vcard.read_vcf` reads it and is checked as an import
checks a record (store.checks); a new one is written by the importer
(store.imports), a changed one replaces what the contact held: its values,
lists, e-mails, phones and photo are the card's, and what crm keeps of its own
(keep-in-touch, notes, deals) stays.
"""

from __future__ import annotations

import sqlite3

from crmcli import models
from crmcli.config import Config
from crmcli.errors import CrmError, Refused
from crmcli.store import checks, common, contacts, imports, photos

# The columns a card gives a contact (every one replaced, absent ones emptied):
# not its keep-in-touch interval, which no card carries.
_LIST_COLUMNS = ("addresses", *models.ITEM_LISTS, "vcard")
_REPLACED = ("name", "name_key", "name_given", *models.NAME_PARTS,
             *(key for key in contacts.EDITABLE if key not in ("name", "every")
               and key not in models.NAME_PARTS), *_LIST_COLUMNS)  # fmt: skip


def stamps(conn: sqlite3.Connection, contact_id: int | None = None) -> dict[int, str]:
    """Every contact's id and stamp (or just this contact's): a hash of its row,
    which holds its e-mails, phones, account name and photo's size too (triggers
    keep them there), and says whether its card may have changed since the stamp
    was taken.  Not updated_at: it has whole seconds, so an edit in the second of a
    sync would be missed.  Content decides: the engine then renders the card."""
    import hashlib

    columns = [row[1] for row in conn.execute("PRAGMA table_info(contacts)")
               if row[1] not in ("id", "last_contacted")]  # fmt: skip
    whole = " || ',' || ".join(f"quote({name})" for name in columns)
    where = "" if contact_id is None else f" WHERE id = {int(contact_id)}"
    return {
        row_id: hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        for row_id, text in conn.execute(f"SELECT id, {whole} FROM contacts{where}")
    }


def record(conn: sqlite3.Connection, contact_id: int) -> dict | None:
    """The contact as `crm contact show -f json` gives it, its photo's bytes in base64
    (what formats.vcard.card writes from); None if there is no such contact."""
    row = conn.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    if row is None:
        return None
    found = contacts.get_contact(conn, contact_id)
    picture = photos.get(conn, "contacts", contact_id)
    found["photo"] = picture.exported() if picture is not None else None
    return found


def uids(conn: sqlite3.Connection, ids) -> dict[str, int]:
    """The UID each of these contacts' cards is written with (vcard.uid): its `uid`
    field, else the one made from its id."""
    from crmcli.formats import vcard

    wanted = common.dump(list(ids))
    found = {}
    for contact_id, created_at, uid in conn.execute(
        "SELECT id, created_at, json_extract(fields, '$.uid') FROM contacts"
        " WHERE id IN (SELECT value FROM json_each(?))",
        (wanted,),
    ):
        record = {"id": contact_id, "created_at": created_at, "fields": {"uid": uid}}
        found.setdefault(vcard.uid(record), contact_id)
    return found


def _checked(data: dict, config: Config) -> checks.Checked:
    return checks.check("contacts", {key: value for key, value in data.items() if key != "id"},
                        config)  # fmt: skip


def add(conn: sqlite3.Connection, data: dict, config: Config, where: str) -> int:
    """A card's record as a new contact (its ORG as an account, made if missing); its
    id.  Refused (nothing written) when it cannot be: an e-mail another has, say."""
    item = _checked(data, config)
    report = imports.import_records(conn, [(where, "contacts", item)], skip_invalid=True)
    if report.rejected:
        raise Refused(report.rejected[0][1])
    return next(row_id for kind, row_id in report.written if kind == "contacts")


def add_many(conn: sqlite3.Connection, records: list[tuple[str, dict]], config: Config) -> dict:
    """Cards' records as new contacts in one import (new rows are written a batch at
    a time: one import a card costs some ten times more); {where: why} for those
    refused, which are not written."""
    items = []
    for where, data in records:
        try:
            items.append((where, "contacts", _checked(data, config)))
        except CrmError as exc:
            items.append((where, "contacts", exc.message))
    report = imports.import_records(conn, items, skip_invalid=True)
    return dict(report.rejected)


def replace(conn: sqlite3.Connection, contact_id: int, data: dict, config: Config) -> None:
    """The contact made what the card's record says, whole; Refused (nothing written)
    when it cannot be."""
    item = _checked(data, config)
    conn.execute("SAVEPOINT card")
    try:
        row = {key: item.row.get(key, "[]" if key in _LIST_COLUMNS else None)
               for key in _REPLACED}  # fmt: skip
        row["name_given"] = row["name_given"] or 0
        row["tags"], row["fields"] = item.row["tags"], item.row["fields"]
        row["account_id"] = _account(conn, item.account)
        conn.execute("DELETE FROM contact_emails WHERE contact_id = ?", (contact_id,))
        conn.execute("DELETE FROM contact_phones WHERE contact_id = ?", (contact_id,))
        contacts.check_emails_free(conn, item.emails, contact_id)
        contacts.add_emails(conn, contact_id, item.emails)
        contacts.add_phones(conn, contact_id, item.phones)
        common.update(conn, "contacts", contact_id, row)
        if item.picture is not None:
            photos.put(conn, "contacts", contact_id, item.picture)
        else:
            photos.remove(conn, "contacts", contact_id)
    except BaseException:
        conn.execute("ROLLBACK TO card")
        conn.execute("RELEASE card")
        raise
    conn.execute("RELEASE card")


def _account(conn: sqlite3.Connection, account: tuple[str, str] | None) -> int | None:
    """The account a card's ORG names, made when missing (as an import makes it)."""
    if account is None:
        return None
    name, key = account
    found = conn.execute("SELECT id FROM accounts WHERE name_key = ?", (key,)).fetchone()
    if found:
        return found[0]
    return common.insert(conn, "accounts", {"name": name, "name_key": key, "kind": "business"})


_ROWS = (("contacts", "id"), ("contact_emails", "contact_id"), ("contact_phones", "contact_id"),
         ("contact_photos", "id"))  # fmt: skip


def snapshot(conn: sqlite3.Connection, contact_id: int) -> list[tuple]:
    """The contact's rows as they are (its e-mails, phones and photo too), for put_back."""
    taken = []
    for table, key in _ROWS:
        cursor = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (contact_id,))
        taken.append((table, key, [column[0] for column in cursor.description], cursor.fetchall()))
    return taken


def put_back(conn: sqlite3.Connection, contact_id: int, taken: list[tuple]) -> None:
    """The contact's rows written back as snapshot() took them, ids and all."""
    for table, key, _, _ in taken[1:]:
        conn.execute(f"DELETE FROM {table} WHERE {key} = ?", (contact_id,))
    _, _, names, (row,) = taken[0]
    values = {name: value for name, value in zip(names, row, strict=True) if name != "id"}
    conn.execute(
        f"UPDATE contacts SET {', '.join(f'{name} = ?' for name in values)} WHERE id = ?",
        (*values.values(), contact_id),
    )
    for table, _, names, rows in taken[1:]:
        for row in rows:
            conn.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in row)})",
                row,
            )


def delete(conn: sqlite3.Connection, contact_id: int) -> None:
    """The contact deleted, as `crm contact delete` does (its deals and notes stay)."""
    conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))


def keep_uid(conn: sqlite3.Connection, contact_id: int, uid: str) -> None:
    """The UID a card was sent with, kept as the contact's `uid` field (what an
    import of a card keeps), so it stays the same whatever becomes of the id."""
    conn.execute(
        "UPDATE contacts SET fields = json_set(fields, '$.uid', ?)"
        " WHERE id = ? AND json_extract(fields, '$.uid') IS NOT ?",
        (uid, contact_id, uid),
    )


def by_uid(conn: sqlite3.Connection, uid: str) -> int | None:
    """The contact whose `uid` field is this UID, if one is."""
    found = conn.execute(
        "SELECT id FROM contacts WHERE json_extract(fields, '$.uid') = ? LIMIT 1", (uid,)
    ).fetchone()
    return found[0] if found else None
