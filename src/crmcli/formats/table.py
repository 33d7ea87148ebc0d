"""CSV and TSV: other programs' exports and crm's own, read a row at a time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from crmcli.errors import InvalidValue, Refused

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
    `crm list KIND -f tsv`), now or in an older version (_OLDER_HEADERS): only then
    are its backslashes crm's escapes.  Another program's TSV keeps
    `C:\\temp\\new` as it is."""
    from crmcli.models import FIELDS_BY_KIND

    return tuple(header) in FIELDS_BY_KIND.values() or tuple(header) in _OLDER_HEADERS


_ADDRESS = ("street", "city", "region", "postal_code", "country")
# The headers crm wrote before the fields of issue 12 (schema 9 and before).
_OLDER_HEADERS = (
    ("id", "name", "kind", "type", "industry", "website", "email", "phone", *_ADDRESS,
     "parent_id", "parent", "description", "tags", "fields", "created_at", "updated_at"),
    ("id", "name", "first_name", "last_name", "title", "department", "email", "phone", "emails",
     "phones", "account_id", "account", *_ADDRESS, "birthday", "description", "every",
     "last_contacted", "tags", "fields", "created_at", "updated_at"),
)  # fmt: skip


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



def _label(label: str | None) -> str | None:
    """Another program's label as crm keeps it (models.clean_label)."""
    from crmcli.models import clean_label

    return clean_label(label) if label else label
