"""Reading files for `crm import`: JSON/JSONL (our export), CSV/TSV and vCard.

Each reader turns a file's text into (where, kind, data) items for
`store.imports`, with `data` keyed by SPEC's field names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import NoReturn

from crmcli.errors import InvalidValue, Refused

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
PLURAL = {"account": "accounts", "contact": "contacts", "deal": "deals",
          "activity": "activities", "task": "tasks"}  # fmt: skip
FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
           ".vcf": "vcf", ".vcard": "vcf"}  # fmt: skip


def decode(data: bytes, encoding: str | None) -> str:
    """Text from bytes: UTF-8 (a BOM is dropped) unless told; never mojibake."""
    codec = encoding or "utf-8-sig"
    try:
        return data.decode(codec)
    except LookupError:
        raise InvalidValue(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Refused(
            f"the file is not valid {codec} (byte 0x{data[exc.start]:02x} on line {line});"
            " say which encoding it is with --encoding, e.g. --encoding cp1252"
        ) from None


def read_json(text: str, kind: str) -> Iterator[tuple[str, str, dict]]:
    """Our backup ({"accounts": [...], ...}) or a plain list of one kind, decoded a
    record at a time: as one document, a million-contact backup takes gigabytes.

    A backup's kinds must come in the order `crm export` writes them (accounts,
    contacts, deals, activities, tasks), since links name records read before.
    """
    document = _Json(text)
    opening = document.peek()
    if opening == "[":
        yield from _records(document.elements(), kind)
    elif opening == "{":
        yield from _backup(document)
    else:
        document.value()  # not JSON: says where; a bare value: refused below
        raise Refused("the JSON must be a crm export or a list of records")
    document.end()


def _backup(document: _Json) -> Iterator[tuple[str, str, dict]]:
    document.expect("{")
    read: list[str] = []
    more = not document.take("}")
    while more:
        if document.peek() != '"':
            document.fail("a name in double quotes")
        name = document.value()
        document.expect(":")
        if name not in KINDS:
            document.value()  # the header (crmcli, version, exported_at) or another key
        elif read and KINDS.index(name) <= KINDS.index(read[-1]):
            raise Refused(
                f"the backup lists {name} after {read[-1]}: crm reads accounts, contacts,"
                " deals, activities and tasks in that order, each once"
            )
        elif document.peek() != "[":
            raise Refused(f"{name} must be a list of records")
        else:
            read.append(name)
            yield from _records(document.elements(), name)
        more = document.take(",")
        if not more:
            document.expect("}")
    if not read:
        raise Refused("the JSON holds no accounts, contacts, deals, activities or tasks")


def _records(elements: Iterator, name: str) -> Iterator[tuple[str, str, dict]]:
    for index, record in enumerate(elements, start=1):
        if not isinstance(record, dict):
            raise Refused(f"{name} #{index} is not a record (an object)")
        yield f"{name} #{index}", name, record


class _Json:
    """A place in JSON text, whose values are decoded one at a time (the standard
    decoder does each; this only walks the outer object and arrays)."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    _DECODER = json.JSONDecoder()

    def __init__(self, text: str):
        self.text, self.at = text, 0

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        self.at = self._SPACE.match(self.text, self.at).end()
        return self.text[self.at : self.at + 1]

    def take(self, char: str) -> bool:
        if self.peek() != char:
            return False
        self.at += 1
        return True

    def expect(self, char: str) -> None:
        if not self.take(char):
            self.fail(repr(char))

    def value(self):
        self.peek()
        try:
            value, self.at = self._DECODER.raw_decode(self.text, self.at)
        except json.JSONDecodeError as exc:
            raise Refused(f"not valid JSON: {exc}") from None
        except RecursionError:
            raise Refused(f"not valid JSON: {_TOO_DEEP} ({self.where()})") from None
        except ValueError:  # a number of over 4,300 digits
            raise Refused(f"not valid JSON: {_too_long()} ({self.where()})") from None
        return value

    def elements(self) -> Iterator:
        """The values of the array that starts here, one by one."""
        self.expect("[")
        if self.take("]"):
            return
        while True:
            yield self.value()
            if not self.take(","):
                self.expect("]")
                return

    def end(self) -> None:
        if self.peek():
            self.fail("the end of the file")

    def where(self) -> str:
        line = self.text.count("\n", 0, self.at) + 1
        column = self.at - self.text.rfind("\n", 0, self.at)
        return f"line {line} column {column}"

    def fail(self, expected: str) -> NoReturn:
        raise Refused(f"not valid JSON: expected {expected}: {self.where()}")


