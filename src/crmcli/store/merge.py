"""Duplicates: finding likely ones, and merging records into one."""

from __future__ import annotations

import difflib
import itertools
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator

from crmcli import models
from crmcli.errors import InvalidValue
from crmcli.store import accounts, common, contacts, details, persons, refs

_SIMILAR = 0.88  # difflib ratio of two names at the same account


def _phone_key(number: str) -> str | None:
    """+1 (555) 010-0100 and 555 010 0100 are the same line: compare the last 10 digits."""
    digits = re.sub(r"\D", "", number.split("x")[0])
    return digits[-10:] if len(digits) >= 7 else None


def _email_key(address: str) -> str:
    """jane+crm@acme.example is jane@acme.example."""
    local, _, domain = models.email_key(address).rpartition("@")
    return f"{local.split('+')[0]}@{domain}"


# Exact keys are grouped by SQLite, whose sorter spills to disk, rather than in a
# dict: a million contacts have three million keys (5 GB once, as Python sets).
_SAME = {
    "same e-mail": "SELECT DISTINCT crm_email_key(value) AS k, contact_id AS id"
    " FROM contact_emails",
    "same phone": "SELECT DISTINCT crm_phone_key(value) AS k, contact_id AS id"
    " FROM contact_phones",
    # Contacts of no account count as colleagues here.
    "same name": "SELECT coalesce(account_id, '') || ' ' || name_key AS k, id FROM contacts",
}


def dupes(conn: sqlite3.Connection) -> list[dict]:
    """Groups of contacts that are likely the same person, each with its reason:
    the same e-mail or phone, or the same or a very similar name at the same
    account (or, for the same name, both at none)."""
    conn.create_function("crm_email_key", 1, _email_key, deterministic=True)
    conn.create_function("crm_phone_key", 1, _phone_key, deterministic=True)
    groups: dict[tuple[str, tuple[int, ...]], None] = {}  # in order, once each
    for reason, keyed in _SAME.items():
        for (ids,) in conn.execute(
            f"SELECT group_concat(id) FROM ({keyed}) WHERE k IS NOT NULL"
            " GROUP BY k HAVING count(*) > 1"
        ):
            groups[(reason, tuple(sorted(map(int, ids.split(",")))))] = None
    similar: dict[int, set[int]] = defaultdict(set)
    colleagues = conn.execute(
        "SELECT account_id, id, name_key FROM contacts WHERE account_id IS NOT NULL"
        " ORDER BY account_id"
    )
    for _, people in itertools.groupby(colleagues, key=lambda row: row[0]):
        for first_id, second_id in _similar([(i, name) for _, i, name in people]):
            similar[first_id].update((first_id, second_id))
    for ids in similar.values():
        groups[("similar name at the same account", tuple(sorted(ids)))] = None
    return [
        {"reason": reason, "contacts": [contacts.get_contact(conn, i) for i in members]}
        for reason, members in sorted(groups, key=lambda group: group[1][0])
    ]


def _similar(people: list[tuple[int, str]]) -> Iterator[tuple[int, int]]:
    """Pairs of colleagues with different but very similar names.  The matcher's
    cheap upper bounds rule out most pairs before its ratio is worked out."""
    matcher = difflib.SequenceMatcher(None)
    for index, (first_id, first) in enumerate(people):
        matcher.set_seq2(first)  # the sequence difflib does its costly set-up for
        for second_id, second in people[index + 1 :]:
            matcher.set_seq1(second)
            if (
                first != second
                and matcher.real_quick_ratio() >= _SIMILAR
                and matcher.quick_ratio() >= _SIMILAR
                and matcher.ratio() >= _SIMILAR
            ):
                yield first_id, second_id


def plan(conn: sqlite3.Connection, noun: str, keep: int, others: list[int]) -> dict[str, int]:
    """What a merge moves onto the kept record, counted."""
    marks = ", ".join("?" for _ in others)
    if noun == "contact":
        counts = {
            "e-mails": f"SELECT count(*) FROM contact_emails WHERE contact_id IN ({marks})",
            "phones": f"SELECT count(*) FROM contact_phones WHERE contact_id IN ({marks})",
            "deals": f"SELECT count(*) FROM deals WHERE contact_id IN ({marks})",
            "activities": f"SELECT count(*) FROM activities WHERE contact_id IN ({marks})",
            "tasks": f"SELECT count(*) FROM tasks WHERE contact_id IN ({marks})",
        }
    else:
        counts = {
            "contacts": f"SELECT count(*) FROM contacts WHERE account_id IN ({marks})",
            "deals": f"SELECT count(*) FROM deals WHERE account_id IN ({marks})",
            "activities": f"SELECT count(*) FROM activities WHERE account_id IN ({marks})",
            "tasks": f"SELECT count(*) FROM tasks WHERE account_id IN ({marks})",
            "child accounts": f"SELECT count(*) FROM accounts WHERE parent_id IN ({marks})",
        }
    return {what: conn.execute(sql, others).fetchone()[0] for what, sql in counts.items()}


