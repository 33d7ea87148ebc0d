"""Full-text search over accounts, contacts, deals and activities (SQLite FTS5).

The index is kept in step by triggers (migration m004), so every write, by
crm or anything else, is findable at once.  Whatever the user types is taken
as words: each becomes a quoted prefix term, so FTS5 syntax (quotes, AND, *,
NEAR, -) can never be injected or cause a syntax error.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata

from crmcli import models
from crmcli.db import SEARCH_KINDS
from crmcli.errors import InvalidValue

HIT_START, HIT_END = "\x02", "\x03"  # around matches in a snippet; render highlights them
RANKED = 5000  # matches ranked per search; beyond that, index order decides
ADDRESS_PARTS = models.ADDRESS_KEYS[1:]  # as the index joins them (migrations.ADDRESS_PARTS)
KINDS = {"accounts": "account", "contacts": "contact", "deals": "deal", "activities": "activity"}


def match_expression(query: str) -> str | None:
    """`Jane Doe@acme` -> `"jane"* "doe"* "acme"*`: every word must match, as a prefix."""
    return " ".join(f'"{word}"*' for word in _words(query)) or None


def search(
    conn: sqlite3.Connection, query: str, *, kind: str | None = None, limit: int = 20
) -> list[dict]:
    """Ranked hits: kind, id, name, snippet (matches marked), rank (1 = best)."""
    if not 1 <= limit <= models.MAX_INT:
        raise InvalidValue(f"--limit takes a number from 1 to {models.MAX_INT:,}")
    expression = match_expression(query)
    if expression is None:
        raise InvalidValue("give at least one word to search for")
    order = _common(conn, query, kind, limit)
    if order is None:
        # Rank at most RANKED matches: bm25 costs about a microsecond a match, and a
        # word in every other record would otherwise cost a second.  FTS5 would also
        # make a snippet for every ranked match, so snippets are cut here instead,
        # for the hits shown only.
        where, params = _where(expression, kind)
        ranked = (
            f"SELECT rowid FROM (SELECT rowid, bm25(search, 0.0, 10.0, 1.0) AS score FROM"
            f" search WHERE {where} LIMIT {RANKED}) ORDER BY score LIMIT ?"
        )
        order = [rowid for (rowid,) in conn.execute(ranked, [*params, limit])]
    marks = ", ".join("?" for _ in order)
    texts = {
        rowid: (name, body)
        for rowid, name, body in conn.execute(
            f"SELECT rowid, name, body FROM search WHERE rowid IN ({marks})", order
        )
    }
    terms = _words(query)
    return [
        {
            "kind": SEARCH_KINDS[rowid & 3],
            "id": rowid >> 2,
            "name": texts[rowid][0],
            "snippet": snippet(*texts[rowid], terms),
            "rank": position,
        }
        for position, rowid in enumerate(order, start=1)
    ]


def _where(expression: str, kind: str | None) -> tuple[str, list]:
    """The MATCH, and the kind as the rowid's low bits (no read of the entry)."""
    if kind is None:
        return "search MATCH ?", [expression]
    return "search MATCH ? AND rowid % 4 = ?", [expression, SEARCH_KINDS.index(KINDS[kind])]


def _common(conn: sqlite3.Connection, query: str, kind: str | None, limit: int) -> list | None:
    """The hits' rowids when every word is in RANKED records or more as it is
    written (whole, not as a prefix), else None (rank those with bm25).

    FTS5 reads a whole word's matches lazily, so the first RANKED cost little
    however many there are; a prefix is expanded and bm25 weighs every match
    first (a tenth of a second at a million).  So a word that common is taken
    whole, and the RANKED first matches (in index order) are ranked cheaply:
    those with every word in the name first, then the others, each in index
    order.
    """
    words = _words(query)
    whole = " ".join(f'"{word}"' for word in words)
    where, params = _where(whole, kind)
    cursor = conn.execute(f"SELECT rowid FROM search WHERE {where} LIMIT {RANKED}", params)
    found = [rowid for (rowid,) in cursor]
    if len(found) < RANKED:
        return None
    in_name = " ".join(f'name : "{word}"' for word in words)
    where, params = _where(in_name, kind)
    # Read downwards from the last of those: FTS5 then reads only their range
    # (upwards, it reads every match past the bound too: 27 ms at a million).
    named = [
        rowid
        for (rowid,) in conn.execute(
            f"SELECT rowid FROM search WHERE {where} AND rowid <= ? ORDER BY rowid DESC",
            [*params, found[-1]],
        )
    ][::-1][:limit]
    chosen = set(named)
    return (named + [rowid for rowid in found if rowid not in chosen])[:limit]


