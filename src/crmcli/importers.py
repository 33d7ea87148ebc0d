"""Reading files for `crm import`: JSON/JSONL (our export), CSV/TSV and vCard.

Each reader turns a file's text into (where, kind, data) items for
`store.imports`, with `data` keyed by SPEC's field names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

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
    """Our backup ({"accounts": [...], ...}) or a plain list of one kind."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Refused(f"not valid JSON: {exc}") from None
    if isinstance(document, list):
        groups = [(kind, document)]
    elif isinstance(document, dict):
        groups = [(name, document[name]) for name in KINDS if name in document]
        if not groups:
            raise Refused("the JSON holds no accounts, contacts, deals, activities or tasks")
    else:
        raise Refused("the JSON must be a crm export or a list of records")
    for name, records in groups:
        if not isinstance(records, list):
            raise Refused(f"{name} must be a list of records")
        for index, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                raise Refused(f"{name} #{index} is not a record (an object)")
            yield f"{name} #{index}", name, record


def read_jsonl(text: str, kind: str) -> Iterator[tuple[str, str, dict]]:
    """One object a line; `record` (account, contact ...) names its kind, else --kind."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise Refused(f"line {number}: not valid JSON: {exc}") from None
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
    "email": None, "emails": None, "e mail": None, "email address": None,
    "e mail address": None, "e mail 2 address": None, "e mail 3 address": None,
    "work email": "work", "home email": "home", "other email": "other",
}  # fmt: skip
_PHONE_COLUMNS = {
    "phone": None, "phones": None, "phone number": None, "business phone": "work",
    "business phone 2": "work", "home phone": "home", "home phone 2": "home",
    "mobile phone": "mobile", "mobile": "mobile", "mobile phone number": "mobile",
    "work phone": "work", "other phone": "other", "business fax": "fax", "fax": "fax",
}  # fmt: skip
_KNOWN = {alias: field for field, aliases in _CONTACT_COLUMNS.items() for alias in aliases}
_GOOGLE = r"(e mail|phone) (\d+) (value|type|label)\Z"  # Google's numbered columns
_FORMULA = ("'=", "'+", "'-", "'@", "'\t", "'\r")


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
    text: str, kind: str, delimiter: str, mapping: list[str]
) -> Iterator[tuple[str, str, dict]]:
    """Rows of a CSV/TSV file as records: known columns to fields, the rest to
    custom fields, several e-mail/phone columns to labelled lists."""
    import csv
    import io

    from crmcli.models import FIELDS_BY_KIND

    maps = {}
    for pair in mapping:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise InvalidValue(f"--map takes COLUMN=FIELD (got {pair!r})")
        maps[column.strip()] = target.strip()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise Refused(f"line 1: {exc}") from None
    targets = [_field_for(column, kind, maps) for column in header]
    if kind == "contacts" and "job title" in map(_key, header):
        # Outlook's "Title" is Dr./Ms.; its job title is "Job Title".
        targets = [
            "honorific" if _key(column) == "title" and column not in maps else target
            for column, target in zip(header, targets, strict=True)
        ]
    known = set(FIELDS_BY_KIND[kind])
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Refused(f"line {reader.line_num}: {exc}") from None
        if not any(cell.strip() for cell in row):
            continue
        yield f"line {reader.line_num}", kind, _record(row, targets, known)


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
            lists[what] += [f"{label}:{item}" if label else item for item in items]
        elif target in known:
            data[target] = value
        elif target == "fields":
            data["fields"] = value
        else:
            fields[target] = value
    for (what, _), parts in sorted(typed.items()):
        label = (parts.get("type") or parts.get("label") or "").strip("* ").lower()
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
