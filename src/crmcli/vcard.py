"""vCards (RFC 6350 for 4.0, RFC 2426 for 3.0) written from contact records.

Writing is plain text work, done here; reading (import) uses vobject.  Every
value is escaped, so a `;`, `,` or line break in a name or note can never end a
property or start a new one, and long lines are folded at 75 octets.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("5d1e3c2a-6a9b-4f0e-9a44-0c2b8f1e7d11")  # crmcli's, fixed forever
_TEL_TYPES = {"mobile": "cell", "cell": "cell", "work": "work", "home": "home", "fax": "fax"}


def uid(contact: dict) -> str:
    """The UID a card came in with, else one that stays the same at every export."""
    if contact.get("fields", {}).get("uid"):
        return contact["fields"]["uid"]
    name = f"contact:{contact['id']}:{contact['created_at']}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def escape(value: str) -> str:
    """A text value: backslash, comma, semicolon and line breaks escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value, quoted when it holds anything but letters, digits and -."""
    clean = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return clean if clean.replace("-", "").isalnum() else f'"{clean}"'


def fold(line: str) -> str:
    """Fold at 75 octets, never inside a UTF-8 character; CRLF line ends."""
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
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"UID:{uid(contact)}"]
    lines.append(f"FN:{escape(contact['name'])}")
    lines.append(
        "N:" + ";".join(escape(contact[key] or "") for key in ("last_name", "first_name")) + ";;;"
    )
    if contact.get("account"):
        lines.append(f"ORG:{escape(contact['account'])}")
    for key, prop in (("title", "TITLE"), ("department", "X-DEPARTMENT")):
        if contact.get(key):
            lines.append(f"{prop}:{escape(contact[key])}")
    for position, item in enumerate(contact["emails"]):
        lines.append(_typed("EMAIL", item, position, version))
    for position, item in enumerate(contact["phones"]):
        label = item["label"]
        typed = {**item, "label": _TEL_TYPES.get((label or "").lower(), label)}
        lines.append(_typed("TEL", typed, position, version))
    address = [contact.get(key) or "" for key in ("street", "city", "region", "postal_code",
                                                    "country")]  # fmt: skip
    if any(address):
        lines.append("ADR:;;" + ";".join(escape(part) for part in address))
    fields = contact.get("fields") or {}
    birthday = contact.get("birthday") or fields.get("birthday")  # --0415: no year
    if birthday:
        lines.append(f"BDAY:{birthday}")
    for key, prop in (("role", "ROLE"), ("url", "URL")):
        if fields.get(key):
            lines.append(f"{prop}:{escape(fields[key]) if key == 'role' else fields[key]}")
    if contact.get("description"):
        lines.append(f"NOTE:{escape(contact['description'])}")
    if contact.get("tags"):
        lines.append("CATEGORIES:" + ",".join(escape(tag) for tag in contact["tags"]))
    for key, value in fields.items():  # properties crm has no field for, as imported
        name = key.removeprefix("vcard.")
        if key.startswith("vcard.") and name.replace("-", "").isalnum():
            lines.append(f"{name}:{escape(value)}")
    lines.append(f"REV:{contact['updated_at'].replace('-', '').replace(':', '')}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def _typed(prop: str, item: dict, position: int, version: str) -> str:
    params = []
    if item["label"]:
        params.append(f"TYPE={_param(item['label'])}")
    if position == 0:  # the primary one
        params.append("PREF=1" if version == "4.0" else "TYPE=pref")
    head = ";".join([prop, *params])
    return f"{head}:{escape(item['value'])}"
