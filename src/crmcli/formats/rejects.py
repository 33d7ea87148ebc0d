"""The records an import left out (`crm import --skip-invalid --rejects FILE`),
written back as they were in the file, each with the reason, so that the file
can be fixed and imported again.

The readers name each record by its place (`line 12`, `card 3`, `contacts #4`);
the importer keeps only those places and reasons of the records it left out, and
this second pass finds their text again in the file (read again as it comes,
`formats.Source`):

- CSV/TSV: the source's header with a `crm_rejected` column added, then each
  rejected row's physical lines as they were (`line N` is a row's last line),
  the reason in that column;
- vCard: each rejected card's text as it was, with an `X-CRM-REJECTED:` property
  giving the reason before its END:VCARD;
- JSON and JSONL: one JSON object a line (JSONL), the record with
  `"crm_rejected": REASON` added (and `"record"`, its kind, for a backup's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TextIO

from crmcli.formats import Source

COLUMN = "crm_rejected"  # the reason, in a CSV/TSV and a JSONL record
PROPERTY = "X-CRM-REJECTED"  # the reason, in a vCard
_DELIMITERS = (",", ";", "\t", "|")
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "'")  # as crmcli.render defuses a cell


def write(
    out: TextIO,
    fmt: str,
    text: str | Source,
    rejected: list[tuple[str, str]],
    *,
    kind: str = "contacts",
    first: str | None = None,
) -> int:
    """Write the `rejected` records ((where, reason), in the file's order) of `text`
    in the format `fmt` to `out`; returns how many were found and written.

    `first` is where the reader's first record was (CSV/TSV: the header is the
    row before it)."""
    text = Source.of(text)
    reasons: dict[str, str] = {}
    for where, reason in rejected:
        reasons[where] = f"{reasons[where]}; {reason}" if where in reasons else reason
    if fmt in ("csv", "tsv"):
        return _table(out, text, "," if fmt == "csv" else "\t", reasons, first)
    if fmt == "vcf":
        return _cards(out, text, reasons)
    if fmt == "jsonl":
        return _jsonl(out, text, reasons)
    return _json(out, text, kind, reasons)


# -- CSV and TSV ------------------------------------------------------------------
def _table(out: TextIO, text: Source, delimiter: str, reasons: dict, first: str | None) -> int:
    """The header, then each rejected row with its reason.  Rows are found by
    the line they end on; the delimiter the reader used is the one whose rows end
    where the reader's did (a file may use ; or tab)."""
    by_line = _numbered(reasons, "line")
    delimiter = _delimiter(text, delimiter, set(by_line), first)
    first_end = _number(first) if first else None
    header: tuple[str, list[str]] = ("", [])
    written = 0
    for end, raw, cells in _rows(text, delimiter):
        if first_end is None or end < first_end:
            if any(cell.strip() for cell in cells):
                header = (raw, cells)
                if first_end is None:  # no record at all: the first row is the header
                    break
            continue
        if end == first_end:
            out.write(_header_row(header, delimiter))
        reason = by_line.get(end)
        if reason is not None:
            out.write(_row(raw, cells, header[1], reason, delimiter))
            written += 1
    if first_end is None:
        out.write(_header_row(header, delimiter))
    return written


def _header_row(header: tuple[str, list[str]], delimiter: str) -> str:
    raw, cells = header
    if COLUMN in cells:  # a rejects file imported again: its reasons' column is reused
        return raw if raw.endswith(("\n", "\r")) else raw + "\n"
    return _with_cell(raw, COLUMN, delimiter, 0)


def _row(raw: str, cells: list[str], header: list[str], reason: str, delimiter: str) -> str:
    """A rejected row as it was, with its reason in the last column (or in the
    header's crm_rejected column, the row then written again from its cells)."""
    if COLUMN not in header:
        return _with_cell(raw, reason, delimiter, max(0, len(header) - len(cells)))
    at = header.index(COLUMN)
    cells = cells + [""] * (at + 1 - len(cells))
    cells[at] = reason
    body = raw.rstrip("\r\n")
    ending = raw[len(body) :] or "\n"
    written = [_cell(cell, delimiter, defuse=index == at) for index, cell in enumerate(cells)]
    return delimiter.join(written) + ending


