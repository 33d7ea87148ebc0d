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
import os
import re
import sys
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from itertools import repeat

from crmcli.errors import OutputClosed, OutputFailed
from crmcli.records import REQUIRED, Record

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
# The same characters as a regex class: a search finds whether a text holds any,
# much faster than translate() (a dict lookup a character) of a text that holds none.
_UNSAFE_AT = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
_JSON_UNSAFE_AT = "[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"


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
    encoder = _ENCODERS.get(indent) or _json_encoder(indent)
    text = encoder.encode(value)
    if _MARK in text:
        text = re.sub(f'"{_MARK}(-?[0-9.]+)"', r"\1", text)
    if (text.isascii() and "\x7f" not in text) or not re.search(_JSON_UNSAFE_AT, text):
        return text  # nothing to escape: most records
    return text.translate(_JSON_ESCAPES)


_ENCODERS: dict = {}


def _json_encoder(indent: int | None):
    """What json.dumps(value, ensure_ascii=False, indent=indent, default=_json_value)
    encodes with, made once (json.dumps makes one a call, given `default`), and json
    imported only by a command that writes JSON (start-up time).  Records are trees
    made from rows, never cyclic: no check for cycles (~15% of encoding a record)."""
    import json

    encoder = json.JSONEncoder(
        ensure_ascii=False, indent=indent, default=_json_value, check_circular=False
    )
    return _ENCODERS.setdefault(indent, encoder)


def _write(text: str) -> None:
    """Write to stdout as it is: crm's own drawing, or data already made safe."""
    try:
        if _SCREEN is not None:
            _SCREEN.write(text)
        else:
            sys.stdout.write(text)
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as exc:  # a full disk, /dev/full
        raise OutputFailed(exc) from None


# ---- The pager, like git's -------------------------------------------------
#
# On a terminal, what a command prints is held until it is taller than the
# screen; then $CRM_PAGER, else $PAGER, else `less -FRX` is started (through the
# shell, LESS=FRX unless set) and gets it all, and the rest as it comes.  `cat`
# (or --no-pager) means none.  Shorter output is written when the command ends
# (`end`, called when the root command closes), notes on stderr after it.  A
# pager that quits early (q) ends the command quietly, exit 0, as a closed pipe.

_SCREEN: _Screen | None = None
_NOTES: list[str] = []


def begin(color: str = "auto", pager: bool = True) -> None:
    """The root options of one command: --color and --no-pager."""
    global _SCREEN
    COLOR.set(color)
    _NOTES.clear()
    _SCREEN = None
    if pager and on_terminal():
        command = pager_command()
        if command:
            import shutil

            size = shutil.get_terminal_size()
            _SCREEN = _Screen(command, size.lines, size.columns)


def end() -> None:
    """The command is done: what was held goes out (or the pager is waited for),
    then the notes.  Interrupted (Ctrl-C), what was held is dropped."""
    global _SCREEN
    screen, _SCREEN = _SCREEN, None
    try:
        if screen is not None:
            screen.close(drop=isinstance(sys.exc_info()[1], KeyboardInterrupt))
    finally:
        for text in _NOTES:
            print(text, file=sys.stderr)
        _NOTES.clear()


def before_prompt() -> None:
    """About to ask on the terminal: what was held is shown first, and this
    command is not paged any more (an answer must follow what it answers)."""
    global _SCREEN
    if _SCREEN is not None and _SCREEN.pager is None:
        screen, _SCREEN = _SCREEN, None
        screen.close()
        _flush()


def _flush() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise OutputClosed from None


def note(text: str) -> None:
    """A message about the output (columns left out): on stderr, after the output."""
    if _SCREEN is not None:
        _NOTES.append(text)
    else:
        print(text, file=sys.stderr)


def pager_command() -> str:
    command = (os.environ.get("CRM_PAGER") or os.environ.get("PAGER") or "").strip()
    if not command:
        import shutil

        command = "less -FRX" if shutil.which("less") else ""
    return "" if command == "cat" else command


