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