def _delimiter(text: Source, delimiter: str, ends: set[int], first: str | None) -> str:
    """The delimiter the reader split the file by (a .csv may use ; or tab): of those
    whose rows end on the lines the reader's did (`ends`, `first`), the one that
    splits the header as the reader did, else into the most cells."""
    from crmcli.formats import table

    first_end = _number(first) if first else None
    wanted = ends | ({first_end} if first_end else set())
    expected = table.read_header(text, None if delimiter == "," else delimiter)
    candidates = (delimiter, *(other for other in _DELIMITERS if other != delimiter))
    headers = {each: _header_cells(text, each, first_end) for each in candidates}
    ranked = sorted(candidates, key=lambda each: (headers[each] != expected, -len(headers[each])))
    for candidate in ranked:
        last = max(wanted, default=0)
        found = set()
        for end, _, _ in _rows(text, candidate):
            if end > last:
                break
            found.add(end)
        if wanted <= found:
            return candidate
    return delimiter


def _header_cells(text: Source, delimiter: str, first_end: int | None) -> list[str]:
    """The last row with text before the first record (a preamble may come before
    it), or the first such row of a file without records."""
    found: list[str] = []
    for end, _, cells in _rows(text, delimiter):
        if first_end is not None and end >= first_end:
            break
        if any(cell.strip() for cell in cells):
            found = cells
            if first_end is None:
                break
    return found


def _rows(text: Source, delimiter: str) -> Iterator[tuple[int, str, list[str]]]:
    """(last physical line, the row's text as it was, its cells) for each row: the
    lines as crmcli.formats.table splits them (\\n, \\r\\n or \\r)."""
    import csv

    from crmcli.models import TEXT_MAX_BYTES

    csv.field_size_limit(max(csv.field_size_limit(), 2 * TEXT_MAX_BYTES + 2))
    read: list[str] = []  # the lines handed to csv since its last row

    def lines() -> Iterator[str]:
        for line in text.lines("any"):
            read.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:  # not this delimiter's file (the reader read it whole)
            return
        yield reader.line_num, "".join(read), cells
        read.clear()


def _with_cell(raw: str, value: str, delimiter: str, missing: int) -> str:
    """A row's text with one more cell, `missing` empty ones before it (a short row)."""
    body = raw.rstrip("\r\n")
    ending = raw[len(body) :] or "\n"
    return body + delimiter * (missing + 1) + _cell(value, delimiter) + ending