class _Screen:
    """stdout on a terminal: held, then paged once taller than `rows` lines."""

    def __init__(self, command: str, rows: int, columns: int = 80) -> None:
        self.command, self.rows, self.columns = command, max(rows, 2), max(columns, 1)
        self.held: list[str] = []
        self.lines = 0
        self.pager = None
        self.interrupt = None

    def write(self, text: str) -> None:
        if self.pager is not None:
            self.pager.stdin.write(text)
            return
        self.held.append(text)
        self.lines += self._rows_of(text)
        if self.lines >= self.rows:
            self._start()

    def _rows_of(self, text: str) -> int:
        """The screen rows `text` takes: its line breaks, and a line wider than
        the screen as the rows it wraps to (colour codes take no room)."""
        rows = text.count("\n")
        if 2 * len(text) > self.columns:  # a wide character takes two cells
            for line in text.split("\n"):
                if 2 * len(line) > self.columns:
                    cells = measure(re.sub(r"\x1b\[[0-9;]*m", "", line))
                    rows += max(cells - 1, 0) // self.columns
        return rows

    def _start(self) -> None:
        import signal
        import subprocess

        missing = _missing_program(self.command)
        if missing:  # sh would say "not found" and exit: the output would be lost
            self.rows = sys.maxsize
            note(f"crm: the pager {quoted(missing)} was not found: output not paged")
            return
        env = dict(os.environ)
        env.setdefault("LESS", "FRX")
        env.setdefault("LV", "-c")
        try:
            sys.stdout.flush()
            pager = subprocess.Popen(
                self.command, shell=True, stdin=subprocess.PIPE, env=env, text=True,
                encoding=sys.stdout.encoding or "utf-8", errors="replace",
            )  # fmt: skip
        except OSError:  # no shell, no such program: write to the terminal instead
            self.rows = sys.maxsize
            return
        # Ctrl-C belongs to the pager now (as in git): crm waits for it to quit.
        self.interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.pager = pager
        held, self.held = "".join(self.held), []
        pager.stdin.write(held)

    def close(self, drop: bool = False) -> None:
        if self.pager is None:
            if not drop:
                sys.stdout.write("".join(self.held))
            return
        import signal

        try:
            self.pager.stdin.close()
        except BrokenPipeError:  # quit before reading it all
            pass
        finally:
            self.pager.wait()
            signal.signal(signal.SIGINT, self.interrupt)


def _missing_program(command: str) -> str:
    """The program a pager command starts when it is not on $PATH, else ""
    (also for what only the shell can tell: a function, a quote never closed)."""
    import shlex
    import shutil

    try:
        words = shlex.split(command)
    except ValueError:
        return ""
    while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):  # LESS=R less
        words.pop(0)
    if not words or words[0] in ("exec", "command", "env", "builtin") or "$" in words[0]:
        return ""
    return "" if shutil.which(words[0]) else words[0]


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
        return _compact(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_labelled(item) for item in value)
    if isinstance(value, dict):  # custom fields: compact JSON, as listings store it
        return _compact(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _compact(value: list | dict) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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
    chosen: bool | None = None,
) -> int:
    """Write a listing; rows are streamed, never all held at once. Returns the count.

    In a table, text between the two `marked` characters is highlighted.
    `chosen`: True when the user's --columns named the columns (all are then
    shown), False when --columns could have; a table that leaves columns out
    to fit says so on stderr, and how to get them back when it can.
    """
    count = 0
    if fmt == "table":
        count, dropped = _table(rows, columns, marked, fixed=bool(chosen))
        if count == 0:
            print(empty, file=sys.stderr)
        if dropped:
            hint = " (--columns chooses the columns)" if chosen is False else ""
            note(f"left out to fit the width: {', '.join(dropped)}{hint}")
        return count
    write = data_writer()
    if fmt in ("csv", "tsv"):
        if hasattr(rows, "text_batches"):  # a store listing: SQLite makes most of the text
            return write_cells(write, fmt, fields, rows.text_batches(fields, fmt))
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


def _chunks(rows: Iterable) -> Iterable[list]:
    from itertools import islice

    rows = iter(rows)
    return iter(lambda: list(islice(rows, BATCH)), [])


