"""`crm export`: every record out, as a JSON backup, JSONL, CSV/TSV or vCards.

Writers stream row by row in id order (memory stays flat at a million
contacts) to any text file object: stdout, or the temporary file that
`crm export -o` renames into place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TextIO

from crmcli import __version__, models, render
from crmcli.migrations import SCHEMA_VERSION
from crmcli.store import accounts, activities, contacts, deals, photos, query, tasks

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
SINGULAR = {"accounts": "account", "contacts": "contact", "deals": "deal",
            "activities": "activity", "tasks": "task"}  # fmt: skip
FIELDS = {
    "accounts": models.ACCOUNT_FIELDS,
    "contacts": models.CONTACT_FIELDS,
    "deals": models.DEAL_FIELDS,
    "activities": models.ACTIVITY_FIELDS,
    "tasks": models.TASK_FIELDS,
}
FORMAT_VERSION = 1  # of the JSON backup; bumped only if its shape changes


def rows(conn: sqlite3.Connection, kind: str) -> query.Rows:
    """Every record of a kind, in id order, done tasks included."""
    by_id = query.Query(sort=["id"])
    if kind == "tasks":
        return tasks.list_tasks(conn, include_done=True, filters=by_id)
    listing = {
        "accounts": accounts.list_accounts,
        "contacts": contacts.list_contacts,
        "deals": deals.list_deals,
        "activities": activities.list_activities,
    }[kind]
    return listing(conn, filters=by_id)


def records(conn: sqlite3.Connection, kind: str) -> Iterator[dict]:
    """rows() as the backup carries them: a contact's photo and an account's logo as
    {"media_type", "data": base64}, read alongside in id order (store.photos.attach),
    one at a time."""
    found = rows(conn, kind)
    return photos.attach(conn, kind, found) if kind in photos.WHAT else iter(found)


def write_json(conn: sqlite3.Connection, out: TextIO, kinds: tuple[str, ...], stamp: str) -> int:
    """The full backup: one object with a list per kind, one record a line."""
    out.write(
        f'{{"crmcli": {FORMAT_VERSION}, "version": "{__version__}",'
        f' "schema_version": {SCHEMA_VERSION}, "exported_at": "{stamp}"'
    )
    count = 0
    for kind in kinds:
        out.write(f',\n"{kind}": [')
        for index, record in enumerate(records(conn, kind)):
            out.write(("," if index else "") + "\n" + render.to_json(record))
            count += 1
        out.write("\n]")
    out.write("\n}\n")
    return count


def write_jsonl(conn: sqlite3.Connection, out: TextIO, kinds: tuple[str, ...]) -> int:
    """One object a line, each saying in `record` what it is (account, contact ...)."""
    count = 0
    for kind in kinds:
        for record in records(conn, kind):
            out.write(render.to_json({"record": SINGULAR[kind], **record}) + "\n")
            count += 1
    return count


def write_csv(conn: sqlite3.Connection, out: TextIO, kind: str, delimiter: str) -> int:
    """One kind, with the field names import reads back, through the CSV/TSV writer
    every command uses (formulas defused, CR quoted, TSV escaped: see render)."""
    fmt = "csv" if delimiter == "," else "tsv"
    batches = rows(conn, kind).text_batches(FIELDS[kind], fmt)
    return render.write_cells(out.write, fmt, FIELDS[kind], batches)


def write_vcf(conn: sqlite3.Connection, out: TextIO, version: str, kind: str = "contacts") -> int:
    """Contacts as vCards, or accounts as KIND:org cards (X-ABShowAs:COMPANY in 3.0).

    vcard.card writes a record's `photo` (an account's `logo`) when it is
    {"media_type", "data": base64}."""
    from crmcli.formats import vcard

    count = 0
    for record in records(conn, kind):  # photo, logo: {"media_type", "data": base64}
        if kind == "accounts" and record["person_contact_id"] is not None:
            # A person account as its person's card: import --kind accounts reads it back.
            person = contacts.get_contact(conn, record["person_contact_id"])
            # The account's own tags and description on it too (NOTE comes back as the
            # account's description, CATEGORIES as tags): else a round trip drops them.
            person["tags"] = list(dict.fromkeys([*person["tags"], *record["tags"]]))
            person["description"] = record["description"] or person["description"]
            out.write(vcard.card(next(photos.attach(conn, "contacts", iter([person]))), version))
        else:
            out.write(vcard.card(record, version, kind))
        count += 1
    return count
