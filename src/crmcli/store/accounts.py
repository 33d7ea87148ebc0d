"""Accounts: companies and organisations, or single persons treated as customers."""

from __future__ import annotations

import sqlite3
from typing import Literal

from crmcli import models
from crmcli.errors import InvalidValue, Refused
from crmcli.store import common, persons, query, refs
from crmcli.words import counted

# Every column an edit may set, with the check its value goes through.
_CHECKS = {
    "name": lambda v: models.name("name", v),
    "kind": lambda v: models.choice("kind", v, models.ACCOUNT_KINDS) or "business",
    "type": lambda v: models.choice("type", v, models.ACCOUNT_TYPES),
    "industry": lambda v: models.line("industry", v),
    "website": lambda v: models.line("website", v),
    "email": lambda v: models.email(v),
    "phone": lambda v: models.phone(v),
    **{f: (lambda v, f=f: models.line(f.replace("_", " "), v)) for f in models.ADDRESS_FIELDS},
    "description": lambda v: models.text("description", v),
}
EDITABLE = tuple(_CHECKS)
# Plain columns a merge may fill from the other record (not the name: keep's wins).
EDITABLE_COLUMNS = (*(key for key in _CHECKS if key != "name"), "parent_id")

DeleteMode = Literal["refuse", "detach", "cascade"]


def clean(values: dict[str, str | None]) -> dict:
    """Checked column values for the options that were given (None = not given)."""
    unknown = set(values) - set(_CHECKS)
    if unknown:
        raise InvalidValue(f"unknown account field(s): {', '.join(sorted(unknown))}")
    cleaned = {key: _CHECKS[key](raw) for key, raw in values.items() if raw is not None}
    if "name" in cleaned:
        cleaned["name_key"] = models.fold(cleaned["name"])
    return cleaned


def check_name_free(
    conn: sqlite3.Connection, key: str, own_id: int | None = None, why: str = ""
) -> None:
    row = conn.execute("SELECT id, name FROM accounts WHERE name_key = ?", (key,)).fetchone()
    if row and row[0] != own_id:
        raise Refused(f"an account named {row[1]!r} already exists (id {row[0]}){why}")


def _write(conn: sqlite3.Connection, action):
    """Run an insert/update, reporting a name taken by a concurrent writer as a refusal."""
    try:
        return action()
    except sqlite3.IntegrityError as exc:
        if "accounts.name_key" in str(exc):
            raise Refused("an account with that name already exists") from None
        raise