def write_cells(write, fmt: str, header: Sequence[str], row_batches: Iterable[list]) -> int:
    """The one CSV/TSV writer (rules in the module's docstring): `header`, then
    each batch of rows (sequences of cells: str, numbers or None), each batch
    handed to `write` as one string.  A batch may also come written already, as
    (UTF-8 bytes, number of rows): see store.lines.  Returns the number of rows."""
    write_bytes = _bytes_writer(write)
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
        if batch.__class__ is tuple:
            text, rows = batch
            write_bytes(text)
            count += rows
            continue
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


def _bytes_writer(write):
    """How write_cells hands on UTF-8 bytes: straight to the binary file under
    the text file `write` writes to (stdout, an export's file), after what that
    holds, rather than decoded there and encoded again (a third of a big
    listing's time); decoded for anything else (a terminal, the pager, a list)."""
    target = sys.stdout if write is _write and _SCREEN is None else getattr(write, "__self__", None)
    raw = getattr(target, "buffer", None)
    encoding = (getattr(target, "encoding", None) or "").lower().replace("-", "")
    if raw is None or encoding != "utf8" or os.linesep != "\n":
        return lambda data: write(data.decode())

    def write_bytes(data: bytes) -> None:
        try:
            target.flush()
            raw.write(data)
        except OSError as exc:
            if write is not _write:  # an export's file: its caller names it, as write() fails
                raise
            if isinstance(exc, BrokenPipeError):
                raise OutputClosed from None
            raise OutputFailed(exc) from None  # a full disk, /dev/full

    return write_bytes


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
    """Write one record (show/new/edit): an object in JSON, a card in a table.

    `sections` are lists shown under the record (an account's contacts), each
    with the columns its table shows; in JSON they are extra keys.
    """
    sections = sections or {}
    if fmt in ("json", "jsonl"):
        full = {**row, **{name: rows for name, (rows, _) in sections.items()}}
        data_writer()(to_json(full, indent=2 if fmt == "json" else None) + "\n")
    elif fmt == "table":
        from crmcli.cards import card

        _write(card(row, fields, sections, _Drawing()))
    else:
        records([row], fmt, fields=fields, columns=fields)


class _Drawing:
    """What cards.card draws with: this module's cells, colours and tables."""

    def __init__(self) -> None:
        self.styled = _styled()
        self.people = _People(self.styled, table=False)
        self.width = _width()

    def style(self, text: str, sgr: str) -> str:
        return f"{sgr}{text}{RESET}" if self.styled and text else text

    def value(self, field: str, value: object, row: dict, *, plain: bool = False) -> str:
        """A card's value: escaped (line breaks kept), dated and coloured."""
        if field in _SPECIAL or field in _COLOURED:
            text, styled = self.people.cell(field, value, row)
            return styled if self.styled and styled and not plain else text
        if field in ("description", "body") and isinstance(value, str):
            return escape(value, multiline=True).expandtabs(4)  # its lines kept
        return escape(_cell(value))

    def table(self, rows: list[dict], columns: Sequence[str]) -> str:
        """A section's rows as plain columns, fitted to the width."""
        drawn: list[str] = []
        _table(rows, columns, boxed=False, width=self.width, out=drawn.append)
        return "".join(drawn)


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


# ---- Tables and cards: for people --------------------------------------------
#
# A column's priority and minimum width (`_SPEC`): when a table is wider than
# the terminal, its columns shrink to their minimum (their text wrapped), then
# the least important go, one at a time, the last first; names, e-mails and
# phones (priority 0) keep their whole width while anything else can give way.
# Without a terminal (a pipe, a file) and no $COLUMNS, nothing is cut.