# The decoder recurses for each array or object inside another: Python allows
# some 1,000 levels, far beyond any record of ours.
_TOO_DEEP = "arrays or objects nested too deeply (over some 900 levels)"


def _too_long() -> str:
    """What Python's int() refuses (its own message tells a programmer what to set)."""
    import sys

    return f"a number of more than {sys.get_int_max_str_digits():,} digits"


def read_jsonl(text: str, kind: str) -> Iterator[tuple[str, str, dict]]:
    """One object a line; `record` (account, contact ...) names its kind, else --kind.

    Lines end at \n only (JSON may hold a raw U+2028 or \x85, which splitlines()
    would cut at), and are taken one at a time, not copied all at once.
    """
    for number, match in enumerate(re.finditer(r"[^\n]*\n|[^\n]+\Z", text), start=1):
        line = match.group()
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise Refused(f"line {number}: not valid JSON: {exc}") from None
        except ValueError:
            raise Refused(f"line {number}: not valid JSON: {_too_long()}") from None
        except RecursionError:
            raise Refused(f"line {number}: not valid JSON: {_TOO_DEEP}") from None
        if not isinstance(record, dict):
            raise Refused(f"line {number}: not a record (an object)")
        name = PLURAL.get(record.pop("record", None) or "", kind)
        yield f"line {number}", name, record


# -- CSV ---------------------------------------------------------------------------
# Column names of the common exports, normalised (lower case, runs of space, _ and
# - as one space), for the fields they fill.  Our own field names are known too.
_CONTACT_COLUMNS = {
    "name": ["name", "full name", "display name"],
    "first_name": ["first name", "given name", "firstname"],
    "last_name": ["last name", "family name", "surname", "lastname"],
    "title": ["job title", "position", "organization 1 title", "organization title",
              "title"],
    "department": ["department", "organization 1 department", "organization department"],
    "account": ["company", "company name", "organization", "organization name",
                "organization 1 name", "account", "account name", "associated company"],
    "street": ["street", "address 1 street", "business street", "mailing street",
               "street address", "home street"],
    "city": ["city", "address 1 city", "business city", "mailing city", "home city"],
    "region": ["region", "state", "state region", "address 1 region", "business state",
               "mailing state province", "home state", "state province"],
    "postal_code": ["postal code", "zip", "zip code", "address 1 postal code",
                    "business postal code", "mailing zip postal code", "home postal code"],
    "country": ["country", "country region", "address 1 country", "business country region",
                "mailing country", "home country region"],
    "birthday": ["birthday", "birthdate", "birth date"],
    "description": ["description", "notes", "note"],
    "tags": ["tags", "categories", "group membership", "labels"],
}  # fmt: skip
_EMAIL_COLUMNS = {
    "email": None, "emails": "*", "e mail": None, "email address": None,
    "e mail address": None, "e mail 2 address": None, "e mail 3 address": None,
    "work email": "work", "home email": "home", "other email": "other",
}  # fmt: skip
_PHONE_COLUMNS = {
    "phone": None, "phones": "*", "phone number": None, "business phone": "work",
    "business phone 2": "work", "home phone": "home", "home phone 2": "home",
    "mobile phone": "mobile", "mobile": "mobile", "mobile phone number": "mobile",
    "work phone": "work", "other phone": "other", "business fax": "fax", "fax": "fax",
}  # fmt: skip
_KNOWN = {alias: field for field, aliases in _CONTACT_COLUMNS.items() for alias in aliases}
_GOOGLE = r"(e mail|phone) (\d+) (value|type|label)\Z"  # Google's numbered columns
# The ' that crm's CSV/TSV writer puts before a formula cell or a cell starting with '
# (crmcli.render): taken off again, and only that one.
_FORMULA = ("'=", "'+", "'-", "'@", "'\t", "'\r", "''")