# -- entries, as the views give them ------------------------------------------------
# The text the search_accounts and search_contacts views (migrations m004, m010)
# give a record, worked out in Python for bulk writes (store.bulk): through the
# view a million contacts' entries cost 3.5 s of the writing process; this runs
# in the process that checks the import.  tests/test_search.py proves that both
# give the same text, and `crm db check` compares every entry with its view.
_PUNCTUATION = str.maketrans("", "", " -().+/")  # what the views' _digits() drops


def _phone_text(number: str) -> str:
    digits = number.translate(_PUNCTUATION)
    return f"{number} {digits} {digits[-10:]} {digits[-7:]}"


def _joined(*parts: str | None) -> str:
    """The views' _words(): the parts that are not NULL, joined by spaces."""
    return "".join(f"{part} " for part in parts if part is not None).strip(" ")


def _address_and_more(row: dict) -> tuple:
    tags, fields = row.get("tags", "[]"), row.get("fields", "{}")
    return (
        *(row.get(column) for column in models.ADDRESS_FIELDS),
        row.get("description"),
        tags if tags != "[]" else None,
        fields if fields != "{}" else None,
    )


def account_text(row: dict) -> str:
    """The search body of an account written as `row` (its columns)."""
    phone = row.get("phone")
    return _joined(
        row.get("industry"),
        row.get("website"),
        row.get("email"),
        _phone_text(phone) if phone is not None else None,
        *_address_and_more(row),
    )


_TEXT_LISTS = ("addresses", "urls", "impps", "related")


def contact_text(row: dict, emails: list, phones: list, lists: dict | None = None) -> str:
    """The search body of a contact written as `row` (its columns, lists as JSON
    text, or already decoded in `lists`), with its (label, value) e-mails and
    phones in order (migrations' CONTACT_BODY)."""
    if lists is None:
        lists = {
            column: json.loads(row[column])
            for column in _TEXT_LISTS
            if row.get(column) not in (None, "[]")
        }
    # The views' nested _words() and group_concat()s as one join of every piece:
    # joining the pieces of a list first, then the lists, gives the same text.
    get = row.get
    pieces = [get("nickname"), get("middle_name"), get("title"), get("department")]
    for _, address in emails:
        pieces.append(address)
    for _, number in phones:
        pieces.append(_phone_text(number))
    for address in lists.get("addresses") or ():
        pieces.append(_address_words(address))
    for column in _TEXT_LISTS[1:]:
        if lists.get(column):
            pieces += [item["value"] for item in lists[column]]
    tags, fields = get("tags", "[]"), get("fields", "{}")
    pieces += [get("description"), tags if tags != "[]" else None,
               fields if fields != "{}" else None]  # fmt: skip
    return " ".join([piece for piece in pieces if piece is not None]).strip(" ")


def _address_words(address: dict) -> str:
    """An address's _joined() parts (the views' _words() of them)."""
    return " ".join([value for part in ADDRESS_PARTS if (value := address[part]) is not None]
                    ).strip(" ")  # fmt: skip


def _words(text: str) -> list[str]:
    """Words as the index sees them: case and accents dropped (unicode61, diacritics 2)."""
    plain = unicodedata.normalize("NFD", re.sub(models.IGNORABLE, "", text).casefold())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return re.findall(r"[^\W_]+", plain)