_KEEP = 0  # never wrapped or left out while another column can give way
_SPEC: dict[str, tuple[int, int]] = {
    "id": (_KEEP, 0), "name": (_KEEP, 0), "email": (_KEEP, 0), "phone": (_KEEP, 0),
    "summary": (1, 16), "title": (2, 12), "due": (1, 10), "at": (2, 10),
    "stage": (2, 8), "amount": (2, 6), "count": (2, 5), "weighted": (3, 6), "bar": (9, 5),
    "account": (3, 10), "contact": (4, 10), "deal": (5, 10), "last_contacted": (3, 10),
    "close_date": (4, 10), "every": (6, 5), "kind": (6, 4), "type": (5, 6), "status": (4, 4),
    "city": (5, 8), "industry": (7, 8), "country": (6, 4), "currency": (7, 3),
    "probability": (6, 3), "tags": (8, 6), "done": (8, 4),
}  # fmt: skip
_DEFAULT_SPEC = (5, 8)
_RIGHT = frozenset(("amount", "weighted", "count", "probability"))  # numbers, aligned right
_MONEY = frozenset(("amount", "weighted"))
_MOMENTS = frozenset(("at", "last_contacted", "created_at", "updated_at", "done_at"))
_DAYS = frozenset(("due", "close_date"))
_MAX_LINES = 6  # a wrapped cell's lines at most; the last then ends in …

# Colour with meaning (SGR codes; see colour()).
BOLD, DIM, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN = (
    "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m"
)  # fmt: skip
RESET = "\x1b[0m"
_STAGES = {"lead": BLUE, "qualified": CYAN, "proposal": MAGENTA, "negotiation": YELLOW}
_STATUS = {"won": GREEN, "lost": DIM}

# --color (root option): auto, always or never, for this command.
COLOR: ContextVar[str] = ContextVar("crm_color", default="auto")


def colour() -> bool:
    """Whether tables and cards are drawn in colour (never data formats).

    --color always/never decides; else NO_COLOR (set, not empty) turns it off,
    CLICOLOR_FORCE (not empty or 0) on, and otherwise a terminal (not TERM=dumb)
    gets colour."""
    mode = COLOR.get()
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("CLICOLOR_FORCE", "0") not in ("", "0"):
        return True
    return on_terminal() and os.environ.get("TERM") != "dumb"


def money(value: object) -> str:
    """An amount for people: `12,500`, `8,400.75`, `6,300.56` (JSON keeps it exact)."""
    if value is None or value == "":
        return ""
    from decimal import ROUND_HALF_UP, InvalidOperation

    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        if amount == amount.to_integral_value():
            return f"{amount:,.0f}"
        return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,f}"
    except (InvalidOperation, ValueError):  # not a number (a custom --columns field)
        return str(value)


class _People:
    """What a cell looks like to people: local dates with words, money, colour.
    One per table or card, so `today` and the colour choice are looked up once.

    Dates: a card says both (`2026-11-30 (1 day overdue)`, a moment in local
    time: `2026-11-24 13:00 (7 days ago)`); a table says the words for a day
    within two weeks, or one overdue, else the (local) date itself, and the
    time of a moment today (`today 14:30`)."""

    def __init__(self, styled: bool, *, table: bool = True) -> None:
        from crmcli import when

        self.styled, self.table = styled, table
        self.today = when.today()
        self.when = when

    def cell(self, column: str, value: object, row: dict) -> tuple[str, str | None]:
        """(plain text, the same with colour or None), escaped."""
        if value is None or value == "":
            return "", None
        if column in _MOMENTS and isinstance(value, str):
            moment = self.when.local(value)
            if moment is None:
                return escape(value), None
            if self.table:  # the day will do in a listing; today, the time
                if moment.date() == self.today:
                    return moment.strftime("today %H:%M"), None
                return self._dated(moment.strftime("%Y-%m-%d"), moment.date(), False)
            return self._dated(moment.strftime("%Y-%m-%d %H:%M"), moment.date(), False)
        if column in _DAYS and isinstance(value, str):
            day = self.when.calendar_day(value)
            if day is None:
                return escape(value), None
            # a task not done, or a contact to get in touch with: late is overdue
            pending = column == "due" and row.get("done") is not True
            return self._dated(value, day, pending)
        if column in _MONEY:
            return escape(money(value)), None
        plain = escape(_cell(value))
        if not self.styled:
            return plain, None
        if column == "stage":
            style = _STATUS.get(row.get("status")) or _STAGES.get(str(value), CYAN)
            return plain, f"{style}{plain}{RESET}"
        if column == "status" and value in _STATUS:
            return plain, f"{_STATUS[value]}{plain}{RESET}"
        return plain, None

    def _dated(self, text: str, day, pending: bool) -> tuple[str, str | None]:
        days = (day - self.today).days
        words = self.when.relative(day, self.today, overdue=pending)
        style = (RED if days < 0 else YELLOW if days == 0 else None) if pending else None
        if self.table:
            plain = words if abs(days) < 14 or (pending and days < 0) else text
            return plain, f"{style}{plain}{RESET}" if self.styled and style else None
        plain = f"{text} ({words})"
        if not self.styled:
            return plain, None
        if style:
            return plain, f"{style}{plain}{RESET}"
        return plain, f"{text} {DIM}({words}){RESET}"