def _key(header: str) -> str:
    import re

    return re.sub(r"[\s_\-/]+", " ", header.strip().lower()).strip()


def _field_for(header: str, kind: str, mapping: dict[str, str]):
    """What a column fills: a field name, ("email"|"phone", label), or a custom field."""
    import re

    if header in mapping:
        return mapping[header]
    key = _key(header)
    if kind != "contacts":
        return key.replace(" ", "_")
    if key in _EMAIL_COLUMNS:
        return ("email", _EMAIL_COLUMNS[key])
    if key in _PHONE_COLUMNS:
        return ("phone", _PHONE_COLUMNS[key])
    if match := re.match(_GOOGLE, key):
        return ("email" if match.group(1) == "e mail" else "phone", match.group(2),
                match.group(3))  # fmt: skip
    if key in _KNOWN:
        return _KNOWN[key]
    return key.replace(" ", "_")  # ours (postal_code ...) or a custom field


def read_csv(
    text: str, kind: str, delimiter: str, mapping: list[str], unescape: bool | None = None
) -> Iterator[tuple[str, str, dict]]:
    """Rows of a CSV/TSV file as records: known columns to fields, the rest to
    custom fields, several e-mail/phone columns to labelled lists.

    TSV: crm's escapes (\\t \\n \\r \\\\) are read back when `unescape` says so,
    by default only in a file whose header is one crm writes (see crm_header)."""
    import csv

    from crmcli.models import FIELDS_BY_KIND, TEXT_MAX_BYTES

    maps = {}
    for pair in mapping:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise InvalidValue(f"--map takes COLUMN=FIELD (got {pair!r})")
        maps[column.strip()] = target.strip()
    # A description may be 1 MB, twice that in TSV with every character escaped.
    csv.field_size_limit(max(csv.field_size_limit(), 2 * TEXT_MAX_BYTES + 2))
    # strict: an unterminated quote or text after a closing one is an error, not
    # the rest of the file read into one cell.
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise _not_csv(1, reader.line_num, exc) from None
    if delimiter == "\t" and (crm_header(header) if unescape is None else unescape):
        reader = _Unescaped(reader)
    targets = [_field_for(column, kind, maps) for column in header]
    if kind == "contacts" and "job title" in map(_key, header):
        # Outlook's "Title" is Dr./Ms.; its job title is "Job Title".
        targets = [
            "honorific" if _key(column) == "title" and column not in maps else target
            for column, target in zip(header, targets, strict=True)
        ]
    _one_column_each(header, targets)
    known = set(FIELDS_BY_KIND[kind])
    while True:
        begun = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _not_csv(begun, reader.line_num, exc) from None
        if not any(cell.strip() for cell in row):
            continue
        yield f"line {reader.line_num}", kind, _record(row, targets, known)


def _one_column_each(header: list[str], targets: list) -> None:
    """Two columns that fill one field (name and Name, First Name and first_name) are
    refused: one value would be lost.  Columns that add to one list (Work Email and
    Email) may both be there; empty header cells too."""
    seen: dict = {}
    for column, target in zip(header, targets, strict=True):
        if not column.strip():
            continue
        keys = [("column", _key(column))]
        if not (isinstance(target, tuple) and len(target) == 2):  # e-mail/phone: a list
            keys.append(("field", target))
        for key in keys:
            if key in seen:
                first = seen[key].strip()
                if first == column.strip():
                    what = f"the column {first!r} comes twice"
                else:
                    what = f"the columns {first!r} and {column.strip()!r} fill one field"
                raise Refused(f"line 1: {what}: which one holds the value?")
            seen.setdefault(key, column)


