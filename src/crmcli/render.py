"""Every byte a command prints as data goes through here.

Formats: table, json, jsonl, csv, tsv, ids.  JSON/CSV/TSV go straight to
stdout, whole and uncoloured.  Listings are drawn here in Rich's table style;
a single record's card is drawn by a Rich console that never interprets
markup or emoji codes, into a string written like any other output.  Either
way, control characters in user text are made visible first (`\\x1b`).  Rich
is imported only when something is drawn.

The terminal rule, decided here only: when stdout is a terminal, every format
(csv, tsv, vcf and json too) shows control characters escaped, never sends
them; to a pipe or a file, data formats are written exactly.  A closed pipe
becomes OutputClosed (exit 0, quietly).

The CSV/TSV rule, one writer for every command (`write_cells`):
- CSV: a cell holding a quote, comma, CR or LF is quoted (RFC 4180), rows end
  in LF.  TSV: each record is one line; backslash, tab, LF and CR in a value
  are written `\\\\`, `\\t`, `\\n`, `\\r` (import reads them back); a cell holding
  a double quote is quoted as in CSV.
- A text cell a spreadsheet would run as a formula (starting with = + - @,
  tab or CR), or starting with ' itself, gets one more ' in front, in every
  CSV and TSV crm writes; import takes off exactly one ' when what follows
  starts with one of those, so `'=x` comes back as `'=x` and `'hello` as typed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal

from crmcli.errors import OutputClosed, OutputFailed

# C0/C1 controls, DEL, bidi marks/embeddings/overrides/isolates, line and
# paragraph separators: never written raw to a terminal.  str.translate tables
# rather than a regex: no compile cost at start-up.
_UNSAFE = [
    *range(0x20),
    *range(0x7F, 0xA0),
    0x61C,
    0x200E,
    0x200F,
    *range(0x2028, 0x202F),
    *range(0x2066, 0x206A),
]
_VISIBLE = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNSAFE}
_VISIBLE_MULTILINE = {code: text for code, text in _VISIBLE.items() if chr(code) not in "\n\t"}
# json.dumps escapes C0 itself (and we indent with its newlines): the rest as \uXXXX.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _UNSAFE if code >= 0x20}


def escape(text: str, *, multiline: bool = False) -> str:
    """Make control characters visible (ESC -> \\x1b) so none reaches the terminal."""
    return text.translate(_VISIBLE_MULTILINE if multiline else _VISIBLE)


# Decimals (money) are written as exact JSON numbers: json has no hook for raw
# number text, so they pass through as marked strings, unquoted afterwards.  The
# mark is random per run, so no stored text can forge one.
_MARK = os.urandom(8).hex()


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:f}"
    raise TypeError(f"cannot encode {type(value).__name__}")


def to_json(value: object, *, indent: int | None = None) -> str:
    """JSON text; C1 and bidi characters escaped too (json escapes only C0)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=_json_value)
    if _MARK in text:
        text = re.sub(f'"{_MARK}(-?[0-9.]+)"', r"\1", text)
    return text.translate(_JSON_ESCAPES)


