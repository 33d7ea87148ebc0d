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
_ALIKE = 0.75  # of two words one initial stands for: Doe and Do are, Jane and John not


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
_SIMILAR_NAME = "similar name at the same account"

# Words after a company's name that say only what kind of company it is.
_LEGAL = frozenset(
    ("inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc",
     "llp", "lp", "plc", "gmbh", "mbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv",
     "nv", "oy", "ab", "as", "aps", "pty", "pte", "kk", "se")
)  # fmt: skip
_SAME_ACCOUNT = {
    "same name": "SELECT crm_company_key(name) AS k, id FROM accounts",
    "same website": "SELECT crm_domain(website) AS k, id FROM accounts",
}


Links = Iterator[tuple[str, list[int]]]  # (reason, ids of records it links)


def _groups(conn: sqlite3.Connection, keyed: dict[str, str]) -> Links:
    """(reason, ids) for each key that more than one record shares."""
    for reason, sql in keyed.items():
        for (ids,) in conn.execute(
            f"SELECT group_concat(id) FROM ({sql}) WHERE k IS NOT NULL AND k != ''"
            " GROUP BY k HAVING count(*) > 1"
        ):
            yield reason, [int(i) for i in ids.split(",")]


def _joined(links: Links, order: list[str]) -> list[tuple[str, list[int]]]:
    """Linked records as groups, transitively (union-find): A like B and B like C is one
    group of three, with every reason that joined it, in `order`."""
    parent: dict[int, int] = {}

    def root(item: int) -> int:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]  # halve the path as we go
            item = parent[item]
        return item

    reasons: list[tuple[str, int]] = []
    for reason, ids in links:
        first = root(ids[0])
        for other in ids[1:]:
            other_root = root(other)
            if other_root != first:
                parent[max(first, other_root)] = min(first, other_root)
                first = min(first, other_root)
        reasons.append((reason, ids[0]))
    members: dict[int, list[int]] = defaultdict(list)
    for item in sorted(parent):
        members[root(item)].append(item)
    why: dict[int, set[str]] = defaultdict(set)
    for reason, item in reasons:
        why[root(item)].add(reason)
    return [
        (", ".join(reason for reason in order if reason in why[top]), ids)
        for top, ids in sorted(members.items(), key=lambda group: group[1][0])
    ]


def dupes(conn: sqlite3.Connection) -> list[dict]:
    """Groups of contacts that are likely the same person, one group per person, each
    with its reasons: the same e-mail or phone, or the same or a very similar name at
    the same account (or, for the same name, both at none).  Similar: spelt nearly
    alike (Jane Do), or the same but for initials and middle names (Jane Q. Doe,
    Jane D., J. Doe)."""
    conn.create_function("crm_email_key", 1, _email_key, deterministic=True)
    conn.create_function("crm_phone_key", 1, _phone_key, deterministic=True)
    links = list(_groups(conn, _SAME))
    colleagues = conn.execute(
        "SELECT account_id, id, name_key FROM contacts WHERE account_id IS NOT NULL"
        " ORDER BY account_id"
    )
    for _, people in itertools.groupby(colleagues, key=lambda row: row[0]):
        links.extend(
            (_SIMILAR_NAME, list(pair)) for pair in _similar([(i, name) for _, i, name in people])
        )
    order = [*_SAME, _SIMILAR_NAME]
    return [
        {"reason": reason, "contacts": [contacts.get_contact(conn, i) for i in members]}
        for reason, members in _joined(iter(links), order)
    ]


def account_dupes(conn: sqlite3.Connection) -> list[dict]:
    """Groups of accounts that are likely one company: the same name but for case,
    punctuation and a legal suffix (ACME Inc., Acme GmbH), or the same web site's
    domain (https://www.acme.example/about and acme.example)."""
    conn.create_function("crm_company_key", 1, _company_key, deterministic=True)
    conn.create_function("crm_domain", 1, _domain, deterministic=True)
    return [
        {"reason": reason, "accounts": [accounts.get_account(conn, i) for i in members]}
        for reason, members in _joined(_groups(conn, _SAME_ACCOUNT), list(_SAME_ACCOUNT))
    ]


def _company_key(name: str) -> str:
    """`ACME, Inc.` and `Acme GmbH` are `acme`: folded, dots and apostrophes dropped
    (S.A. is sa), other punctuation a space, legal suffixes at the end left out
    (all of the name, if it is nothing else)."""
    words = re.sub(r"[^\w\s]", " ", re.sub(r"[.'’]", "", models.fold(name))).split()
    while len(words) > 1 and words[-1] in _LEGAL:
        words.pop()
    return " ".join(words)