def _not_csv(begun: int, line: int, exc: Exception) -> Refused:
    """csv's error said for a person: where a cell's quote opened, or what is wrong."""
    if "unexpected end of data" in str(exc):
        return Refused(f"line {begun}: a quoted cell begins here and is never closed")
    if "expected after" in str(exc):
        return Refused(
            f"line {line}: text after a quoted cell's closing quote (a quote inside a"
            ' quoted cell is written "")'
        )
    return Refused(f"line {line}: not valid CSV: {exc}")


def crm_header(header: list[str]) -> bool:
    """Whether a TSV's header is the one crm writes for a kind (`crm export -f tsv`,
    `crm list KIND -f tsv`): only then are its backslashes crm's escapes.  Another
    program's TSV keeps `C:\\temp\\new` as it is.  (A header an older crm wrote
    would be listed here too, should the fields ever change.)"""
    from crmcli.models import FIELDS_BY_KIND

    return tuple(header) in FIELDS_BY_KIND.values()


_TSV_ESCAPE = re.compile(r"\\([\\tnr])")
_TSV_CHARS = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


class _Unescaped:
    """TSV rows with crm's escapes undone: \\\\, \\t, \\n, \\r (any other backslash is
    kept as it is)."""

    def __init__(self, reader):
        self._reader = reader

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        return [self._unescape(cell) for cell in next(self._reader)]

    def _unescape(self, cell: str) -> str:
        if "\\" not in cell:
            return cell
        return _TSV_ESCAPE.sub(lambda match: _TSV_CHARS[match.group(1)], cell)


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings (\n, \r\n or \r), as csv wants them.

    io.StringIO would do, but it keeps a copy of the text four bytes a character:
    300 MB for a million contacts.
    """
    for match in re.finditer(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z", text):
        yield match.group()


def _record(row: list[str], targets: list, known: set[str]) -> dict:
    data: dict = {}
    fields: dict[str, str] = {}
    typed: dict[tuple[str, str], dict[str, str]] = {}  # Google: (email, 1) -> value/type
    lists: dict[str, list[str]] = {"email": [], "phone": []}
    for cell, target in zip(row, targets, strict=False):
        value = cell[1:] if cell.startswith(_FORMULA) else cell  # undo export's defusing
        if not value.strip():
            continue
        if isinstance(target, tuple) and len(target) == 3:
            typed.setdefault(target[:2], {})[target[2]] = value
        elif isinstance(target, tuple):
            what, label = target
            items = [part for part in value.split(";") if part.strip()]
            if label == "*":  # our own labelled list: first, so its labels win
                lists[what] = items + lists[what]
            else:
                lists[what] += [f"{label}:{item}" if label else item for item in items]
        elif target in known:
            data[target] = value
        elif target == "fields":
            data["fields"] = value
        else:
            fields[target] = value
    for (what, _), parts in sorted(typed.items()):
        label = _label((parts.get("type") or parts.get("label") or "").strip("* ").lower())
        for item in (parts.get("value") or "").split(" ::: "):
            if item.strip():
                lists[what].append(f"{label}:{item.strip()}" if label else item.strip())
    if lists["email"]:
        data["emails"] = ";".join(lists["email"])
    if lists["phone"]:
        data["phones"] = ";".join(lists["phone"])
    if "tags" in data:  # Google joins groups with " ::: " and marks system ones with *
        parts = data["tags"].replace(" ::: ", ";").split(";")
        data["tags"] = ";".join(p.strip() for p in parts if p.strip() and not p.startswith("*"))
    if fields:
        data["fields"] = _merged_fields(data.get("fields"), fields)
    return data


def _merged_fields(existing: str | None, extra: dict[str, str]) -> str:
    import re

    merged = json.loads(existing) if existing else {}
    for column, value in extra.items():
        key = re.sub(r"[^A-Za-z0-9_.-]+", "_", column).strip("_") or "field"
        if not key[0].isalpha() and key[0] != "_":
            key = f"f_{key}"
        merged.setdefault(key[:64], value)
    return json.dumps(merged, ensure_ascii=False)


# -- vCard ---------------------------------------------------------------------------
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
