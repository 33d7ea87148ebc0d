"""vCard 2.1, 3.0 and 4.0: contacts in (`read_vcf`) and out (`card`); the mapping
between a card and crm's record lives here alone, for import, export and sync.

Writing: every line is made by `_line`, from a name that can be nothing but a
name, parameters that can be nothing but parameters, and a value escaped as
text (backslash, comma, semicolon, line breaks), so no stored value, however
it came in, can end a property, start a new one or add a parameter.  Long
lines are folded at 75 octets.

Reading: crm finds the lines and cards itself and has vobject parse one card
at a time (see read_vcf).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

from crmcli.errors import Refused

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


# -- reading --------------------------------------------------------------------
_VCARD_KNOWN = {"version", "fn", "n", "org", "title", "email", "tel", "adr", "bday", "note",
                "categories", "prodid", "rev", "label"}  # fmt: skip
_TYPE_SKIP = {"internet", "pref", "x400", "voice"}


def read_vcf(text: str) -> Iterator[tuple[str, str, dict]]:
    """vCard 2.1, 3.0 or 4.0 cards (several a file) as contacts.

    ROLE, URL, UID and properties crm has no field for are kept as custom fields
    (`role`, `url`, `uid`, `vcard.X-NAME`), so an export writes them back; binary
    data (a base64 PHOTO, LOGO, SOUND or KEY) is not kept.

    crm finds the lines and cards itself and has vobject parse one card's lines:
    vobject's own reader takes some 100 times a long line's size in memory, and
    a card inside a card makes it fail.  Memory follows the biggest card.
    """
    number, lines, begun = 0, None, 0
    for at, line in _logical_lines(text):
        head, _, value = line.partition(":")
        name = head.partition(";")[0].rpartition(".")[2].strip().upper()
        value = value.strip().upper()
        if lines is None and name == "BEGIN":
            number += 1
            if value != "VCARD":
                raise Refused(f"card {number}: a {_kind(value)} is not a vCard")
            lines, begun = [], at
        elif lines is None:
            raise _broken(at, f"a card begins with BEGIN:VCARD, not {_shown(line)}")
        elif name == "BEGIN":
            raise _broken(at, f"BEGIN:{_kind(value)} inside the card begun on line {begun}:"
                          " crm reads cards one after another, not one inside another")  # fmt: skip
        elif name == "END":
            if value != "VCARD":
                raise _broken(at, f"END:{_kind(value)} ends the card begun on line {begun}")
            yield f"card {number}", "contacts", _from_card(_parsed(lines, begun))
            lines = None
        else:
            lines.append((at, line))
    if lines is not None:
        raise _broken(begun, "the card begun here has no END:VCARD")


_PHYSICAL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each property: folded lines (the next begins with a
    space or tab) unfolded, vCard 2.1's quoted-printable soft breaks (a line ending
    in =) joined; blank lines left out."""
    pieces: list[str] = []
    begun = 0
    soft_break = False
    for number, match in enumerate(_PHYSICAL.finditer(text), start=1):
        line = match.group().rstrip("\r\n")
        if soft_break:
            pieces.append(line)
        elif pieces and line[:1] in (" ", "\t"):
            pieces.append(line[1:])
        else:
            if pieces and any(piece.strip() for piece in pieces):
                yield begun, "".join(pieces)
            pieces, begun = [line], number
        soft_break = line.endswith("=") and _quoted_printable(pieces[0])
        if soft_break:
            pieces[-1] = pieces[-1][:-1]
    if pieces and any(piece.strip() for piece in pieces):
        yield begun, "".join(pieces)


def _quoted_printable(line: str) -> bool:
    """Whether a property says ENCODING=QUOTED-PRINTABLE (or, as 2.1 may, just
    QUOTED-PRINTABLE) among its parameters."""
    params = line.partition(":")[0].upper().split(";")[1:]
    return any(
        param.strip() in ("QUOTED-PRINTABLE", "ENCODING=QUOTED-PRINTABLE") for param in params
    )


# Left to vobject: values with parts (N, ADR, ORG) or a list (CATEGORIES).
_STRUCTURED = {"N", "ADR", "ORG", "CATEGORIES"}
_ESCAPED = re.compile(r"\\([\\;,Nn\"])")


def _parsed(lines: list[tuple[int, str]], begun: int):
    """One card's lines as a vobject component.

    Text values are unescaped here, whole: vobject keeps only what comes before
    the first unescaped comma (`NOTE:Call him, he is nice` -> `Call him`).
    """
    from vobject import base

    card = base.Component("VCARD")
    for at, line in lines:
        if _value_at(line) < 0 and len(line) > _HEAD_MOST:
            raise _broken(at, f"no value within {_HEAD_MOST:,} characters: {_shown(line)}")
        try:
            prop = base.textLineToContentLine(line, at)
        except base.ParseError:
            raise _broken(at, f"not a property (NAME:VALUE): {_shown(line)}") from None
        except Exception as exc:  # quoted-printable text in an unknown or wrong charset
            raise _broken(at, f"cannot read {_shown(line)}: {str(exc)[:200]}") from None
        if _binary(prop):
            continue
        if prop.name not in _STRUCTURED:
            prop.value = _ESCAPED.sub(_unescaped, prop.value)
            prop.encoded = False
        card.add(prop)
    try:
        card.setBehavior(base.getBehavior("VCARD"))
        card.transformChildrenToNative()
    except Exception as exc:  # vobject raises several kinds for a value it cannot take
        at = getattr(exc, "lineNumber", None) or begun
        raise _broken(at, f"cannot read the card: {str(exc)[:200]}") from None
    return card


