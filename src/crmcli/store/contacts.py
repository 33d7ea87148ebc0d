"""Contacts: people, each optionally working for one account."""

from __future__ import annotations

import re
import sqlite3

from crmcli import models, when
from crmcli.errors import InvalidValue, Refused
from crmcli.store import common, query, refs

_CHECKS = {
    "title": lambda v: models.line("title", v),
    "department": lambda v: models.line("department", v),
    **{f: (lambda v, f=f: models.line(f.replace("_", " "), v)) for f in models.ADDRESS_FIELDS},
    "birthday": models.birthday,
    "description": lambda v: models.text("description", v),
    "every": when.every,  # '0' clears
}
EDITABLE = ("name", "first_name", "last_name", *_CHECKS)
# Plain columns a merge may fill from the other record.
EDITABLE_COLUMNS = ("account_id", *_CHECKS)


def names(full: str | None, first: str | None, last: str | None) -> dict:
    """first/last/name columns from NAME and --first/--last (which win)."""
    split_first, split_last = models.split_full_name(models.nfc(full or ""))
    first = split_first if first is None else first
    last = split_last if last is None else last
    first = models.line("first name", first)
    last = models.line("last name", last)
    if first is None and last is None:
        raise InvalidValue("a contact needs a name: give NAME, --first or --last")
    first, last = (part.strip() if part else None for part in (first, last))
    full_name = models.full_name(first, last)
    if not models.fold(full_name).strip():
        raise InvalidValue("a contact needs a name: this one holds only invisible characters")
    return {
        "first_name": first,
        "last_name": last,
        "name": full_name,
        "name_key": models.fold(full_name),
    }


def clean(values: dict[str, str | None]) -> dict:
    unknown = set(values) - set(_CHECKS)
    if unknown:
        raise InvalidValue(f"unknown contact field(s): {', '.join(sorted(unknown))}")
    return {key: _CHECKS[key](raw) for key, raw in values.items() if raw is not None}


def parse_emails(raw: list[str] | None) -> list[tuple[str | None, str]]:
    """`[LABEL:]ADDR` options as checked (label, address) pairs, duplicates dropped."""
    result, seen = [], set()
    for item in raw or []:
        label, value = models.labelled(item)
        address = models.email(value)
        if address is None:
            raise InvalidValue(f"empty e-mail address in {item!r}")
        key = models.email_key(address)
        if key not in seen:
            seen.add(key)
            result.append((label, address))
    return result


def parse_phones(raw: list[str] | None) -> list[tuple[str | None, str]]:
    result = []
    for item in raw or []:
        label, value = models.labelled(item)
        number = models.phone(value)
        if number is None:
            raise InvalidValue(f"empty phone number in {item!r}")
        if number not in (n for _, n in result):
            result.append((label, number))
    return result


def add_contact(
    conn: sqlite3.Connection,
    *,
    full_name: str | None = None,
    first: str | None = None,
    last: str | None = None,
    values: dict[str, str | None] | None = None,
    account: str | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    tags: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> dict:
    row = {**names(full_name, first, last), **clean(values or {})}
    email_pairs, phone_pairs = parse_emails(emails), parse_phones(phones)
    if account is not None:
        row["account_id"] = refs.account_id(conn, account)
    row["tags"] = common.dump(models.tags(tags))
    row["fields"] = common.dump(models.custom_fields(fields))
    check_emails_free(conn, email_pairs, None)
    contact_id = common.insert(conn, "contacts", row)
    add_emails(conn, contact_id, email_pairs)
    add_phones(conn, contact_id, phone_pairs)
    return get_contact(conn, contact_id)


def _owner(conn: sqlite3.Connection, address: str) -> tuple[int, str] | None:
    return conn.execute(
        "SELECT e.contact_id, c.name FROM contact_emails e"
        " JOIN contacts c ON c.id = e.contact_id WHERE e.value_key = ?",
        (models.email_key(address),),
    ).fetchone()


def check_emails_free(conn: sqlite3.Connection, pairs: list, contact_id: int | None) -> None:
    """Refuse before writing anything if another contact has one of the addresses."""
    for _, address in pairs:
        owner = _owner(conn, address)
        if owner and owner[0] != contact_id:
            raise Refused(
                f"the e-mail {address} already belongs to contact {owner[1]!r} (id {owner[0]})"
            )


def add_emails(conn: sqlite3.Connection, contact_id: int, pairs: list) -> None:
    """Append addresses; one already on this contact gets the new label instead."""
    for label, address in pairs:
        key = models.email_key(address)
        owner = _owner(conn, address)
        if owner and owner[0] == contact_id:
            if label:
                conn.execute(
                    "UPDATE contact_emails SET label = ? WHERE value_key = ?", (label, key)
                )
            continue
        try:
            conn.execute(
                "INSERT INTO contact_emails (contact_id, position, value, value_key, label)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    contact_id,
                    _next_position(conn, "contact_emails", contact_id),
                    address,
                    key,
                    label,
                ),
            )
        except sqlite3.IntegrityError:  # another process took it between our check and now
            raise Refused(f"the e-mail {address} already belongs to another contact") from None


