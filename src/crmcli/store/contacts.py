"""Contacts: people, each optionally working for one account."""

from __future__ import annotations

import re
import sqlite3

from crmcli import models, when
from crmcli.errors import InvalidValue, Refused
from crmcli.store import common, details, persons, query, refs

_CHECKS = {
    "nickname": lambda v: _stripped(models.line("nickname", v)),
    "title": lambda v: models.line("title", v),
    "department": lambda v: models.line("department", v),
    **{f: (lambda v, f=f: models.line(f.replace("_", " "), v)) for f in models.ADDRESS_FIELDS},
    "birthday": models.birthday,
    "anniversary": lambda v: models.birthday(v, "anniversary"),
    "gender": lambda v: _stripped(models.line("gender", v)),
    "description": lambda v: models.text("description", v),
    "every": when.every,  # '0' clears
}
EDITABLE = ("name", *models.NAME_PARTS, *_CHECKS)
# Plain columns a merge may fill from the other record (the primary address is
# addresses[0]: merged with the list).
EDITABLE_COLUMNS = ("account_id", *(key for key in _CHECKS if key not in models.ADDRESS_FIELDS))
# The JSON lists a contact's row holds (store.details), with how two of them are
# told the same when merged.
LISTS = {"addresses": details.without_label, **dict.fromkeys(models.ITEM_LISTS, details.value_of),
         "dates": details.dated, "vcard": lambda line: line}  # fmt: skip
_PART_NAMES = {part: part.replace("_", " ") for part in models.NAME_PARTS}
_CHECKED = frozenset(_CHECKS)
_NO_NAME = dict.fromkeys(models.NAME_PARTS)


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else None


def names(
    full: str | None,
    parts: dict[str, str | None] | None = None,
    *,
    nickname: str | None = None,
    email: str | None = None,
    account: str | None = None,
    phone: str | None = None,
    split: bool = True,
) -> dict:
    """The name columns: `name` (the formatted name, kept as given), its key, and
    the five parts (prefix, first, middle, last, suffix; None = not given).

    With a NAME and no part given, first/last are NAME split ('Jane Q. Doe' is
    'Jane Q.' 'Doe') unless `split` is false.  With no NAME, the name is the parts
    joined, else the nickname, the first e-mail, the account's name or the first
    phone (models.derived_name).  `name_given` is 1 when NAME is not what those
    would make: a made name is made again when they change (edit_contact)."""
    given = {key: value for key, value in (parts or {}).items() if value is not None}
    text = models.nfc(full).strip() if full is not None else ""
    if text and split and not _named(given):
        first, last = models.split_full_name(text)
        given = {**given, "first_name": first, "last_name": last}
    row = dict(_NO_NAME)
    for part, value in given.items():
        row[part] = _stripped(models.line(_PART_NAMES[part], value))
    made = models.derived_name(row, nickname, email, account, phone)
    name = text or made
    if not name:
        raise InvalidValue(
            "a contact needs a name: give NAME, --first, --last, --nickname, an --email"
            " or a --phone"
        )
    key = models.fold(name)
    if not key.strip():
        raise InvalidValue("a contact needs a name: this one holds only invisible characters")
    if name == models.nfc(name).strip() and len(name) <= models.LINE_MAX:
        checked = name  # what models.name() gives, without folding it again (the key above)
    else:
        checked = models.name("name", name)
    # Given: a name other than the one crm makes (that one follows its sources).
    given_name = 1 if text and checked != made else 0
    # Folded once more only if the check changed it (folding is most of a name's cost).
    key = key if checked == name else models.fold(checked)
    row.update(name=checked, name_key=key, name_given=given_name)
    return row


def _named(parts: dict[str, str]) -> bool:
    return any(parts.get(part, "").strip() for part in ("first_name", "last_name"))


def clean(values: dict[str, str | None]) -> dict:
    unknown = values.keys() - _CHECKED
    if unknown:
        raise InvalidValue(f"unknown contact field(s): {', '.join(sorted(unknown))}")
    return {key: _CHECKS[key](raw) for key, raw in values.items() if raw is not None}


