"""Duplicates: finding likely ones, and merging records into one."""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator

from crmcli import models
from crmcli.errors import InvalidValue
from crmcli.store import accounts, common, contacts, refs

_SIMILAR = 0.88  # difflib ratio of two names at the same account


def _phone_key(number: str) -> str | None:
    """+1 (555) 010-0100 and 555 010 0100 are the same line: compare the last 10 digits."""
    digits = re.sub(r"\D", "", number.split("x")[0])
    return digits[-10:] if len(digits) >= 7 else None


def _email_key(address: str) -> str:
    """jane+crm@acme.example is jane@acme.example."""
    local, _, domain = models.fold(address).rpartition("@")
    return f"{local.split('+')[0]}@{domain}"


def dupes(conn: sqlite3.Connection) -> list[dict]:
    """Groups of contacts that are likely the same person, each with its reason:
    the same e-mail or phone, or the same or a very similar name at the same
    account (or, for the same name, both at none)."""
    groups = _Groups()
    for contact_id, value in conn.execute("SELECT contact_id, value FROM contact_emails"):
        groups.add("same e-mail", _email_key(value), contact_id)
    for contact_id, value in conn.execute("SELECT contact_id, value FROM contact_phones"):
        if key := _phone_key(value):
            groups.add("same phone", key, contact_id)
    names: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for contact_id, key, account_id in conn.execute(
        "SELECT id, name_key, account_id FROM contacts"
    ):
        groups.add("same name", (account_id, key), contact_id)
        if account_id is not None:
            names[account_id].append((contact_id, key))
    for people in names.values():
        for first_id, second_id in _similar(people):
            groups.add("similar name at the same account", first_id, first_id)
            groups.add("similar name at the same account", first_id, second_id)
    return [
        {"reason": reason, "contacts": [contacts.get_contact(conn, i) for i in members]}
        for reason, members in groups.found()
    ]


class _Groups:
    """Ids by (reason, key); a key seen once keeps a bare id, not a set: most are
    seen once, and a million contacts have three million keys."""

    def __init__(self):
        self.ids: dict[tuple, int | set[int]] = {}

    def add(self, reason: str, key: object, contact_id: int) -> None:
        found = self.ids.setdefault((reason, key), contact_id)
        if isinstance(found, set):
            found.add(contact_id)
        elif found != contact_id:
            self.ids[(reason, key)] = {found, contact_id}

    def found(self) -> list[tuple[str, tuple[int, ...]]]:
        """(reason, ids) of every group of two or more, once each, by their first id
        (then in the order the reasons are looked for)."""
        groups: dict[tuple, None] = {}
        for (reason, _), ids in self.ids.items():
            if isinstance(ids, set):
                groups[(reason, tuple(sorted(ids)))] = None
        return sorted(groups, key=lambda group: group[1][0])


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
    return keep_id, other_ids


def merge_contacts(conn: sqlite3.Connection, keep: int, others: list[int]) -> dict:
    """Move everything of `others` onto `keep`, then delete them; `keep` wins conflicts."""
    for other in others:
        _fill(conn, "contacts", keep, other, contacts.EDITABLE_COLUMNS)
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
        conn.execute("DELETE FROM contacts WHERE id = ?", (other,))
    return contacts.get_contact(conn, keep)


def merge_accounts(conn: sqlite3.Connection, keep: int, others: list[int]) -> dict:
    for other in others:
        _fill(conn, "accounts", keep, other, accounts.EDITABLE_COLUMNS)
        for table, column in (("contacts", "account_id"), ("deals", "account_id"),
                              ("activities", "account_id"), ("tasks", "account_id"),
                              ("accounts", "parent_id")):  # fmt: skip
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (keep, other))
        conn.execute("UPDATE accounts SET parent_id = NULL WHERE id = ? AND parent_id = ?",
                     (keep, keep))  # fmt: skip
        conn.execute("DELETE FROM accounts WHERE id = ?", (other,))
    return accounts.get_account(conn, keep)


def _fill(conn: sqlite3.Connection, table: str, keep: int, other: int, columns) -> None:
    """keep's empty fields from other; tags joined; custom fields merged, keep winning."""
    select = ", ".join(["tags", "fields", *columns])
    kept = conn.execute(f"SELECT {select} FROM {table} WHERE id = ?", (keep,)).fetchone()
    gone = conn.execute(f"SELECT {select} FROM {table} WHERE id = ?", (other,)).fetchone()
    row = {
        "tags": common.dump(models.tags(json.loads(kept[0]) + json.loads(gone[0]))),
        "fields": common.dump({**json.loads(gone[1]), **json.loads(kept[1])}),
    }
    for column, mine, theirs in zip(columns, kept[2:], gone[2:], strict=True):
        if mine in (None, "") and theirs not in (None, ""):
            row[column] = theirs
    common.update(conn, table, keep, row)