def measure(text: str) -> int:
    """Terminal cells: len() for ASCII and for a printable text one cell a character
    (Zoë, Søren, Αθήνα: nearly every cell), rich.cells otherwise (imported only then:
    showing Søren's card does not pay for it)."""
    if text.isascii() or (text.isprintable() and _narrow_printable(text)):
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


# Characters one cell wide whatever the Unicode version (printable Latin-1 but the
# soft hyphen, Latin Extended, IPA, Greek, Cyrillic): a text of only these is as
# wide as its len(), so a column of them (Zoë, Émile, Søren) needs no rich.cells.
_NARROW_AT = "[\x20-\x7e\xa0-\xac\xae-\u02ff\u0370-\u0482]"
_NARROW_TEXT = _NARROW_AT + "*\\Z"


def _narrow_printable(text: str) -> bool:
    """Whether every character of a printable text is one cell wide (measure(text)
    == len(text)): ASCII and Latin-1 are (tested in C: a Latin-1
    text encodes to latin-1 as a copy), else it asks the character class."""
    if text.isascii():
        return True
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return re.match(_NARROW_TEXT, text) is not None
    return True


class Columns:
    """A table's rows a column at a time: from `values` (field -> its values, in
    row order: a store listing read whole, no dict a row) or from `rows` (dicts).
    `rows()` makes the dicts only when a cell needs its whole row."""

    def __init__(self, values: dict[str, list] | None = None, rows: list[dict] | None = None):
        self._values, self._rows = values or {}, rows
        if rows is not None:
            self.count = len(rows)
        else:
            self.count = len(next(iter(self._values.values()), ()))

    def column(self, field: str) -> list:
        if self._rows is not None:
            return [row.get(field) for row in self._rows]
        values = self._values.get(field)
        return [None] * self.count if values is None else values

    def rows(self) -> list[dict]:
        if self._rows is None:
            names = list(self._values)
            self._rows = [dict(zip(names, row, strict=True))
                          for row in zip(*self._values.values(), strict=True)]  # fmt: skip
        return self._rows

    def replaced(self, field: str, values: list) -> Columns:
        """The same rows with `field` holding `values`."""
        if self._rows is not None:
            rows = [{**row, field: value} for row, value in zip(self._rows, values, strict=True)]
            return Columns(rows=rows)
        return Columns({**self._values, field: values})


class _Column(Record, fields=dict.fromkeys(("texts", "styled", "sizes", "narrow"), REQUIRED)):
    """One column of a table's body: each cell's plain text (escaped), the same
    in colour (`styled`, None when no cell has any) and its width in cells;
    `narrow` when every width is the text's len() (padded by str.ljust)."""

    texts: list[str]
    styled: list[str | None] | None
    sizes: list[int]
    narrow: bool

    def cell(self, index: int) -> tuple[str, str | None, int]:
        styled = self.styled[index] if self.styled else None
        return self.texts[index], styled, self.sizes[index]