def _cell(value: str, delimiter: str, defuse: bool = True) -> str:
    """A cell as CSV or TSV holds it: the reason crm wrote defused as crmcli.render
    does (the file's own cells come back as they were)."""
    if defuse and value.startswith(_FORMULA):
        value = "'" + value
    if delimiter == "\t":
        return re.sub(r"[\t\r\n]", " ", value) if defuse else value
    if any(char in value for char in (delimiter, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _number(where: str) -> int:
    """The number of `line 12`, `card 3` (`card 3 (line 20)`), `contacts #4`."""
    found = re.search(r"\d+", where)
    return int(found.group()) if found else 0


def _numbered(reasons: dict[str, str], word: str) -> dict[int, str]:
    """The reasons by the number of the `line N` or `card N` each names."""
    numbered: dict[int, str] = {}
    for where, reason in reasons.items():
        if found := re.match(rf"{word} (\d+)", where):
            number = int(found.group(1))
            numbered[number] = f"{numbered[number]}; {reason}" if number in numbered else reason
    return numbered


# -- vCard --------------------------------------------------------------------------
_CARD_LINE = re.compile(r"(?:[A-Za-z0-9-]+\.)?(BEGIN|END)[ \t]*:[ \t]*VCARD[ \t]*\Z", re.I)


def _cards(out: TextIO, text: Source, reasons: dict) -> int:
    """The Nth card is the text from the Nth BEGIN:VCARD to its END:VCARD."""
    from crmcli.formats.vcard import escape, fold

    by_card = _numbered(reasons, "card")
    written, number, inside = 0, 0, False
    card: list[str] = []  # the lines of the card being read, from its BEGIN:VCARD
    for line in text.lines("any"):
        found = _CARD_LINE.match(line.rstrip("\r\n"))
        if found is None or (inside and found.group(1).upper() == "BEGIN"):
            if inside:
                card.append(line)
            continue
        if found.group(1).upper() == "BEGIN" and not inside:
            number, card, inside = number + 1, [line], True
        elif found.group(1).upper() == "END" and inside:
            inside = False
            reason = by_card.get(number)
            if reason is not None:
                ending = line[len(line.rstrip("\r\n")) :] or "\r\n"
                added = fold(f"{PROPERTY}:{escape(reason)}").replace("\r\n", ending)
                out.write("".join(card) + added + line.rstrip("\r\n") + ending)
                written += 1
    return written


# -- JSON and JSONL -----------------------------------------------------------------
def _jsonl(out: TextIO, text: Source, reasons: dict) -> int:
    by_line = _numbered(reasons, "line")
    written = 0
    for number, line in enumerate(text.lines("lf"), start=1):
        reason = by_line.get(number)
        if reason is not None:
            record = json.loads(line)
            out.write(_line({**record, COLUMN: reason}))
            written += 1
    return written


def _json(out: TextIO, text: Source, kind: str, reasons: dict) -> int:
    from crmcli.formats import PLURAL, backup

    singular = {plural: one for one, plural in PLURAL.items()}
    written = 0
    for where, name, record in backup.read_json(text, kind):
        reason = reasons.get(where)
        if reason is not None:
            out.write(_line({"record": singular[name], **record, COLUMN: reason}))
            written += 1
    return written


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


# -- reading a rejects file back ----------------------------------------------------
def without_reasons(
    items: Iterator[tuple[str, str, dict]], fmt: str, text: str | Source
) -> Iterator:
    """A rejects file fixed and imported again: the reasons crm wrote into it are
    not kept (a custom field `crm_rejected`, a vCard's X-CRM-REJECTED).  JSON's
    unknown `crm_rejected` key is never read.  Other files pass as they are (one
    reading of the file tells)."""
    if fmt in ("csv", "tsv") and Source.of(text).search(_COLUMN_FOUND, len(COLUMN)):
        return _without_reasons(items)
    if fmt == "vcf" and Source.of(text).search(_PROPERTY_FOUND, len(PROPERTY)):
        return _without_reasons(items)
    return items


_COLUMN_FOUND = re.compile(re.escape(COLUMN))
_PROPERTY_FOUND = re.compile(re.escape(PROPERTY), re.IGNORECASE)


def _without_reasons(items: Iterator[tuple[str, str, dict]]) -> Iterator:
    vcard_key = f"vcard.{PROPERTY}"
    for where, kind, data in items:
        if isinstance(data, str):  # a card the reader could not read
            yield where, kind, data
            continue
        fields = data.get("fields")
        if fields:
            if isinstance(fields, str):
                try:
                    parsed = json.loads(fields)
                except ValueError:  # checks says what is wrong with it
                    parsed = None
                if isinstance(parsed, dict) and (COLUMN in parsed or vcard_key in parsed):
                    parsed.pop(COLUMN, None)
                    parsed.pop(vcard_key, None)
                    data = {**data, "fields": json.dumps(parsed, ensure_ascii=False)}
            elif isinstance(fields, dict) and (COLUMN in fields or vcard_key in fields):
                fields = {k: v for k, v in fields.items() if k not in (COLUMN, vcard_key)}
                data = {**data, "fields": fields}
        lines = data.get("vcard")
        if isinstance(lines, list):
            kept = [line for line in lines if not _is_reason(line)]
            if len(kept) != len(lines):
                data = {**data, "vcard": kept}
        yield where, kind, data


def _is_reason(line: object) -> bool:
    if not isinstance(line, str):
        return False
    name = re.split(r"[;:]", line, maxsplit=1)[0].rpartition(".")[2]
    return name.strip().upper() == PROPERTY
