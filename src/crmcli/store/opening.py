"""The URL `crm open` hands the desktop: a website, mailto:, tel: or a map."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from urllib.parse import quote

from crmcli import models
from crmcli.errors import NotFound, Refused
from crmcli.store import refs

ACTIONS = ("web", "mail", "call", "map")
MAP_URL = "https://www.openstreetmap.org/search?query="
_WHAT = {"web": "website", "mail": "e-mail", "call": "phone", "map": "address"}


def url(conn: sqlite3.Connection, ref: str, action: str | None) -> str:
    """The URL for `action` on the contact named `ref` (else the account); with no
    action, the first of web, mail, call, map the record has."""
    record, noun = _record(conn, ref)
    targets = {
        "web": _website(record["website"]),
        "mail": f"mailto:{quote(record['email'], safe='@!$&*+=~-._')}" if record["email"] else None,
        "call": _tel(record["phone"]),
        "map": _map(record),
    }
    if action is None:
        found = next((target for target in targets.values() if target), None)
        if found is None:
            raise Refused(f"{noun} has no website, e-mail, phone or address to open")
        return found
    if targets[action] is None:
        if action == "web" and record["website"]:
            raise Refused(f"{noun}: its website {record['website']!r} is not an http(s) address")
        raise Refused(f"{noun} has no {_WHAT[action]}")
    return targets[action]


def _record(conn: sqlite3.Connection, ref: str) -> tuple[dict, str]:
    columns = "website, email, phone, street, city, region, postal_code, country"
    try:
        contact_id = refs.contact_id(conn, ref)
    except NotFound as missing:
        try:
            account_id = refs.account_id(conn, ref)
        except NotFound:
            raise missing from None  # neither: the contact's error, with its closest names
        row = conn.execute(
            f"SELECT name, {columns} FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        return dict(zip(("name", *columns.split(", ")), row, strict=True)), f"account {row[0]!r}"
    row = conn.execute(
        "SELECT c.name, coalesce((SELECT u.value ->> 'value' FROM json_each(c.urls) u"
        " LIMIT 1), a.website), c.email, c.phone, c.street, c.city, c.region,"
        " c.postal_code, c.country FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id"
        " WHERE c.id = ?",
        (contact_id,),
    ).fetchone()
    return dict(zip(("name", *columns.split(", ")), row, strict=True)), f"contact {row[0]!r}"


def _website(text: str | None) -> str | None:
    """http(s) only: a stored `file:` or `javascript:` URL is never handed on."""
    if not text or not text.strip():
        return None
    text = text.strip()
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", text)
    if scheme is None:
        text = "https://" + text.lstrip("/")
    elif scheme.group(1).lower() not in ("http", "https"):
        return None
    if re.search(r"[\x00-\x1f\x7f-\x9f]", text):
        return None
    # What a URL cannot hold as such is percent-encoded: blanks, quotes and angle
    # brackets, and the invisible ones (bidi overrides, zero-width) that would show
    # the user another address than the one opened.
    return "".join(
        quote(char, safe="") if char in _UNSAFE or unicodedata.category(char)[0] in "CZ" else char
        for char in text
    )


_UNSAFE = set(' "<>\\^`{|}')


def _tel(phone: str | None) -> str | None:
    """tel: with the number's digits, * and # and a leading + (RFC 3966 without separators),
    an extension (`x23`, `ext. 23`, `,23`, `;ext=23`) as `;ext=23`: never dialled as
    more digits of the number."""
    if not phone:
        return None
    text = models.nfc(phone).translate(_DIGITS)
    extension = _EXTENSION.search(text)
    if extension is not None:
        text = text[: extension.start()]
    digits = re.sub(r"[^0-9+*#]", "", text.split(";")[0])  # a service code's * and # kept
    digits = (digits[:1] + digits[1:].replace("+", "")).replace("#", "%23")
    if not any(char.isdigit() for char in digits):
        return None
    return f"tel:{digits}" + (f";ext={extension.group(1)}" if extension is not None else "")


_EXTENSION = re.compile(r"(?i)\s*(?:;\s*ext\s*=|ext(?:ension)?\.?|x|,+)\s*:?\s*([0-9]+)\s*$")
_DIGITS = {code: str(value) for value in range(10) for code in (0xFF10 + value,)}


def _map(record: dict) -> str | None:
    parts = [record[key] for key in models.ADDRESS_FIELDS if record[key]]
    if not parts:
        return None
    return MAP_URL + quote(", ".join(models.one_line(part) or "" for part in parts), safe="")