def _table(
    rows: Iterable[dict],
    columns: Sequence[str],
    marked: tuple[str, str] | None = None,
    *,
    fixed: bool = False,
    boxed: bool = True,
    width: int | None = -1,
    out=None,
) -> tuple[int, list[str]]:
    """Draw a listing; returns (rows drawn, the columns left out to fit).

    Drawn here rather than by rich.table.Table, which takes 0.2-0.3 ms a row:
    too slow for listings.  Each cell is made and measured once.  Cells are
    escaped, so none holds a control character or a line break.  Text between
    the `marked` pair (search hits) is highlighted in colour.  Columns nobody
    filled take no space, unless `fixed` (the user's --columns) keeps every
    one; `boxed=False` draws plain columns (cards' sections).
    """
    styled = _styled()
    people = _People(styled)
    table = rows if isinstance(rows, Columns) else Columns(rows=list(rows))
    count = table.count
    if not count:
        return 0, []
    body = _body(table, columns, marked, people)
    del table, rows
    header = [column.replace("_", " ") for column in columns]
    shown = list(range(len(columns)))
    if not fixed:  # empty columns take no space; `done` of open tasks says only "no"
        shown = [i for i in shown if _filled(columns[i], body[i].texts)]
        shown = shown or [0]
    natural = {i: max(measure(header[i]), max(body[i].sizes)) for i in shown}
    available = _width() if width == -1 else width
    def longest_word(i: int):
        texts = (header[i], *body[i].texts)
        if body[i].narrow and header[i].isascii():  # each word as wide as its len()
            return lambda: min(max(map(len, " ".join(texts).split(" "))), 20)
        return lambda: min(max(measure(word) for text in texts for word in text.split(" ")), 20)

    words = {i: longest_word(i) for i in shown}
    shown, widths, boxed, dropped = _layout(columns, shown, natural, words, available, fixed, boxed)
    right = [columns[i] in _RIGHT for i in shown]
    bold = BOLD if styled else ""

    def physical(cells: list[tuple[str, str | None, int]], style: str = "",
                 bar: str = "│") -> list[str]:  # fmt: skip
        """One row as the lines it takes (more than one where a cell wraps)."""
        parts: list[list[str]] = []
        for (plain, highlighted, size), width_, flush in zip(cells, widths, right, strict=True):
            if size <= width_:
                text = highlighted if styled and highlighted else plain
                text = f"{style}{text}{RESET}" if style else text
                pad = " " * (width_ - size)
                parts.append([pad + text if flush else text + pad])
            else:
                parts.append([
                    (f"{style}{piece}{RESET}" if style else piece) + " " * (width_ - size_)
                    for piece, size_ in wrap(plain, width_)
                ])  # fmt: skip
        height = max(len(cell) for cell in parts)
        lines = []
        for index in range(height):
            texts = [cell[index] if index < len(cell) else " " * widths[k]
                     for k, cell in enumerate(parts)]  # fmt: skip
            if boxed:
                lines.append(f"{bar} " + f" {bar} ".join(texts) + f" {bar}")
            else:
                lines.append("  ".join(texts).rstrip())
        return lines

    head = [(text, None, measure(text)) for text in (header[i] for i in shown)]
    if boxed:
        def rule(left: str, fill: str, join: str, end: str) -> str:
            return left + join.join(fill * (w + 2) for w in widths) + end

        lines = [rule("┏", "━", "┳", "┓"), *physical(head, bold, "┃"), rule("┡", "━", "╇", "┩")]
    else:
        lines = physical(head, bold)
    if all(natural[i] <= w for i, w in zip(shown, widths, strict=True)):
        # No cell wraps (the usual case): each row one line, padded a column at a
        # time, the lines joined without a Python step a row.
        drawn = [_padded(body[i], w, flush, styled)
                 for i, w, flush in zip(shown, widths, right, strict=True)]  # fmt: skip
        if boxed:
            lines.append("│ " + " │\n│ ".join(map(" │ ".join, zip(*drawn, strict=True))) + " │")
        else:
            lines.append("\n".join(map(str.rstrip, map("  ".join, zip(*drawn, strict=True)))))
    else:
        for index in range(count):
            lines += physical([body[i].cell(index) for i in shown])
    if boxed:
        lines.append(rule("└", "─", "┴", "┘"))
    (out or _write)("\n".join(lines) + "\n")
    return count, dropped