def add_phones(conn: sqlite3.Connection, contact_id: int, pairs: list) -> None:
    for label, number in pairs:
        existing = conn.execute(
            "SELECT id FROM contact_phones WHERE contact_id = ? AND value = ?",
            (contact_id, number),
        ).fetchone()
        if existing:
            if label:
                conn.execute(
                    "UPDATE contact_phones SET label = ? WHERE id = ?", (label, existing[0])
                )
            continue
        conn.execute(
            "INSERT INTO contact_phones (contact_id, position, value, label) VALUES (?, ?, ?, ?)",
            (contact_id, _next_position(conn, "contact_phones", contact_id), number, label),
        )


def _next_position(conn: sqlite3.Connection, table: str, contact_id: int) -> int:
    return conn.execute(
        f"SELECT coalesce(max(position), -1) + 1 FROM {table} WHERE contact_id = ?", (contact_id,)
    ).fetchone()[0]


def _remove(conn: sqlite3.Connection, contact_id: int, table: str, raw: list[str]) -> None:
    for item in raw:
        value = models.nfc(item.strip())
        if table == "contact_emails":
            # Compared by key, the contact's own addresses (a few) one by one: a row
            # that kept an old key (see migrations.m008_visible_keys) goes too.
            key = models.email_key(value)
            rows = conn.execute(
                "SELECT id, value FROM contact_emails WHERE contact_id = ?", (contact_id,)
            ).fetchall()
            gone = [row_id for row_id, address in rows if models.email_key(address) == key]
            where, value = "id IN (SELECT value FROM json_each(?))", common.dump(gone)
        else:
            where = "value = ?"
        cursor = conn.execute(
            f"DELETE FROM {table} WHERE contact_id = ? AND {where}", (contact_id, value)
        )
        if cursor.rowcount == 0:
            what = "e-mail" if table == "contact_emails" else "phone"
            raise InvalidValue(f"the contact has no {what} {item!r} to remove")


def get_contact(conn: sqlite3.Connection, contact_id: int) -> dict:
    cursor = conn.execute(SCHEMA.select() + " WHERE c.id = ?", (contact_id,))
    return _typed(common.record(cursor, cursor.fetchone()))


def summary(emails: list, phones: list) -> tuple:
    """The summary columns (email, emails, phone, phones) of a contact with these
    (label, value) e-mails and phones, as migrations' summary triggers fill them."""
    return (
        emails[0][1] if emails else None,
        flat(emails),
        phones[0][1] if phones else None,
        flat(phones),
    )


def flat(pairs: list[tuple[str | None, str]]) -> str | None:
    """(label, value) pairs as the summary columns keep them: `label:value;value`
    (what migrations' summary triggers write; `_typed` reads it back)."""
    return (
        ";".join(f"{label}:{value}" if label is not None else value for label, value in pairs)
        or None
    )


def _typed(contact: dict) -> dict:
    """emails/phones, stored as `label:value;value`, as lists of {value, label}."""
    for key in ("emails", "phones"):
        items = re.split(models.PHONES_SPLIT, contact[key]) if contact[key] else []
        contact[key] = [_item(item) for item in items]
    return contact


def _item(text: str) -> dict:
    label, colon, value = text.partition(":")
    if colon and "@" not in label:  # x@[IPv6:...] has a colon but no label
        return {"value": value, "label": label}
    return {"value": text, "label": None}