def snippet(name: str | None, body: str | None, terms: list[str], width: int = 12) -> str:
    """Up to `width` words around the first match, matches between HIT_START/HIT_END.

    The name is used when a term matches in it, else the body; one line.
    """
    for text in (name or "", body or ""):
        spans = [match.span() for match in re.finditer(r"[^\W_]+", text)]
        hits = [
            index
            for index, (start, end) in enumerate(spans)
            if any(word.startswith(term) for word in _words(text[start:end]) for term in terms)
        ]
        if not hits:
            continue
        first = max(0, hits[0] - 3)
        last = min(len(spans), first + width)
        pieces, position = [], spans[first][0]
        for index in range(first, last):
            start, end = spans[index]
            pieces.append(text[position:start])
            word = text[start:end]
            pieces.append(f"{HIT_START}{word}{HIT_END}" if index in hits else word)
            position = end
        cut = ("…" if first > 0 else "") + "".join(pieces) + ("…" if last < len(spans) else "")
        return " ".join(cut.split())
    return " ".join((name or "").split())


# -- addresses for a mail client (crm mail query) ------------------------------------
# Candidates come from the index: contacts whose entry has every word, and the
# contacts of accounts whose name has any of them (a word may be in the account's
# name, the others in the contact's).  Each candidate is then checked in Python:
# every word must begin a word of its name, nickname, e-mail addresses or account
# (the entry also holds titles, notes...).
# The kind is told by the rowid's low bits (m004): reading the kind column would
# read every match's stored text, seconds for a common word at a million contacts.
_CANDIDATES = (
    "SELECT rowid >> 2 FROM search WHERE search MATCH :words AND rowid & 3 = 1"
    " UNION SELECT id FROM contacts WHERE account_id IN"
    " (SELECT rowid >> 2 FROM search WHERE search MATCH :account AND rowid & 3 = 0)"
)
_ADDRESSED = (
    "SELECT id, name, nickname, account, emails FROM contacts"
    " WHERE email IS NOT NULL{among}"
    " ORDER BY last_contacted IS NULL, last_contacted DESC, name_order, id"
)


def mail_candidates(query: str) -> tuple[str, dict]:
    """The SQL and parameters of the contacts that may match `query`, in order."""
    terms = _words(query)
    if not terms:
        return _ADDRESSED.format(among=""), {}
    accounts = " OR ".join(f'"{term}"*' for term in terms)
    return (
        _ADDRESSED.format(among=f" AND id IN ({_CANDIDATES})"),
        {"words": match_expression(query), "account": f"name : ({accounts})"},
    )


def mail_addresses(
    conn: sqlite3.Connection, query: str, *, limit: int | None = None
) -> list[tuple[str, str, str]]:
    """(address, name, account) of the contacts matching `query`, one per address
    and at most `limit`: contacts in touch most recently first, then by name.
    Names come as one line (models.one_line); no words: every contact."""
    terms = _words(query)
    chosen: list[tuple[int, str, str]] = []
    count = 0
    for row_id, name, nickname, account, emails in conn.execute(*mail_candidates(query)):
        if terms:
            words = _words(" ".join(filter(None, (name, nickname, account, _addresses(emails)))))
            if not all(any(word.startswith(term) for word in words) for term in terms):
                continue
        chosen.append((row_id, models.one_line(name) or "", models.one_line(account) or ""))
        count += emails.count(";") + 1
        if limit is not None and count >= limit:
            break
    if not chosen:
        return []
    marks = ", ".join("?" for _ in chosen)
    addresses: dict[int, list[str]] = {}
    for contact_id, value in conn.execute(
        f"SELECT contact_id, value FROM contact_emails WHERE contact_id IN ({marks})"
        " ORDER BY contact_id, position",
        [row_id for row_id, _, _ in chosen],
    ):
        addresses.setdefault(contact_id, []).append(value)
    found = [
        (models.one_line(address) or "", name, account)
        for row_id, name, account in chosen
        for address in addresses.get(row_id, [])
    ]
    return found[:limit] if limit is not None else found


def _addresses(emails: str | None) -> str:
    """The addresses of a contacts.emails summary (`label:value;value`), labels dropped."""
    if not emails:
        return ""
    values = []
    for item in emails.split(";"):
        label, colon, value = item.partition(":")
        values.append(value if colon and "@" not in label else item)
    return " ".join(values)