def _write(text: str) -> None:
    """Write to stdout as it is: crm's own drawing, or data already made safe."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as exc:  # a full disk, /dev/full
        raise OutputFailed(exc) from None


def on_terminal(file=None) -> bool:
    """Whether stdout (or `file`) is a terminal: the one test every writer asks."""
    try:
        return (file or sys.stdout).isatty()
    except (AttributeError, ValueError):  # replaced or closed (tests)
        return False


def visible(text: str) -> str:
    """Data for a terminal: control characters escaped, tab and line breaks kept
    (a vCard's CRLF shown as a plain line break)."""
    return text.replace("\r\n", "\n").translate(_VISIBLE_MULTILINE)


def _write_visible(text: str) -> None:
    _write(visible(text))


def data_writer():
    """How data reaches stdout, decided once per command: exact to a pipe or a
    file, with control characters made visible on a terminal."""
    return _write_visible if on_terminal() else _write


class Stdout:
    """stdout as a file for the writers (export, CSV): see data_writer."""

    def __init__(self) -> None:
        self.write = data_writer()


def data_file(file):
    """A file opened for data (`export -o /dev/tty`) as the writers should get it:
    as it is, or writing control characters visibly when it is a terminal."""
    return _Visible(file) if on_terminal(file) else file


class _Visible:
    def __init__(self, file) -> None:
        self.write = lambda text: file.write(visible(text))


# Lists whose CSV/TSV cell is JSON text, as listings and exports write them (the
# column as stored) and import reads them back.
_JSON_CELLS = frozenset(("addresses", "urls", "impps", "related", "dates", "vcard"))


def _flat(value: object, field: str = "") -> str:
    """One CSV/TSV cell: lists joined by ';', labelled values as label:value; the
    address-book lists (_JSON_CELLS) as compact JSON."""
    if value is None:
        return ""
    if field in _JSON_CELLS and isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_labelled(item) for item in value)
    if isinstance(value, dict):  # custom fields: compact JSON, as listings store it
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _labelled(item: object) -> str:
    if isinstance(item, dict) and "value" not in item:  # an address: its parts
        parts = "; ".join(str(v) for key, v in item.items() if key != "label" and v is not None)
        return f"{item['label']}:{parts}" if item.get("label") else parts
    if isinstance(item, dict):
        return f"{item['label']}:{item['value']}" if item.get("label") else str(item["value"])
    return str(item)


def _cell(value: object) -> str:
    """A table cell, before escaping."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_labelled(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}={val}" for key, val in value.items())
    if isinstance(value, Decimal):
        return f"{value:,f}"
    return str(value)


def records(
    rows: Iterable[dict],
    fmt: str,
    *,
    fields: Sequence[str],
    columns: Sequence[str],
    empty: str = "nothing to show",
    marked: tuple[str, str] | None = None,
) -> int:
    """Write a listing; rows are streamed, never all held at once. Returns the count.

    In a table, text between the two `marked` characters is highlighted.
    """
    count = 0
    if fmt == "table":
        count = _table(rows, columns, marked)
        if count == 0:
            print(empty, file=sys.stderr)
        return count
    write = data_writer()
    if fmt in ("csv", "tsv"):
        if hasattr(rows, "flat"):  # a store listing: SQLite makes the cells itself
            return write_cells(write, fmt, fields, batches(rows.flat(fields)))
        flat = ([_flat(row.get(field), field) for field in fields] for row in rows)
        return write_cells(write, fmt, fields, _chunks(flat))
    if fmt == "json":
        write("[")
    for row in rows:
        if fmt == "json":
            # One compact record a line: json's C encoder, 5x faster than indent=2.
            write(("," if count else "") + "\n" + to_json(row))
        elif fmt == "jsonl":
            write(to_json(row) + "\n")
        else:
            write(f"{row['id']}\n")
        count += 1
    if fmt == "json":
        write("\n]\n" if count else "]\n")
    return count


BATCH = 1000  # rows fetched, checked and written at a time

# What a spreadsheet runs as a formula; a cell starting with one of these, or
# with the ' that defuses them, gets a ' in front (see the module's rule).
FORMULA = ("=", "+", "-", "@", "\t", "\r")
_DEFUSED = frozenset((*FORMULA, "'"))
# Every character above sorts before "A": a column whose least cell does not
# holds no such cell.  `\x00` stands between cells when a column is searched.
_DEFUSED_AFTER = "\x00[-=+@\t\r']"  # re's cache compiles it once, when first used
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def batches(cursor) -> Iterable[list]:
    """A cursor's rows, BATCH at a time."""
    return iter(lambda: cursor.fetchmany(BATCH), [])


def _chunks(rows: Iterable) -> Iterable[list]:
    from itertools import islice

    rows = iter(rows)
    return iter(lambda: list(islice(rows, BATCH)), [])