def _padded(column: _Column, width: int, flush: bool, styled: bool) -> list[str]:
    """A column's cells (none wider than `width`) padded to it, as physical() pads them."""
    coloured = styled and column.styled is not None
    if column.narrow and not coloured:
        return list(map(str.rjust if flush else str.ljust, column.texts, repeat(width)))
    texts = map(_or, column.styled, column.texts) if coloured else column.texts
    if flush:
        return [" " * (width - size) + text for text, size in zip(texts, column.sizes, strict=True)]
    return [text + " " * (width - size) for text, size in zip(texts, column.sizes, strict=True)]


def _or(first: str | None, second: str) -> str:
    return first or second


def _body(table: Columns, columns: Sequence[str], marked, people: _People) -> list[_Column]:
    """The table's cells, a column at a time, as _table_cell makes them: plain text
    columns with few Python calls per cell (escaped and measured as one text when
    nothing in the column needs escaping and every character is one cell wide)."""
    return [_column(column, table, marked, people) for column in columns]


def _column(column: str, table: Columns, marked, people: _People) -> _Column:
    """One column of the body (a cell that depends on other fields, a task's done,
    a deal's status, is made from its whole row)."""
    values = table.column(column)
    plain = not (column in _SPECIAL or (people.styled and column in _COLOURED))
    if plain and marked and any(v.__class__ is str and marked[0] in v for v in values):
        plain = False
    if not plain:
        cells = [_table_cell(column, row, marked, people) for row in table.rows()]
        texts, styled, sizes = (list(part) for part in zip(*cells, strict=True))
        # Each character one cell (not only each cell as wide as its len(): 中 and a
        # combining accent make up for each other), so each word is too (_table).
        narrow = all(size == len(text) for text, size in zip(texts, sizes, strict=True)) and (
            _narrow_printable("".join(texts))
        )
        return _Column(texts, styled if any(styled) else None, sizes, narrow)
    try:  # a column of text (join takes nothing else)
        joined, texts = "".join(values), values
    except TypeError:  # ids, empty cells; an empty list (tags) says nothing, as in _cell
        texts = [
            value if value.__class__ is str else str(value) if value.__class__ is int
            else "" if value is None or value == [] else _cell(value)
            for value in values
        ]  # fmt: skip
        joined = "".join(texts)
    # Every character escape() changes is unprintable: a printable column has none.
    printable = joined.isprintable()
    if not printable and re.search(_UNSAFE_AT, joined):
        texts = [escape(text) for text in texts]
        joined = "".join(texts)
        printable = joined.isprintable()
    if printable and _narrow_printable(joined):
        return _Column(texts, None, list(map(len, texts)), True)
    return _Column(texts, None, list(map(measure, texts)), False)


def _filled(column: str, texts: list[str]) -> bool:
    """Whether any cell of the column says something (`done` of open tasks says only "no")."""
    if column == "done":
        return any(text and text != "no" for text in texts)
    return any(texts)


def _layout(columns, shown, natural, words, available, fixed, boxed):
    """(columns shown, their widths, boxed or plain, columns left out).

    A column narrowed wraps its text: not below its spec's minimum, nor (up to
    20) below its longest word, so words are not cut in two where it can help."""
    def room(count: int, box: bool) -> int:
        return available - (3 * count + 1 if box else 2 * (count - 1))

    if available is None or sum(natural.values()) <= room(len(shown), boxed):
        return shown, [natural[i] for i in shown], boxed, []
    specs = {i: _SPEC.get(columns[i], _DEFAULT_SPEC) for i in shown}
    least = {  # the longest words looked for only now: a table that fits needs none
        i: natural[i] if specs[i][0] == _KEEP else min(natural[i], max(specs[i][1], words[i]()))
        for i in shown
    }
    styles = (True, False) if boxed else (False,)
    kept, dropped = list(shown), []
    while True:
        for box in styles:
            space = room(len(kept), box)
            if sum(least[i] for i in kept) <= space:
                return kept, _spread(kept, natural, least, specs, space), box, dropped
        candidates = [i for i in kept if specs[i][0] != _KEEP]
        if fixed or not candidates:
            break
        # the least important goes; of equals, the one further right
        worst = max(candidates, key=lambda i: (specs[i][0], i))
        kept.remove(worst)
        dropped.append(columns[worst])
    # Even the names do not fit: plain columns, the widest narrowed (wrapped).
    widths = {i: least[i] for i in kept}
    space = room(len(kept), False)
    while sum(widths.values()) > space and max(widths.values()) > 4:
        widest = max(widths, key=lambda i: widths[i])
        widths[widest] -= 1
    return kept, [widths[i] for i in kept], False, dropped