def with_lists(row: dict, addresses: list[dict], lists: dict[str, list[dict] | None]) -> list[dict]:
    """Put into `row` (checked columns) the address list and the other lists given
    (None: not given) as columns; the street..country `row` holds edit
    addresses[0], and are then set from it.  Returns the addresses."""
    given = {column: row.pop(column) for column in models.ADDRESS_FIELDS if column in row}
    stored = details.with_primary(addresses, given)
    row.update(details.primary(stored), addresses=details.dump_addresses(stored))
    for key, value in lists.items():
        if value is not None:
            row[key] = common.dump(value) if value else "[]"  # most lists are empty
    return stored


def parse_emails(raw: list[str] | None) -> list[tuple[str | None, str]]:
    """`[LABEL:]ADDR` options as checked (label, address) pairs, duplicates dropped."""
    return emails_and_keys(raw)[0]


def emails_and_keys(
    raw: list[str | tuple[str | None, str]] | None,
) -> tuple[list[tuple[str | None, str]], list[str]]:
    """parse_emails(), and the addresses' keys (models.email_key), in the same order.
    An item may be text or what models.labelled() made of it (store.checks)."""
    result, keys, seen = [], [], set()
    for item in raw or []:
        label, value = item if type(item) is tuple else models.labelled(item)
        address = models.email(value)
        if address is None:
            raise InvalidValue(f"empty e-mail address in {item!r}")
        key = models.email_key(address)
        if key not in seen:
            seen.add(key)
            keys.append(key)
            result.append((label, address))
    return result, keys


def parse_phones(raw: list[str | tuple[str | None, str]] | None) -> list[tuple[str | None, str]]:
    result = []
    for item in raw or []:
        label, value = item if type(item) is tuple else models.labelled(item)
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
    parts: dict[str, str | None] | None = None,
    values: dict[str, str | None] | None = None,
    account: str | None = None,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    addresses: list[str] | None = None,
    lists: dict[str, list[str] | None] | None = None,
    tags: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> dict:
    """A new contact.  `parts`: prefix, middle_name, suffix (first and last may
    come as `first`/`last`); `addresses` in details.ADDRESS_FORM; `lists`: urls,
    impps, related and dates as `[LABEL:]VALUE` texts."""
    row = clean(values or {})
    email_pairs, phone_pairs = parse_emails(emails), parse_phones(phones)
    checked_lists = {key: details.given_items(key, raw) for key, raw in (lists or {}).items()}
    with_lists(row, details.given_addresses(addresses), checked_lists)
    account_name = None
    if account is not None:
        row["account_id"] = refs.account_id(conn, account)
        persons.refuse_member(conn, row["account_id"], None)
        account_name = _account_name(conn, row["account_id"])
    given = {**(parts or {}), "first_name": first, "last_name": last}
    row.update(
        names(
            full_name,
            given,
            nickname=row.get("nickname"),
            email=email_pairs[0][1] if email_pairs else None,
            account=account_name,
            phone=phone_pairs[0][1] if phone_pairs else None,
        )
    )
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
    if len(pairs) == 1:  # most contacts' e-mails and phones
        label, value = pairs[0]
        return (f"{label}:{value}" if label is not None else value) or None
    return (
        ";".join([f"{label}:{value}" if label is not None else value for label, value in pairs])
        or None
    )


def _typed(contact: dict) -> dict:
    """emails/phones, stored as `label:value;value`, as lists of {value, label}."""
    for key in ("emails", "phones"):
        if key not in contact:  # a listing of other fields (Rows.only)
            continue
        text = contact[key]
        if not text:
            items = []
        elif ";" not in text:  # one e-mail or phone, most contacts': nothing to split
            items = [text]
        else:
            items = re.split(models.PHONES_SPLIT, text)
        contact[key] = [_item(item) for item in items]
    return contact


def _item(text: str) -> dict:
    label, colon, value = text.partition(":")
    if colon and "@" not in label:  # x@[IPv6:...] has a colon but no label
        return {"value": value, "label": label}
    return {"value": text, "label": None}