def write_cells(write, fmt: str, header: Sequence[str], row_batches: Iterable[list]) -> int:
    """The one CSV/TSV writer (rules in the module's docstring): `header`, then
    each batch of rows (sequences of cells: str, numbers or None), each batch
    handed to `write` as one string.  Returns the number of rows."""
    lines: list[str] = []
    sink = _Lines(lines)
    if fmt == "csv":
        writer = csv.writer(sink, lineterminator="\n")
    else:
        writer = csv.writer(sink, dialect="excel-tab", lineterminator="\n")
    writer.writerow(list(header))
    write(lines.pop())
    count = 0
    for batch in row_batches:
        writer.writerows(_defused(batch))
        text = "".join(lines)
        lines.clear()
        if fmt == "tsv":
            # A cell holding a tab or LF comes out quoted: no backslash, quote or CR in
            # the batch's text means no cell to escape (a test of each cell costs 25%).
            if "\\" in text or '"' in text or "\r" in text:
                writer.writerows([[_tsv_cell(cell) for cell in row] for row in _defused(batch)])
                text = "".join(lines)
                lines.clear()
        elif "\r" in text:  # csv quotes only what the line ending holds: quote CR too
            _cr_writer(sink).writerows(_defused(batch))
            text = "".join(line[:-2] + "\n" for line in lines)
            lines.clear()
        write(text)
        count += len(batch)
    return count


class _Lines:
    """A file for csv.writer that keeps each row it writes (list.append: no
    Python call per row)."""

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


def _cr_writer(sink: _Lines):
    # CRLF ends the row, so a cell holding CR or LF is quoted; rows then end in LF.
    return csv.writer(sink, lineterminator="\r\n")


def _defused(batch: list) -> Iterable:
    """The batch's rows with formula cells defused.  Checked a column at a time
    (a stride of the batch's cells), with min() and one search over the
    column's text: a Python test of every cell would slow a big CSV listing by
    a third."""
    from itertools import chain

    width = len(batch[0]) if batch else 0
    cells = list(chain.from_iterable(batch))
    changed = False
    for index in range(width):
        column = cells[index::width]
        try:
            least = min(filter(None, column), default="A")
            if least.__class__ is not str or least >= "A":
                continue  # numbers, or text that cannot start with a formula character
            if not re.search(_DEFUSED_AFTER, "\x00" + "\x00".join(filter(None, column))):
                continue
        except TypeError:  # text and numbers in one column: test each cell
            pass
        cells[index::width] = [
            "'" + cell if cell and cell.__class__ is str and cell[0] in _DEFUSED else cell
            for cell in column
        ]
        changed = True
    return zip(*[iter(cells)] * width, strict=True) if changed else batch


def _tsv_cell(cell: object) -> object:
    if cell.__class__ is str and ("\\" in cell or "\t" in cell or "\n" in cell or "\r" in cell):
        return cell.translate(_TSV_ESCAPES)
    return cell


def record(
    row: dict,
    fmt: str,
    *,
    fields: Sequence[str],
    sections: dict[str, tuple[list[dict], Sequence[str]]] | None = None,
) -> None:
    """Write one record (show/new/edit): an object in JSON, a card as a table.

    `sections` are lists shown under the record (an account's contacts), each
    with the columns its table shows; in JSON they are extra keys.
    """
    sections = sections or {}
    if fmt in ("json", "jsonl"):
        full = {**row, **{name: rows for name, (rows, _) in sections.items()}}
        data_writer()(to_json(full, indent=2 if fmt == "json" else None) + "\n")
    elif fmt == "table":
        _card(row, fields, sections)
    else:
        records([row], fmt, fields=fields, columns=fields)


def document(value: object, fmt: str) -> None:
    """A whole JSON value (`crm due`, `crm contact dupes`): indented, or for jsonl one
    line, a list's items one a line."""
    write = data_writer()
    if fmt == "jsonl" and isinstance(value, list):
        for item in value:
            write(to_json(item) + "\n")
    else:
        write(to_json(value, indent=2 if fmt == "json" else None) + "\n")


def line(text: str) -> None:
    """A line of data that follows a table, such as a total."""
    _write(escape(text) + "\n")


def new_id(row_id: int) -> None:
    _write(f"{row_id}\n")


def quoted(text: str) -> str:
    """A name in a message, quoted and escaped once: `'Acme'`, `"O'Brien"`."""
    mark = '"' if "'" in text and '"' not in text else "'"
    return f"{mark}{escape(text)}{mark}"


