"""Person accounts: a customer who is one person, both an account (kind person)
and a contact, its person, bound one to one.

The contact's `person_account_id` (and its `account_id`) name the account; the
account's `person_contact_id` is worked out from it (store.accounts.SCHEMA).  The
person holds the person's fields; the account's name, e-mail, phone and address
follow the person's (a trigger, migrations.m013_person_accounts).  A person
account has no other contacts and no child accounts.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from crmcli import models
from crmcli.errors import InvalidValue, Refused

NAMED = " (a person account is named as its person)"
# What an account edit of a person account passes on to its person.
PERSON_COLUMNS = ("name", "email", "phone", *models.ADDRESS_FIELDS)


def person_of(conn: sqlite3.Connection, account_id: int | None) -> int | None:
    """The id of the account's person, None for a business account."""
    if account_id is None:
        return None
    row = conn.execute(
        "SELECT id FROM contacts WHERE person_account_id = ?", (account_id,)
    ).fetchone()
    return row[0] if row else None


def account_of(conn: sqlite3.Connection, contact_id: int) -> int | None:
    """The id of the person account whose person the contact is, else None."""
    return conn.execute(
        "SELECT person_account_id FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()[0]


def _name(conn: sqlite3.Connection, account_id: int) -> str:
    return conn.execute("SELECT name FROM accounts WHERE id = ?", (account_id,)).fetchone()[0]


def refuse_member(conn: sqlite3.Connection, account_id: int, contact_id: int | None) -> None:
    """A contact joins no person account but as its person."""
    person = person_of(conn, account_id)
    if person is not None and person != contact_id:
        raise Refused(
            f"account {_name(conn, account_id)!r} is a person account: it has no contacts"
            " but its person (see crm account convert)"
        )


def refuse_leaving(conn: sqlite3.Connection, contact_id: int) -> None:
    """A person stays with its account (--account, --no-account)."""
    account_id = account_of(conn, contact_id)
    if account_id is not None:
        raise Refused(
            f"the contact is the person of person account {_name(conn, account_id)!r}: it"
            f" belongs to no other account (crm account convert {account_id} --to business"
            " first)"
        )


def refuse_child(conn: sqlite3.Connection, parent_id: int) -> None:
    if person_of(conn, parent_id) is not None:
        raise Refused(
            f"account {_name(conn, parent_id)!r} is a person account: it has no child accounts"
        )


def bind(conn: sqlite3.Connection, contact_id: int, account_id: int) -> None:
    """Make the contact the account's person; the account takes its name."""
    from crmcli.store import accounts, common

    key = conn.execute("SELECT name_key FROM contacts WHERE id = ?", (contact_id,)).fetchone()[0]
    accounts.check_name_free(conn, key, account_id, NAMED)
    kind = conn.execute("SELECT kind FROM accounts WHERE id = ?", (account_id,)).fetchone()[0]
    if kind != "person":
        common.update(conn, "accounts", account_id, {"kind": "person"})
    conn.execute(
        "UPDATE contacts SET account_id = ?, person_account_id = ? WHERE id = ?",
        (account_id, account_id, contact_id),
    )
    # Found as its person only (a bulk import wrote the account's entry itself).
    conn.execute("DELETE FROM search WHERE rowid = ? * 4", (account_id,))


def make_person(conn: sqlite3.Connection, account_id: int, tags: str = "[]") -> int:
    """A person made from the account's name, e-mail, phone and address, bound to it."""
    from crmcli.store import contacts

    row = conn.execute(
        f"SELECT name, email, phone, {', '.join(models.ADDRESS_FIELDS)} FROM accounts"
        " WHERE id = ?",
        (account_id,),
    ).fetchone()
    name, email, phone, *address = row
    contact = contacts.add_contact(
        conn,
        full_name=name,
        emails=[email] if email else None,
        phones=[phone] if phone else None,
        values=dict(zip(models.ADDRESS_FIELDS, address, strict=True)),
    )
    bind(conn, contact["id"], account_id)
    return contact["id"]


def add_person_account(
    conn: sqlite3.Connection,
    account_values: dict,
    *,
    parent: str | None = None,
    account_tags: list[str] | None = None,
    account_fields: dict[str, str] | None = None,
    **person,
) -> dict:
    """A new person account: its person made as `contacts.add_contact(**person)`
    makes a contact; the account (type, industry, website, description, its own tags
    and custom fields, parent) named as the person."""
    from crmcli.store import accounts, common, contacts, refs

    unknown = set(account_values) & set(PERSON_COLUMNS)
    if unknown:
        raise InvalidValue(f"a person account's {', '.join(sorted(unknown))} are its person's")
    contact = contacts.add_contact(conn, **person)
    row = accounts.clean({**account_values, "name": contact["name"], "kind": "person"})
    accounts.check_name_free(conn, row["name_key"], None, NAMED)
    if parent is not None:
        row["parent_id"] = refs.account_id(conn, parent)
        refuse_child(conn, row["parent_id"])
    row["tags"] = common.dump(models.tags(account_tags))
    row["fields"] = common.dump(models.custom_fields(account_fields))
    account_id = common.insert(conn, "accounts", row)
    bind(conn, contact["id"], account_id)
    return accounts.get_account(conn, account_id)


def convert(conn: sqlite3.Connection, ref: str, to: Literal["person", "business"]) -> dict:
    """A business account with at most one contact becomes a person account (that
    contact its person, else one made from the account's name, e-mail, phone and
    address); a person account becomes a business account whose contact the person
    stays.  Deals, activities and tasks stay where they are."""
    from crmcli.store import accounts, common, contacts, refs

    account_id = refs.account_id(conn, ref)
    account = accounts.get_account(conn, account_id)
    person = person_of(conn, account_id)
    if to == "business":
        if person is None:
            raise Refused(f"account {account['name']!r} is already a business account")
        conn.execute("UPDATE contacts SET person_account_id = NULL WHERE id = ?", (person,))
        common.update(conn, "accounts", account_id, {"kind": "business"})
        return accounts.get_account(conn, account_id)
    if person is not None:
        raise Refused(f"account {account['name']!r} is already a person account")
    members = [row[0] for row in conn.execute(
        "SELECT id FROM contacts WHERE account_id = ? ORDER BY id LIMIT 2", (account_id,)
    )]  # fmt: skip
    if len(members) > 1:
        raise Refused(
            f"account {account['name']!r} has several contacts: a person account has one,"
            " its person (move or delete the others first)"
        )
    if conn.execute("SELECT 1 FROM accounts WHERE parent_id = ?", (account_id,)).fetchone():
        raise Refused(f"account {account['name']!r} has child accounts: a person account has none")
    if not members:
        make_person(conn, account_id)
        return accounts.get_account(conn, account_id)
    contact = contacts.get_contact(conn, members[0])
    # What the account had and its person lacks goes to the person, not lost.
    gaps = {key: account[key] for key in models.ADDRESS_FIELDS if account[key]}
    contacts.edit_contact(
        conn,
        str(contact["id"]),
        emails=[account["email"]] if account["email"] and not contact["emails"] else None,
        phones=[account["phone"]] if account["phone"] and not contact["phones"] else None,
        values=gaps if gaps and not contact["addresses"] else None,
    )
    bind(conn, contact["id"], account_id)
    return accounts.get_account(conn, account_id)


def refuse_merge(conn: sqlite3.Connection, noun: str, keep: int, others: list[int]) -> None:
    """A person goes into no other contact (its account would lose it); person accounts
    merge with no account (convert them to business first)."""
    if noun == "contact":
        gone = [other for other in others if account_of(conn, other) is not None]
        if gone:
            raise Refused(
                f"contact id {gone[0]} is the person of a person account: merge the others"
                " into it, or convert its account to business first"
            )
        return
    for account_id in (keep, *others):
        if person_of(conn, account_id) is not None:
            raise Refused(
                f"account {_name(conn, account_id)!r} is a person account: convert it to"
                " business first (crm account convert)"
            )


def refuse_detach(account: dict) -> None:
    if account["person_contact_id"] is not None:
        raise InvalidValue(
            f"account {account['name']!r} is a person account: --detach does not apply (its"
            " person goes with it; --cascade deletes its deals too)"
        )


def delete_person_account(conn: sqlite3.Connection, account_id: int) -> None:
    """The person goes first (it links to the account), then the caller deletes the account."""
    person = person_of(conn, account_id)
    if person is not None:
        conn.execute("DELETE FROM contacts WHERE id = ?", (person,))
