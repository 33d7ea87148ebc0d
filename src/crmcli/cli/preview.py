"""What `crm import --dry-run` shows: how the file's columns (CSV/TSV) or
properties (vCard) are read, and the first records as they would be stored; a
table, or with --json one JSON object on stdout."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from crmcli import render
from crmcli.formats import PLURAL, Source

# A record's columns a preview leaves out: stamps, and what another column repeats.
_NOT_SHOWN = {"created_at", "updated_at", "email", "phone", "account_id", "record"}
_PROPERTY = re.compile(r"(?:[A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)[ \t]*[;:]")
_FRAME = {"BEGIN", "END", "VERSION"}


class Properties:
    """A vCard file's records passed on, noting which properties each card kept as
    they were (crm has no field for them) and which fields were filled."""

    def __init__(self, items: Iterable[tuple[str, str, dict]], text: str | Source):
        self.items, self.text = items, text
        self.kept: Counter = Counter()  # property name -> cards that kept it as it was
        self.filled: Counter = Counter()  # field -> records with a value for it

    def __iter__(self) -> Iterator[tuple[str, str, dict]]:
        for where, kind, data in self.items:
            if isinstance(data, str):  # a card that cannot be read: its problem
                yield where, kind, data
                continue
            self.kept.update(_kept(data))
            self.filled.update(key for key, value in data.items() if value not in (None, "", []))
            yield where, kind, data

    def rows(self) -> list[dict]:
        """Each property of the file: in how many cards, and whether read or kept."""
        cards: Counter = Counter()
        seen: set[str] = set()
        for line in Source.of(self.text).lines("splitlines"):  # the file read again
            found = _PROPERTY.match(line)
            if found is None:
                continue
            name = found.group(1).upper()
            if name == "BEGIN":
                seen = set()
            elif name not in _FRAME and name not in seen:
                seen.add(name)
                cards[name] += 1
        rows = []
        for name, count in cards.most_common():
            kept = min(self.kept[name], count)
            if kept == 0:
                read_as = "read into fields"
            elif kept == count:
                read_as = "kept as is"
            else:
                read_as = f"read into fields; kept as is in {kept:,}"
            rows.append({"property": name, "cards": count, "read_as": read_as})
        return rows


def _kept(data: dict) -> set[str]:
    """The property names a record keeps as they came: its `vcard` lines, or custom
    fields named vcard.NAME (as crm before issue 12 kept them)."""
    names = set()
    lines = data.get("vcard") or []
    if isinstance(lines, str):
        try:
            lines = json.loads(lines)
        except ValueError:
            lines = []
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, str) and (found := _PROPERTY.match(line)):
            names.add(found.group(1).upper())
    fields = data.get("fields") or {}
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except ValueError:
            fields = {}
    for key in fields if isinstance(fields, dict) else ():
        if key.startswith("vcard."):
            names.add(key.removeprefix("vcard.").upper())
    return names


def show(report, described: list[tuple[str, str]] | None, tally: Properties | None,
         as_json: bool) -> None:  # fmt: skip
    """The preview on stdout: as JSON, or as tables."""
    properties = tally.rows() if tally is not None else None
    if as_json:
        render.document(
            {
                "columns": None if described is None else [
                    {"column": column, "read_as": what} for column, what in described
                ],
                "properties": properties,
                "fields": dict(tally.filled.most_common()) if tally is not None else None,
                "records": report.preview,
                "created": dict(report.created),
                "updated": dict(report.updated),
                "skipped": dict(report.skipped),
                "rejected": [{"where": where, "reason": why} for where, why in report.rejected],
            },
            "json",
        )  # fmt: skip
        return
    if described is not None:
        render.line("Columns, and what each is read as:")
        rows = [{"column": column, "read as": what} for column, what in described]
        render.records(rows, "table", fields=("column", "read as"), columns=("column", "read as"))
    if properties:
        render.line("Properties, in how many cards, and how each is read:")
        render.records(properties, "table", fields=("property", "cards", "read_as"),
                       columns=("property", "cards", "read_as"))  # fmt: skip
    kinds = list(dict.fromkeys(record["record"] for record in report.preview))
    for kind in kinds:
        records = [record for record in report.preview if record["record"] == kind]
        shown = [key for key in records[0] if key not in _NOT_SHOWN
                 and any(_given(record.get(key)) for record in records)]  # fmt: skip
        what = f"{len(records)} {PLURAL[kind]}" if len(records) != 1 else f"1 {kind}"
        render.line(f"The first {what}, as they would be stored:")
        render.records(records, "table", fields=shown, columns=shown)


def _given(value: object) -> bool:
    return value not in (None, "", [], {})