def _domain(website: str | None) -> str | None:
    """www.acme.example of http://www.acme.example:8080/about is acme.example."""
    if not website:
        return None
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", website.strip().lower())
    host = re.split(r"[/?#]", host, maxsplit=1)[0].rpartition("@")[2].split(":")[0]
    host = host.rstrip(".").removeprefix("www.")
    return host if "." in host else None


def _name_words(name: str) -> list[str]:
    return re.findall(r"\w+", name)


def _agree(a: str, b: str) -> bool:
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def _initialled(first: list[str], second: list[str]) -> bool:
    """Jane Doe, Jane Q. Doe, Jane D. and J. Doe: the first and last words agree, one
    being the other's initial, at least one of them in full; middle words are ignored."""
    if len(first) < 2 or len(second) < 2 or first == second:
        return False
    pairs = ((first[0], second[0]), (first[-1], second[-1]))
    return all(_agree(a, b) for a, b in pairs) and any(a == b and len(a) > 1 for a, b in pairs)


def _similar(people: list[tuple[int, str]]) -> Iterator[tuple[int, int]]:
    """Pairs of colleagues with different but very similar names.  The matcher's
    cheap upper bounds rule out most pairs before its ratio is worked out.  An
    initial that stands for two different words at an account (J. Doe, with a Jane
    Doe and a John Doe there) links nobody."""
    matcher = difflib.SequenceMatcher(None)
    words = [_name_words(name) for _, name in people]
    partners: dict[int, list[int]] = defaultdict(list)  # index -> indexes it abbreviates
    for index, (_, first) in enumerate(people):
        matcher.set_seq2(first)  # the sequence difflib does its costly set-up for
        for other in range(index + 1, len(people)):
            second = people[other][1]
            if first == second:
                continue
            if _initialled(words[index], words[other]):
                partners[index].append(other)
                partners[other].append(index)
                continue
            matcher.set_seq1(second)
            if (
                matcher.real_quick_ratio() >= _SIMILAR
                and matcher.quick_ratio() >= _SIMILAR
                and matcher.ratio() >= _SIMILAR
            ):
                yield people[index][0], people[other][0]
    for index, found in partners.items():
        for other in found:
            if index < other and not (
                _ambiguous(words, index, other, found)
                or _ambiguous(words, other, index, partners[other])
            ):
                yield people[index][0], people[other][0]


def _ambiguous(words: list[list[str]], index: int, other: int, partners: list[int]) -> bool:
    """Whether an initial of `index` that `other` spells out stands, among all whose
    names it fits, for words that are not alike (J.: Jane and John; D.: Doe and Do are)."""
    for position in (0, -1):
        if len(words[index][position]) == 1 < len(words[other][position]):
            spelt = {words[p][position] for p in partners if len(words[p][position]) > 1}
            if any(
                difflib.SequenceMatcher(None, a, b).ratio() < _ALIKE
                for a, b in itertools.combinations(sorted(spelt), 2)
            ):
                return True
    return False


def plan(conn: sqlite3.Connection, noun: str, keep: int, others: list[int]) -> dict[str, int]:
    """What a merge moves onto the kept record, counted: {"e-mail": 2, ...}."""
    marks = ", ".join("?" for _ in others)
    if noun == "contact":
        counts = {
            "e-mail": f"SELECT count(*) FROM contact_emails WHERE contact_id IN ({marks})",
            "phone": f"SELECT count(*) FROM contact_phones WHERE contact_id IN ({marks})",
            "deal": f"SELECT count(*) FROM deals WHERE contact_id IN ({marks})",
            "activity": f"SELECT count(*) FROM activities WHERE contact_id IN ({marks})",
            "task": f"SELECT count(*) FROM tasks WHERE contact_id IN ({marks})",
        }
    else:
        counts = {
            "contact": f"SELECT count(*) FROM contacts WHERE account_id IN ({marks})",
            "deal": f"SELECT count(*) FROM deals WHERE account_id IN ({marks})",
            "activity": f"SELECT count(*) FROM activities WHERE account_id IN ({marks})",
            "task": f"SELECT count(*) FROM tasks WHERE account_id IN ({marks})",
            "child account": f"SELECT count(*) FROM accounts WHERE parent_id IN ({marks})",
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
                if table == "contact_phones" and _same_phone(conn, keep, row_id, value):
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


def _same_phone(conn: sqlite3.Connection, keep: int, row_id: int, value: str) -> bool:
    """Whether keep has this number already; if so it takes the label it lacks (mobile:)."""
    kept = conn.execute(
        "SELECT id, label FROM contact_phones WHERE contact_id = ? AND value = ?", (keep, value)
    ).fetchone()
    if kept is None:
        return False
    if kept[1] is None:
        conn.execute(
            "UPDATE contact_phones SET label = (SELECT label FROM contact_phones WHERE id = ?)"
            " WHERE id = ?",
            (row_id, kept[0]),
        )
    return True


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