def resolve(
    conn: sqlite3.Connection, noun: str, keep: str, others: list[str]
) -> tuple[int, list[int]]:
    find = refs.contact_id if noun == "contact" else refs.account_id
    keep_id = find(conn, keep)
    other_ids = list(dict.fromkeys(find(conn, ref) for ref in others))
    if keep_id in other_ids:
        raise InvalidValue(f"cannot merge a {noun} into itself (id {keep_id})")
    persons.refuse_merge(conn, noun, keep_id, other_ids)
    return keep_id, other_ids


def merge_contacts(conn: sqlite3.Connection, keep: int, others: list[int]) -> dict:
    """Move everything of `others` onto `keep`, then delete them; `keep` wins conflicts."""
    for other in others:
        _fill(conn, "contacts", keep, other, contacts.EDITABLE_COLUMNS)
        _join_lists(conn, "contacts", keep, other, contacts.LISTS)
        for table in ("contact_emails", "contact_phones"):
            rows = conn.execute(
                f"SELECT id, value FROM {table} WHERE contact_id = ? ORDER BY position", (other,)
            ).fetchall()
            for row_id, value in rows:
                if (
                    table == "contact_phones"
                    and conn.execute(
                        "SELECT 1 FROM contact_phones WHERE contact_id = ? AND value = ?",
                        (keep, value),
                    ).fetchone()
                ):
                    continue
                position = conn.execute(
                    f"SELECT coalesce(max(position), -1) + 1 FROM {table} WHERE contact_id = ?",
                    (keep,),
                ).fetchone()[0]
                conn.execute(
                    f"UPDATE {table} SET contact_id = ?, position = ? WHERE id = ?",
                    (keep, position, row_id),
                )
        for table in ("deals", "activities", "tasks"):
            conn.execute(f"UPDATE {table} SET contact_id = ? WHERE contact_id = ?", (keep, other))
        _picture(conn, "contacts", keep, other)
        conn.execute("DELETE FROM contacts WHERE id = ?", (other,))
    return contacts.get_contact(conn, keep)


def merge_accounts(conn: sqlite3.Connection, keep: int, others: list[int]) -> dict:
    for other in others:
        _fill(conn, "accounts", keep, other, accounts.EDITABLE_COLUMNS)
        _join_lists(conn, "accounts", keep, other, {"vcard": lambda line: line})
        for table, column in (("contacts", "account_id"), ("deals", "account_id"),
                              ("activities", "account_id"), ("tasks", "account_id"),
                              ("accounts", "parent_id")):  # fmt: skip
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (keep, other))
        conn.execute("UPDATE accounts SET parent_id = NULL WHERE id = ? AND parent_id = ?",
                     (keep, keep))  # fmt: skip
        _picture(conn, "accounts", keep, other)
        conn.execute("DELETE FROM accounts WHERE id = ?", (other,))
    return accounts.get_account(conn, keep)


def _picture(conn: sqlite3.Connection, kind: str, keep: int, other: int) -> None:
    """keep's photo (logo), or other's when keep has none, like an empty field."""
    from crmcli.migrations import PICTURES

    table = PICTURES[kind][0]
    conn.execute(
        f"INSERT OR IGNORE INTO {table} (id, media_type, data)"
        f" SELECT ?, media_type, data FROM {table} WHERE id = ?",
        (keep, other),
    )


def _fill(conn: sqlite3.Connection, table: str, keep: int, other: int, columns) -> None:
    """keep's empty fields from other; tags joined; custom fields merged, keep winning."""
    select = ", ".join(["tags", "fields", *columns])
    kept = conn.execute(f"SELECT {select} FROM {table} WHERE id = ?", (keep,)).fetchone()
    gone = conn.execute(f"SELECT {select} FROM {table} WHERE id = ?", (other,)).fetchone()
    row = {
        "tags": common.dump(models.tags([], stored=json.loads(kept[0]) + json.loads(gone[0]))),
        "fields": common.dump({**json.loads(gone[1]), **json.loads(kept[1])}),
    }
    for column, mine, theirs in zip(columns, kept[2:], gone[2:], strict=True):
        if mine in (None, "") and theirs not in (None, ""):
            row[column] = theirs
    common.update(conn, table, keep, row)


def _join_lists(conn: sqlite3.Connection, table: str, keep: int, other: int, lists: dict) -> None:
    """keep's lists (addresses, URLs ... and kept vCard properties), then what
    other's have that they lack; keep's primary address stays the primary one
    (the street..country columns follow addresses[0])."""
    select = ", ".join(lists)
    kept = conn.execute(f"SELECT {select} FROM {table} WHERE id = ?", (keep,)).fetchone()
    gone = conn.execute(f"SELECT {select} FROM {table} WHERE id = ?", (other,)).fetchone()
    row: dict = {}
    for (key, same), mine, theirs in zip(lists.items(), kept, gone, strict=True):
        if theirs != "[]":
            row[key] = common.dump(details.union(json.loads(mine), json.loads(theirs), same, key))
    if "addresses" in row:
        row.update(details.primary(json.loads(row["addresses"])))
    if row:
        common.update(conn, table, keep, row)