_ADDRESS_WORDS = " || ' ' || ".join(
    f"coalesce(a.value ->> '{part}', '')" for part in models.ADDRESS_KEYS[1:]
)
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
        "person_account_id": "number",
        "birthday": "date",
        "anniversary": "date",
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
        # Each address as its parts joined, so addresses~Paris finds any of them.
        "addresses": f"(SELECT {_ADDRESS_WORDS} AS value FROM json_each(c.addresses) a) WHERE 1",
        **{
            key: f"(SELECT i.value ->> 'value' AS value FROM json_each(c.{key}) i) WHERE 1"
            for key in models.ITEM_LISTS
        },
        "vcard": "json_each(c.vcard) WHERE 1",
    },
    sort_keys={"id": "c.id", "name": "c.name_order"},
)


def list_contacts(
    conn: sqlite3.Connection,
    *,
    account_id: int | None = None,
    filters: query.Query | None = None,
) -> query.Rows:
    fixed, params = query.equals(("c.account_id", account_id))
    compiled = query.compile_query(conn, SCHEMA, filters)
    return compiled.rows(conn, SCHEMA, "c.name_order, c.id", fixed, params, _typed,
                         ("emails", "phones"))  # fmt: skip


def _account_name(conn: sqlite3.Connection, account_id: int | None) -> str | None:
    if account_id is None:
        return None
    return conn.execute("SELECT name FROM accounts WHERE id = ?", (account_id,)).fetchone()[0]


def _edited_lists(
    current: dict,
    addresses: list[str] | None,
    remove_addresses: list[str] | None,
    lists: dict[str, list[str] | None],
    removals: dict[str, list[str] | None],
) -> tuple[list[dict], dict[str, list[dict] | None]]:
    """The address list and the other lists after an edit (None: unchanged)."""
    stored = current["addresses"]
    if remove_addresses:
        stored = details.remove_addresses(stored, remove_addresses)
    if addresses:
        stored = details.add_addresses(stored, details.given_addresses(addresses))
    changed: dict[str, list[dict] | None] = {}
    for key in models.ITEM_LISTS:
        gone, new = removals.get(key), lists.get(key)
        if gone or new:
            edited = details.remove_items(key, current[key], gone or [])
            changed[key] = details.add_items(edited, details.given_items(key, new or []), key)
    return stored, changed