def _spread(kept, natural, least, specs, space):
    """Widths from the minimums up: the spare room first lets whole columns
    unwrap, those needing least first (more columns drawn whole), then goes to
    the most important column still short."""
    widths = {i: least[i] for i in kept}
    spare = space - sum(widths.values())
    for i in sorted(kept, key=lambda i: (natural[i] - widths[i], specs[i][0], i)):
        if natural[i] - widths[i] <= spare:
            spare -= natural[i] - widths[i]
            widths[i] = natural[i]
    for i in sorted(kept, key=lambda i: (specs[i][0], i)):
        grow = min(spare, natural[i] - widths[i])
        widths[i] += grow
        spare -= grow
    return [widths[i] for i in kept]


def wrap(text: str, width: int, limit: int | None = _MAX_LINES) -> list[tuple[str, int]]:
    """`text` in lines of at most `width` cells, broken at spaces where it can;
    at most `limit` lines, the last then ending in …  (line, its cells)."""
    width = max(width, 1)
    lines: list[tuple[str, int]] = []
    current, size = "", 0
    for word in text.split(" "):
        length = measure(word)
        if current and size + 1 + length <= width:
            current, size = f"{current} {word}", size + 1 + length
            continue
        if current or size:
            lines.append((current, size))
        while length > width:  # a word longer than the column: cut it across lines
            piece, rest = _cut(word, width)
            lines.append((piece, measure(piece)))
            word, length = rest, measure(rest)
        current, size = word, length
    lines.append((current, size))
    if limit is not None and len(lines) > limit:
        last, _ = lines[limit - 1]
        piece, _ = _cut(last, width - 1) if measure(last) >= width else (last, 0)
        lines = [*lines[: limit - 1], (piece + "…", measure(piece) + 1)]
    return lines


def _cut(text: str, width: int) -> tuple[str, str]:
    """The first `width` cells of `text`, and the rest."""
    if text.isascii():
        return text[:width], text[width:]
    from rich.cells import cell_len

    size = 0
    for index, char in enumerate(text):
        size += cell_len(char)
        if size > width:
            return text[:index] or text[:1], text[index:] if index else text[1:]
    return text, ""


def _table_cell(
    column: str, row: dict, marked: tuple[str, str] | None, people: _People
) -> tuple[str, str | None, int]:
    """(what the cell says, the same in colour or None, its width in cells)."""
    value = row.get(column)
    if marked and isinstance(value, str) and marked[0] in value:
        start, end = marked
        plain, highlighted = [], []
        for index, piece in enumerate(value.replace(end, start).split(start)):
            plain.append(escape(piece))
            highlighted.append(f"\x1b[1;33m{escape(piece)}{RESET}" if index % 2 else escape(piece))
        text = "".join(plain)
        return text, "".join(highlighted), measure(text)
    if column in _SPECIAL or (people.styled and column in _COLOURED):
        plain, styled = people.cell(column, value, row)
        return plain, styled, measure(plain)
    if value is None:
        return "", None, 0
    text = escape(value) if value.__class__ is str else escape(_cell(value))
    return text, None, measure(text)


_SPECIAL = _MOMENTS | _DAYS | _MONEY  # drawn by _People whether coloured or not
_COLOURED = frozenset(("stage", "status"))


def _width() -> int | None:
    """Terminal width on a terminal; $COLUMNS if set; else no limit (files, pipes)."""
    import shutil

    if on_terminal():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def _styled() -> bool:  # kept for callers (search highlights): the colour rule
    return colour()