def add_account(
    conn: sqlite3.Connection,
    values: dict[str, str | None],
    *,
    parent: str | None = None,
    tags: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> dict:
    """Create an account; `values` maps field names to the text the user gave.  Of
    kind person, its person is made from its name, e-mail, phone and address."""
    if values.get("name") is None:
        raise InvalidValue("name must not be empty")
    row = clean(values)
    if row.get("kind") == "person":
        return _add_person_account(conn, row, values, parent, tags, fields)
    check_name_free(conn, row["name_key"])
    if parent is not None:
        row["parent_id"] = refs.account_id(conn, parent)
        persons.refuse_child(conn, row["parent_id"])
    row["tags"] = common.dump(models.tags(tags))
    row["fields"] = common.dump(models.custom_fields(fields))
    new_id = _write(conn, lambda: common.insert(conn, "accounts", row))
    return get_account(conn, new_id)


def _add_person_account(conn, row, values, parent, tags, fields) -> dict:
    """add_account of kind person: the person's fields go to its person."""
    own = {key: values[key] for key in values if key not in persons.PERSON_COLUMNS}
    return persons.add_person_account(
        conn,
        own,
        parent=parent,
        account_tags=tags,
        account_fields=fields,
        full_name=row["name"],
        emails=[row["email"]] if row.get("email") else None,
        phones=[row["phone"]] if row.get("phone") else None,
        values={key: values[key] for key in models.ADDRESS_FIELDS if key in values},
    )


def get_account(conn: sqlite3.Connection, account_id: int) -> dict:
    cursor = conn.execute(SCHEMA.select() + " WHERE a.id = ?", (account_id,))
    return common.record(cursor, cursor.fetchone())


# A person account's person (store.persons), through the unique index.
PERSON_CONTACT = "(SELECT pc.id FROM contacts pc WHERE pc.person_account_id = a.id)"
SCHEMA = query.schema(
    "accounts",
    "a",
    "accounts a LEFT JOIN accounts p ON p.id = a.parent_id",
    models.ACCOUNT_FIELDS,
    {"parent": "p.name", "person_contact_id": PERSON_CONTACT},
    flat={"tags": query.flat_list("a.tags")},
    kinds={
        "id": "number",
        "parent_id": "number",
        "person_contact_id": "number",
        "created_at": "date",
        "updated_at": "date",
    },
    equal={"name": "a.name_key = ?"},
    lists={"tags": "json_each(a.tags) WHERE 1"},
    sort_keys={"id": "a.id", "name": "a.name_order"},
)


def list_accounts(
    conn: sqlite3.Connection, *, parent_id: int | None = None, filters: query.Query | None = None
) -> query.Rows:
    fixed, params = query.equals(("a.parent_id", parent_id))
    compiled = query.compile_query(conn, SCHEMA, filters)
    return compiled.rows(conn, SCHEMA, "a.name_order, a.id", fixed, params)


def edit_account(
    conn: sqlite3.Connection,
    ref: str,
    values: dict[str, str | None],
    *,
    parent: str | None = None,
    no_parent: bool = False,
    tag_edit: common.TagEdit = common.TagEdit(),
    person: dict | None = None,
) -> dict:
    """Change an account.  A person account's name, e-mails, phones, address and
    `person` (contacts.edit_contact's options) change its person."""
    account_id = refs.account_id(conn, ref)
    current = get_account(conn, account_id)
    if values.get("kind") not in (None, current["kind"]):
        raise InvalidValue(
            f"an account's kind changes with crm account convert {account_id} --to {values['kind']}"
        )
    values = {key: value for key, value in values.items() if key != "kind"}
    person = dict(person or {})
    if current["person_contact_id"] is not None:
        _edit_person(conn, current["person_contact_id"], values, person)
        values = {key: value for key, value in values.items()
                  if key not in persons.PERSON_COLUMNS}  # fmt: skip
    elif given := sorted(key for key, value in person.items() if _given(value)):
        raise InvalidValue(
            f"{', '.join(given)}: only a person account has a person's fields"
            " (see crm account convert)"
        )
    row = clean(values)
    if "name_key" in row:
        check_name_free(conn, row["name_key"], account_id)
    if parent is not None and no_parent:
        raise InvalidValue("--parent and --no-parent cannot be used together")
    if no_parent:
        row["parent_id"] = None
    elif parent is not None:
        row["parent_id"] = _parent_for(conn, account_id, parent)
        persons.refuse_child(conn, row["parent_id"])
    row.update(tag_edit.columns(current))
    if row:
        _write(conn, lambda: common.update(conn, "accounts", account_id, row))
    return get_account(conn, account_id)


def _given(value) -> bool:
    """Whether an option (or, a dict of them, one of them) was given."""
    if isinstance(value, dict):
        return any(item is not None for item in value.values())
    return value is not None and value != []


def _edit_person(conn: sqlite3.Connection, contact_id: int, values: dict, person: dict) -> None:
    from crmcli.store import contacts

    emails, phones = person.pop("emails", None), person.pop("phones", None)
    moved = {key: values[key] for key in models.ADDRESS_FIELDS if key in values}
    if moved:
        person["values"] = {**(person.get("values") or {}), **moved}
    if values.get("email") is not None:
        emails = [values["email"], *(emails or [])]
    if values.get("phone") is not None:
        phones = [values["phone"], *(phones or [])]
    if values.get("name") is not None:
        person["full_name"] = values["name"]
    if any(_given(value) for value in (emails, phones, *person.values())):
        contacts.edit_contact(conn, str(contact_id), emails=emails, phones=phones, **person)


def _parent_for(conn: sqlite3.Connection, account_id: int, parent: str) -> int:
    """The parent's id, refusing a loop (an account under itself or its descendants)."""
    parent_id = refs.account_id(conn, parent)
    ancestor: int | None = parent_id
    while ancestor is not None:
        if ancestor == account_id:
            raise Refused("an account cannot be its own parent or sit under its own child")
        ancestor = conn.execute(
            "SELECT parent_id FROM accounts WHERE id = ?", (ancestor,)
        ).fetchone()[0]
    return parent_id


def dependants(conn: sqlite3.Connection, account_id: int) -> dict[str, int]:
    """How many contacts and deals hang on an account (a person account's person is
    part of it, no dependant)."""
    # Every contact of the account, less its person: a person's account_id is its
    # person account (persons.bind).  The first count reads an index only, the
    # second one row at most; asking for `person_account_id IS NULL` instead
    # looked up each of the account's rows (200 ms for 100,000 contacts).
    contacts = conn.execute(
        "SELECT (SELECT count(*) FROM contacts WHERE account_id = ?1)"
        " - (SELECT count(*) FROM contacts WHERE person_account_id = ?1 AND account_id = ?1)",
        (account_id,),
    ).fetchone()[0]
    deals = conn.execute(
        "SELECT count(*) FROM deals WHERE account_id = ?", (account_id,)
    ).fetchone()[0]
    return {"contacts": contacts, "deals": deals}


def delete_account(
    conn: sqlite3.Connection, ref: str, mode: DeleteMode = "refuse"
) -> tuple[dict, dict[str, int]]:
    """Delete an account; contacts and deals block it unless detached or cascaded.

    Returns the deleted record and how many contacts and deals went with it
    (cascade) or were unlinked from it (detach).
    """
    account_id = refs.account_id(conn, ref)
    account = get_account(conn, account_id)
    counts = dependants(conn, account_id)
    if mode == "detach":
        persons.refuse_detach(account)
    if mode == "refuse" and any(counts.values()):
        raise Refused(
            f"account {account['name']!r} still has {counted(counts['contacts'], 'contact')}"
            f" and {counted(counts['deals'], 'deal')}; use --detach to keep them unlinked "
            "or --cascade to delete them too"
        )
    if mode == "cascade":
        _delete_linked(conn, account_id)
    else:
        conn.execute("UPDATE contacts SET account_id = NULL WHERE account_id = ?", (account_id,))
        conn.execute("UPDATE deals SET account_id = NULL WHERE account_id = ?", (account_id,))
    persons.delete_person_account(conn, account_id)
    # Child accounts, activities and tasks are unlinked by ON DELETE SET NULL.
    conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
    return account, counts


def _delete_linked(conn: sqlite3.Connection, account_id: int) -> None:
    """--cascade: the account's contacts and deals go, with their activities and tasks."""
    owned = {
        "account_id": "= :id",
        "contact_id": "IN (SELECT id FROM contacts WHERE account_id = :id)",
        "deal_id": "IN (SELECT id FROM deals WHERE account_id = :id)",
    }
    for table in ("activities", "tasks"):
        where = " OR ".join(f"{column} {test}" for column, test in owned.items())
        conn.execute(f"DELETE FROM {table} WHERE {where}", {"id": account_id})
    conn.execute("DELETE FROM deals WHERE account_id = ?", (account_id,))
    conn.execute("DELETE FROM contacts WHERE account_id = ?", (account_id,))