# A property's name and parameters: vobject's expression for them takes some 200
# bytes a character, so a megabyte of `;X=a;X=a...` would take gigabytes.
_HEAD_MOST = 10_000


def _value_at(line: str) -> int:
    """Where a property's value begins (after the first : outside double quotes), if
    within _HEAD_MOST characters; else -1."""
    quoted = False
    for index, char in enumerate(line[:_HEAD_MOST]):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index + 1
    return -1


def _unescaped(match: re.Match) -> str:
    return "\n" if match.group(1) in "nN" else match.group(1)


_MEDIA = {"PHOTO", "LOGO", "SOUND", "KEY"}


def _binary(prop) -> bool:
    """Base64 data: 2.1's ENCODING=BASE64, 3.0's ENCODING=b, 4.0's data: URIs."""
    encoding = {value.upper() for value in prop.params.get("ENCODING", [])}
    return (
        bool(encoding & {"B", "BASE64"})
        or "BASE64" in (param.upper() for param in prop.singletonparams)
        or (prop.name in _MEDIA and prop.value[:5].lower() == "data:")
    )


def _broken(line: int, what: str) -> Refused:
    return Refused(f"not a valid vCard file: line {line}: {what}")


def _shown(text: str, most: int = 40) -> str:
    """Text of the file in a message: quoted, and cut short."""
    return repr(text if len(text) <= most else text[:most] + "...")


def _kind(value: str) -> str:
    """What BEGIN: or END: names (VCARD), as given if it is a name."""
    return value if re.match(r"[A-Z0-9-]{1,40}\Z", value) else _shown(value)


def _from_card(card) -> dict:
    data: dict = {}
    fields: dict[str, str] = {}
    emails, phones = [], []
    # Apple labels a grouped property with a sibling: item1.X-ABLabel:Work.
    group_labels = {
        prop.group: str(prop.value).strip("_$!<>").lower()
        for prop in card.getChildren()
        if prop.name.upper() == "X-ABLABEL" and getattr(prop, "group", None)
    }
    for prop in card.getChildren():
        name = prop.name.lower()
        value = prop.value
        if name == "fn":
            data["name"] = str(value)
        elif name == "n":
            data["first_name"] = (
                " ".join(filter(None, [_joined(value.given), _joined(value.additional)])) or None
            )
            data["last_name"] = _joined(value.family) or None  # fmt: skip
        elif name == "org":
            data["account"] = (value[0] if isinstance(value, list) else str(value)) or None
        elif name == "title":
            data["title"] = str(value)
        elif name == "x-department":  # crm's own export writes it
            data["department"] = str(value)
        elif name == "email":
            emails.append(_with_label(prop, str(value), group_labels))
        elif name == "tel":
            phones.append(_with_label(prop, str(value).removeprefix("tel:"), group_labels))
        elif name == "adr" and "street" not in data:
            data.update({"street": _joined(value.street), "city": _joined(value.city),
                         "region": _joined(value.region), "postal_code": _joined(value.code),
                         "country": _joined(value.country)})  # fmt: skip
        elif name == "bday":
            _birthday(str(value), data, fields)
        elif name == "note":
            data["description"] = str(value).replace("\r\n", "\n")
        elif name == "categories":
            data["tags"] = list(value) if isinstance(value, list) else str(value).split(",")
        elif name in ("role", "url", "uid"):
            fields[name] = str(value)
        elif name not in _VCARD_KNOWN and name != "x-ablabel":
            fields[f"vcard.{prop.name.upper()}"[:64]] = str(value)
    if "name" not in data and not data.get("first_name") and not data.get("last_name"):
        data["name"] = emails[0].rpartition(":")[2] if emails else None
    data["emails"] = ";".join(emails)
    data["phones"] = ";".join(phones)
    data["fields"] = json.dumps(fields, ensure_ascii=False)
    return {key: value for key, value in data.items() if value not in (None, "")}


def _joined(value) -> str:
    return " ".join(value).strip() if isinstance(value, list) else (value or "").strip()


def _with_label(prop, value: str, group_labels: dict) -> str:
    """`work:jane@acme.example` from EMAIL;TYPE=WORK,INTERNET, 2.1's bare EMAIL;WORK, or
    an Apple group label."""
    types = [*getattr(prop, "singletonparams", [])]  # vCard 2.1: TEL;CELL
    for item in prop.params.get("TYPE", []):
        types += item.split(",")
    types = [kind.strip().lower() for kind in types]
    label = group_labels.get(getattr(prop, "group", None)) or next(
        (kind for kind in types if kind and kind not in _TYPE_SKIP), None
    )
    label = _label({"cell": "mobile"}.get(label, label))
    return f"{label}:{value.strip()}" if label else value.strip()


def _label(label: str | None) -> str | None:
    """Another program's label as crm keeps it: `:` and `;`, which a `label:value`
    cell cannot hold, and control characters become spaces (models.clean_label)."""
    from crmcli.models import clean_label

    return clean_label(label) if label else label


_BDAY = re.compile(r"(\d{4}|-)-?(\d{2})-?(\d{2})(T[\dZ:+-]*)?\Z")


def _birthday(value: str, data: dict, fields: dict) -> None:
    """BDAY as YYYY-MM-DD (19900423 and a time after it too) or, without a year
    (--0415), --MM-DD; anything else, text, is kept as it is as a field."""
    if match := _BDAY.match(value.strip()):
        data["birthday"] = "-".join(match.group(1, 2, 3))
    elif value.strip():
        fields["birthday"] = value