def _table(
    rows: Iterable[dict], columns: Sequence[str], marked: tuple[str, str] | None = None
) -> int:
    """Draw a listing in Rich's heavy-head box style.

    Drawn here rather than by rich.table.Table, which takes 0.2-0.3 ms a row
    (300 ms for 1,000 contacts): too slow for listings. Cells are measured with
    rich.cells, so wide and combining characters line up. Cells are escaped, so
    none holds a control character or a line break. Text between the `marked`
    pair (search hits) is highlighted on a terminal.
    """
    body = [[_table_cell(row.get(column), marked) for column in columns] for row in rows]
    if not body:
        return 0
    from rich.cells import cell_len, set_cell_size

    styled = _styled()
    header = [(column.replace("_", " "), None) for column in columns]
    widths = [
        max(cell_len(plain) for plain, _ in cells) for cells in zip(header, *body, strict=True)
    ]
    widths = _fit(widths, _width())

    def cells(texts: list[tuple[str, str | None]], style: str = "") -> list[str]:
        parts = []
        for (plain, highlighted), width in zip(texts, widths, strict=True):
            size = cell_len(plain)
            if size > width:
                text = set_cell_size(plain, width - 1) + "…" if width > 1 else "…"
            else:
                text = (highlighted if styled and highlighted else plain) + " " * (width - size)
            parts.append(f"{style}{text}\x1b[0m" if style else text)
        return parts

    def rule(left: str, fill: str, join: str, right: str) -> str:
        return left + join.join(fill * (width + 2) for width in widths) + right

    lines = [
        rule("┏", "━", "┳", "┓"),
        "┃ " + " ┃ ".join(cells(header, "\x1b[1m" if styled else "")) + " ┃",
        rule("┡", "━", "╇", "┩"),
        *("│ " + " │ ".join(cells(texts)) + " │" for texts in body),
        rule("└", "─", "┴", "┘"),
    ]
    _write("\n".join(lines) + "\n")
    return len(body)


def _table_cell(value: object, marked: tuple[str, str] | None) -> tuple[str, str | None]:
    """(what the cell says, the same with its marked parts highlighted, if any)."""
    text = _cell(value)
    if not marked or marked[0] not in text:
        return escape(text), None
    start, end = marked
    plain, highlighted = [], []
    for index, piece in enumerate(text.replace(end, start).split(start)):
        plain.append(escape(piece))
        highlighted.append(f"\x1b[1;33m{escape(piece)}\x1b[0m" if index % 2 else escape(piece))
    return "".join(plain), "".join(highlighted)


def _fit(widths: list[int], available: int | None) -> list[int]:
    """Narrow the widest columns until the table fits the terminal."""
    if available is None:
        return widths
    room = available - (3 * len(widths) + 1)  # borders and padding
    widths = list(widths)
    while sum(widths) > room and max(widths) > 4:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    return widths


def _width() -> int | None:
    """Terminal width on a terminal; $COLUMNS if set; else no limit (files, pipes)."""
    import shutil

    if on_terminal():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else None


def _styled() -> bool:
    return on_terminal() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _card(row: dict, fields: Sequence[str], sections: dict) -> None:
    from rich.table import Table
    from rich.text import Text

    card = Table(show_header=False, box=None, highlight=False, padding=(0, 1))
    card.add_column(style="bold")
    card.add_column()
    for field in fields:
        value = row.get(field)
        if value in (None, [], {}):
            continue
        multiline = field in ("description", "body")
        card.add_row(field.replace("_", " "), Text(escape(_cell(value), multiline=multiline)))
    _print(card)
    for name, (rows, columns) in sections.items():
        if rows:
            _print(Text(f"\n{name.capitalize()} ({len(rows)})", style="bold"))
            _table(rows, columns)


def _print(renderable) -> None:
    """Draw with Rich into a string, then write it ourselves: Rich's own writing
    turns a closed pipe into exit 1.  Colour only on a terminal, as before."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=True if on_terminal() else None,
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    console.print(renderable)
    _write(buffer.getvalue())