def edit_contact(
    conn: sqlite3.Connection,
    ref: str,
    *,
    full_name: str | None = None,
    first: str | None = None,
    last: str | None = None,
    parts: dict[str, str | None] | None = None,
    values: dict[str, str | None] | None = None,
    account: str | None = None,
    no_account: bool = False,
    emails: list[str] | None = None,
    remove_emails: list[str] | None = None,
    phones: list[str] | None = None,
    remove_phones: list[str] | None = None,
    addresses: list[str] | None = None,
    remove_addresses: list[str] | None = None,
    lists: dict[str, list[str] | None] | None = None,
    removals: dict[str, list[str] | None] | None = None,
    tag_edit: common.TagEdit = common.TagEdit(),
) -> dict:
    """Change a contact.  Lists: `addresses`/`lists` add (an address with a stored
    one's label replaces it, a value already there is relabelled), `removals`
    drop by value (dates also by label), `remove_addresses` by position or label.

    The name: `full_name` is the new formatted name ('' derives it from the
    parts); given alone it is split into first/last as in add, the other parts
    cleared.  Parts (or the nickname) changed without it: a name that was derived
    from the old parts is derived again from the new ones; a formatted name that
    was given is kept."""
    contact_id = refs.contact_id(conn, ref)
    current = get_contact(conn, contact_id)
    row = clean(values or {})
    stored, changed = _edited_lists(
        current, addresses, remove_addresses, lists or {}, removals or {}
    )
    if addresses or remove_addresses or not row.keys().isdisjoint(models.ADDRESS_FIELDS):
        with_lists(row, stored, changed)
    else:  # the addresses stay as they are
        row.update({key: common.dump(value) for key, value in changed.items()})
    if account is not None and no_account:
        raise InvalidValue("--account and --no-account cannot be used together")
    if no_account:
        persons.refuse_leaving(conn, contact_id)
        row["account_id"] = None
    elif account is not None:
        row["account_id"] = refs.account_id(conn, account)
        if row["account_id"] != current["account_id"]:
            persons.refuse_leaving(conn, contact_id)
        persons.refuse_member(conn, row["account_id"], contact_id)
    email_pairs, phone_pairs = parse_emails(emails), parse_phones(phones)
    given = {key: value for key, value in
             {**(parts or {}), "first_name": first, "last_name": last}.items()
             if value is not None}  # fmt: skip
    (current["name_given"],) = conn.execute(
        "SELECT name_given FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()
    if full_name is not None or given or "nickname" in row:
        row.update(_renamed(conn, current, full_name, given, row, email_pairs, remove_emails))
    row.update(tag_edit.columns(current))
    check_emails_free(conn, email_pairs, contact_id)
    _remove(conn, contact_id, "contact_emails", remove_emails or [])
    _remove(conn, contact_id, "contact_phones", remove_phones or [])
    add_emails(conn, contact_id, email_pairs)
    add_phones(conn, contact_id, phone_pairs)
    if not row.get("name_given", current["name_given"]):
        row.update(_made_again(conn, contact_id, current, row))
    if current["person_account_id"] is not None and "name_key" in row:
        from crmcli.store import accounts  # its account takes the new name

        accounts.check_name_free(conn, row["name_key"], current["person_account_id"],
                                 persons.NAMED)  # fmt: skip
    # Touch updated_at when only the address lists changed, too.
    common.update(conn, "contacts", contact_id, row)
    return get_contact(conn, contact_id)


def _renamed(
    conn: sqlite3.Connection,
    current: dict,
    full_name: str | None,
    given: dict,
    row: dict,
    email_pairs: list,
    remove_emails: list[str] | None,
) -> dict:
    """The name columns after an edit (see edit_contact)."""
    old_parts = {part: current[part] for part in models.NAME_PARTS}
    if full_name is not None and full_name.strip():
        if given:
            return names(full_name, {**old_parts, **given}, split=False)
        return names(full_name, {})
    gone = {models.email_key(address) for address in remove_emails or []}
    kept = [item["value"] for item in current["emails"]
            if models.email_key(item["value"]) not in gone]  # fmt: skip
    email = next(iter([*kept, *(address for _, address in email_pairs)]), None)
    account_id = row.get("account_id", current["account_id"])
    nickname = row.get("nickname", current["nickname"])
    new_parts = {**old_parts, **given}
    if full_name is None and current["name_given"]:
        return names(current["name"], new_parts, split=False)  # a formatted name: kept
    return names(
        None,
        new_parts,
        nickname=nickname,
        email=email,
        account=_account_name(conn, account_id),
        phone=current["phone"],
        split=False,
    )


def _made_again(conn: sqlite3.Connection, contact_id: int, current: dict, row: dict) -> dict:
    """The name columns of a contact whose name crm made (not given), made again
    from what it has after the edit: its parts, nickname, first e-mail, account
    and first phone (the e-mails and phones as already written).  An account
    renamed later does not rename its contacts."""
    email, phone = conn.execute(
        "SELECT email, phone FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()
    account_id = row.get("account_id", current["account_id"])
    try:
        return names(
            None,
            {part: row.get(part, current[part]) for part in models.NAME_PARTS},
            nickname=row.get("nickname", current["nickname"]),
            email=email,
            account=_account_name(conn, account_id),
            phone=phone,
            split=False,
        )
    except InvalidValue as exc:
        raise InvalidValue(
            f"{exc.message} (its name {current['name']!r} was made from what it would no"
            " longer have: give NAME, or keep something to name it by)"
        ) from None


DUE_SQL = SCHEMA.select() + " WHERE c.every IS NOT NULL"  # index contacts_every (m017)


def due_contacts(conn: sqlite3.Connection, today: str) -> list[dict]:
    """Contacts whose keep-in-touch interval has run out, most overdue first.

    Each gains `due`: the date it ran out, or null if never contacted (those
    come first).
    """
    result = []
    cursor = conn.execute(DUE_SQL)
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
    if contact["person_account_id"] is not None:
        raise Refused(
            f"contact {contact['name']!r} is the person of a person account: crm account"
            f" delete {contact['person_account_id']} deletes both"
        )
    conn.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
    return contact
