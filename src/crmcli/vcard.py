"""vCards (RFC 6350 for 4.0, RFC 2426 for 3.0) written from contact records.

Writing is plain text work, done here; reading (import) is in importers.py.
Every line is made by `_line`: a property name that can be nothing but a
name, parameters that can be nothing but parameters, and a value escaped as
text (backslash, comma, semicolon, line breaks), so no stored value, however
it came in, can end a property, start a new one or add a parameter.  Long
lines are folded at 75 octets.
"""

from __future__ import annotations

import re
import uuid

_NAMESPACE = uuid.UUID("5d1e3c2a-6a9b-4f0e-9a44-0c2b8f1e7d11")  # crmcli's, fixed forever
_TEL_TYPES = {"mobile": "cell", "cell": "cell", "work": "work", "home": "home", "fax": "fax"}
_NAME = re.compile(r"[A-Za-z0-9-]+\Z")  # a property name, no group
# What crm writes itself (or reads into a field of its own): a custom field
# `vcard.EMAIL` or `vcard.END` must not add an e-mail or end the card.
_OWN = {"BEGIN", "END", "VERSION", "PRODID", "UID", "FN", "N", "ORG", "TITLE", "X-DEPARTMENT",
        "EMAIL", "TEL", "ADR", "LABEL", "BDAY", "ROLE", "URL", "NOTE", "CATEGORIES", "REV",
        "X-ABLABEL"}  # fmt: skip
# The forms of a date crm writes as BDAY's value; anything else is text.
_DATE = re.compile(r"(\d{4}(-?\d{2}(-?\d{2})?)?|--\d{2}-?\d{2}|---\d{2})\Z")
_UNSAFE_PARAM = re.compile(r'["\x00-\x1f\x7f]')  # not even inside quotes
_SPECIAL = re.compile(r"[\\,;\r\n]")  # what escape() changes
_NAMES_SEEN: set[str] = set()  # property names already checked against _NAME


def uid(contact: dict) -> str:
    """The UID a card came in with, else one that stays the same at every export."""
    if contact.get("fields", {}).get("uid"):
        return contact["fields"]["uid"]
    name = f"contact:{contact['id']}:{contact['created_at']}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def escape(value: str) -> str:
    """A text value: backslash, comma, semicolon and line breaks escaped."""
    if _SPECIAL.search(value) is None:
        return value  # nearly every value: one search instead of six replaces
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(name: str, value: str) -> str:
    """NAME=VALUE, the value quoted when it holds anything but letters, digits and -;
    a double quote or a control character, which no quoting can hold, is a space."""
    clean = _UNSAFE_PARAM.sub(" ", value)
    return f"{name}={clean}" if _NAME.match(clean) else f'{name}="{clean}"'


def _line(name: str, *parts: str, params: tuple[str, ...] = (), sep: str = ";") -> str:
    """One property, folded: its parts escaped as text and joined by `sep` (N and
    ADR have parts; CATEGORIES is a list)."""
    if name not in _NAMES_SEEN:
        if not _NAME.match(name):
            raise ValueError(f"not a vCard property name: {name!r}")
        if len(_NAMES_SEEN) < 256:  # crm's own names and a few custom ones
            _NAMES_SEEN.add(name)
    head = ";".join([name, *params]) if params else name
    value = escape(parts[0]) if len(parts) == 1 else sep.join(escape(part) for part in parts)
    return fold(f"{head}:{value}")


def fold(line: str) -> str:
    """Fold at 75 octets, never inside a UTF-8 character; CRLF line ends."""
    if len(line) <= 75 and line.isascii():
        return line + "\r\n"
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    pieces, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines begin with a space
    return "\r\n ".join(pieces) + "\r\n"


def card(contact: dict, version: str = "4.0") -> str:
    """One contact as a vCard."""
    lines = ["BEGIN:VCARD\r\n", _line("VERSION", version), _line("UID", uid(contact))]
    lines.append(_line("FN", contact["name"]))
    lines.append(
        _line("N", *(contact[key] or "" for key in ("last_name", "first_name")), "", "", "")
    )
    if contact.get("account"):
        lines.append(_line("ORG", contact["account"]))
    for key, prop in (("title", "TITLE"), ("department", "X-DEPARTMENT")):
        if contact.get(key):
            lines.append(_line(prop, contact[key]))
    for position, item in enumerate(contact["emails"]):
        lines.append(_typed("EMAIL", item, position, version))
    for position, item in enumerate(contact["phones"]):
        label = item["label"]
        typed = {**item, "label": _TEL_TYPES.get((label or "").lower(), label)}
        lines.append(_typed("TEL", typed, position, version))
    address = [contact.get(key) or "" for key in ("street", "city", "region", "postal_code",
                                                    "country")]  # fmt: skip
    if any(address):
        lines.append(_line("ADR", "", "", *address))
    fields = contact.get("fields") or {}
    birthday = contact.get("birthday")
    if birthday and birthday.startswith("--"):  # no year: --04-15 is --0415 in vCard
        birthday = f"--{birthday[2:4]}{birthday[5:]}"
    birthday = birthday or fields.get("birthday")  # a BDAY crm could not read, as it came
    if birthday:
        # A date as it is; other text (a stored field may hold anything) as text.
        text = () if _DATE.match(birthday) or version != "4.0" else ("VALUE=text",)
        lines.append(_line("BDAY", birthday, params=text))
    for key, prop in (("role", "ROLE"), ("url", "URL")):
        if fields.get(key):
            lines.append(_line(prop, fields[key]))
    if contact.get("description"):
        lines.append(_line("NOTE", contact["description"]))
    if contact.get("tags"):
        lines.append(_line("CATEGORIES", *contact["tags"], sep=","))
    for key, value in fields.items():  # properties crm has no field for, as imported
        name = key.removeprefix("vcard.")
        if key.startswith("vcard.") and _NAME.match(name) and name.upper() not in _OWN:
            lines.append(_line(name, value))
    lines.append(_line("REV", contact["updated_at"].replace("-", "").replace(":", "")))
    lines.append("END:VCARD\r\n")
    return "".join(lines)


def _typed(prop: str, item: dict, position: int, version: str) -> str:
    params = []
    if item["label"]:
        params.append(_param("TYPE", item["label"]))
    if position == 0:  # the primary one
        params.append("PREF=1" if version == "4.0" else "TYPE=pref")
    return _line(prop, item["value"], params=tuple(params))