# Filtering by e-mail looks at every address, through the unique index.
_HAS_EMAIL = "c.id IN (SELECT contact_id FROM contact_emails WHERE value_key = ?)"
SCHEMA = query.schema(
    "contacts",
    "c",
    "contacts c",  # the account's name is kept on the row: no join
    models.CONTACT_FIELDS,
    {},
    flat={"tags": query.flat_list("c.tags")},  # emails and phones are stored flat
    kinds={
        "id": "number",
        "account_id": "number",
        "birthday": "date",
        "last_contacted": "date",
        "created_at": "date",
        "updated_at": "date",
    },
    equal={"name": "c.name_key = ?", "email": _HAS_EMAIL, "emails": _HAS_EMAIL},
    keys={"email": models.email_key, "emails": models.email_key},
    lists={
        "email": "contact_emails WHERE contact_id = c.id",
        "emails": "contact_emails WHERE contact_id = c.id",
        "phones": "contact_phones WHERE contact_id = c.id",
        "tags": "json_each(c.tags) WHERE 1",
    },
    sort_keys={"id": "c.id", "name": "c.name_key"},
)


def list_contacts(
    conn: sqlite3.Connection,
    *,
    account_id: int | None = None,
    filters: query.Query | None = None,
) -> query.Rows:
    fixed, params = query.equals(("c.account_id", account_id))
    compiled = query.compile_query(conn, SCHEMA, filters)
    return compiled.rows(conn, SCHEMA, "c.name_key, c.id", fixed, params, _typed)


def edit_contact(
    conn: sqlite3.Connection,
    ref: str,
    *,
    full_name: str | None = None,
    first: str | None = None,
    last: str | None = None,
    values: dict[str, str | None] | None = None,
    account: str | None = None,
    no_account: bool = False,
    emails: list[str] | None = None,
    remove_emails: list[str] | None = None,
    phones: list[str] | None = None,
    remove_phones: list[str] | None = None,
    tag_edit: common.TagEdit = common.TagEdit(),
) -> dict:
    contact_id = refs.contact_id(conn, ref)
    current = get_contact(conn, contact_id)
    row = clean(values or {})
    if full_name is not None or first is not None or last is not None:
        if full_name is None:
            first = current["first_name"] if first is None else first
            last = current["last_name"] if last is None else last
        row.update(names(full_name, first, last))
    if account is not None and no_account:
        raise InvalidValue("--account and --no-account cannot be used together")
    if no_account:
        row["account_id"] = None
    elif account is not None:
        row["account_id"] = refs.account_id(conn, account)
    row.update(tag_edit.columns(current))
    email_pairs, phone_pairs = parse_emails(emails), parse_phones(phones)
    check_emails_free(conn, email_pairs, contact_id)
    _remove(conn, contact_id, "contact_emails", remove_emails or [])
    _remove(conn, contact_id, "contact_phones", remove_phones or [])
    add_emails(conn, contact_id, email_pairs)
    add_phones(conn, contact_id, phone_pairs)
    # Touch updated_at when only the address lists changed, too.
    common.update(conn, "contacts", contact_id, row)
    return get_contact(conn, contact_id)


def due_contacts(conn: sqlite3.Connection, today: str) -> list[dict]:
    """Contacts whose keep-in-touch interval has run out, most overdue first.

    Each gains `due`: the date it ran out, or null if never contacted (those
    come first).
    """
    result = []
    cursor = conn.execute(SCHEMA.select() + " WHERE c.every IS NOT NULL")
    for contact in map(_typed, common.records(cursor)):
        last = contact["last_contacted"]
        contact["due"] = when.after(last, contact["every"]) if last else None
        if contact["due"] is None or contact["due"] <= today:
            result.append(contact)
    return sorted(result, key=lambda c: (c["due"] is not None, c["due"] or "", c["id"]))


def delete_contact(conn: sqlite3.Connection, ref: str) -> dict:
    """Delete a contact with its addresses; its deals, activities and tasks stay, unlinked."""
    contact_id = refs.contact_id(conn, ref)
    contact = get_contact(conn, contact_id)
    conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
    return contact
