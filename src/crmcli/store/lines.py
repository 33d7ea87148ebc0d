"""A CSV/TSV listing's text made by SQLite: the fast path of render.write_cells.

Fetching a Python object per cell costs more than all the rest of a big CSV
listing, so most of each line is built by SQLite.  A first sample of rows
sorts the columns: "quiet" ones (no cell needing anything), "defused" ones
(cells may start like a formula, none needs quotes or escapes: a phone's
`+`) and "loud" ones (quotes or escapes needed).  Each row is fetched as one
printf() segment per run of quiet and defused columns (a defused cell's `'`
chosen in SQL), and each loud column's finished cell, quoted, escaped and
defused in SQL by the rules of render's module docstring.  Each batch is then
checked at C speed, and written only if it is provably what write_cells
would write from the cells.  The text comes as UTF-8 bytes (CAST AS BLOB): no
decoding into str, which a single accented name in a batch makes a wide copy
of, and no encoding again on the way out (render writes the bytes as they are
when its file takes them):

- the segments hold no quote, CR (TSV: no backslash), exactly one separator
  between cells and one LF a row;
- their length in bytes is the sum of the cells' byte lengths, which SQLite
  measures per row, and of one `'` for each cell after a separator that starts
  like a formula or with `'`: so no cell held a NUL (printf's %s stops at one,
  and crm can store it), and each such cell is one SQL defused, its `'` being
  the byte the cells' lengths leave out (the first column is tested in SQL);
- every cell was text, NULL or (quiet only) an integer: a REAL or a BLOB
  reads differently in Python (`repr`, `b'...'`);
- the text is UTF-8 (a raw SQL writer can store other bytes as TEXT: reading
  those as cells fails as it always did).

Measuring each cell is a quarter of the work.  It is left out for contacts
while odd_rows (m019, kept by triggers and store.bulk) says none holds a NUL,
a BLOB or a REAL: then only the `'`s are counted, against the number of cells
SQL defused after a separator.

A batch that fails is checked row by row; the rows that fail alone are read
again as cells (same ids, same read transaction: db.session holds one
snapshot for a command) and go through write_cells' own writer, so the output
is byte-identical whatever the data.  Listings of a small table or a small
--limit, of one column, sorted by other than the id last, whose sample holds
a number that is not an integer, or of mostly loud columns, are written as
cells all the way.
"""

from __future__ import annotations

import re
import sqlite3
from itertools import chain
from operator import itemgetter

from crmcli import db

BATCH = 1000  # rows fetched, checked and written at a time
SMALL = 10_000  # a table (or --limit) of at most this many rows is written as cells, as always
SAMPLE = 500  # rows (twice) read first to sort the columns
_FORMULA = "=+-@\t\r'"  # render.FORMULA, and the ' that defuses them
_WRONG = -(10**15)  # a check term that no sum of lengths makes up for
_IDS = "(SELECT value FROM json_each(?))"  # ids given as one JSON list


def text_batches(conn: sqlite3.Connection, schema, fields, where: str, params, tail: str, fmt: str):
    """The listing as write_cells takes it: each batch either (text, rows) ready to
    write, or a list of rows of cells for its writer."""
    cells = schema.select(fields, flat=True)
    kinds = None
    low, high = conn.execute(f"SELECT min(id), max(id) FROM {schema.source}").fetchone()
    # As query.Compiled.rows puts them.  Rows of equal sort keys come out of SQLite's
    # sorter in an order that can depend on the rows' size: so only an order ending
    # with the id (no two rows equal) is fetched the other way.
    total = re.search(rf" ORDER BY (.*, )?{schema.alias}\.id( ASC| DESC)?( LIMIT |$)", tail)
    limit = re.search(r" LIMIT (-?\d+) OFFSET \d+$", tail)
    if (
        total
        and len(fields) > 1
        and low is not None
        and high - low >= SMALL
        and not (limit and 0 <= int(limit[1]) <= SMALL)
    ):
        kinds = _kinds(_sample(conn, schema, cells, low, high), fmt)
    if kinds is None or kinds.count("loud") * 2 > len(fields):
        cursor = conn.execute(cells + where + tail, params)  # cells as they always were
        yield from iter(lambda: cursor.fetchmany(BATCH), [])
        return
    exprs = [schema.flat.get(name) or schema.columns[name] for name in fields]
    declared = _declared(conn, schema)
    texts = _text_columns(schema, declared, exprs)
    plain = _plain(conn, schema, declared, exprs, kinds, texts)
    plan = _Plan(exprs, kinds, texts, fmt, measured=not plain)
    fetched = f"{plan.select}, {schema.alias}.id FROM {schema.tables}{where}{tail}"
    cursor = conn.execute(fetched, params)
    again = (
        f"SELECT {schema.alias}.id, {cells.removeprefix('SELECT ')}"
        f" WHERE {schema.alias}.id IN {_IDS}"
    )
    for batch in iter(lambda: cursor.fetchmany(BATCH), []):
        text = plan.text(batch)
        if text is not None:
            yield text, len(batch)
        else:
            yield from _row_by_row(conn, again, plan, batch)


def _declared(conn, schema) -> dict[str, str]:
    """The main table's columns, as the listing's expressions name them, and
    their declared types."""
    found = conn.execute(f"PRAGMA table_info({schema.source})")
    return {f"{schema.alias}.{name}": declared for _, name, declared, *_ in found}


def _plain(conn, schema, declared: dict, exprs: list[str], kinds: list[str], texts: set) -> bool:
    """Whether the rows' cells need not be measured: the listing reads only the
    main table's columns (and its tags) and that table holds no odd row (see
    migrations.odd_row: no BLOB, REAL or NUL anywhere), and every cell SQL
    defuses or quotes is text (an integer is written as it is)."""
    if schema.source != db.ODD_TABLE:
        return False
    if not {*declared, schema.flat.get("tags")}.issuperset(exprs):
        return False
    if any(kind != "quiet" and expr not in texts for expr, kind in zip(exprs, kinds, strict=True)):
        return False
    odd = conn.execute("SELECT rows FROM odd_rows WHERE tbl = ?", (db.ODD_TABLE,)).fetchone()
    return odd == (0,)


def _row_by_row(conn, again: str, plan: _Plan, batch: list):
    """A batch that failed, each row checked alone: runs of rows proven right as
    text, the others read again as cells (in order; a row's line depends on
    that row alone, whichever way write_cells gets it)."""
    texts = [plan.text([row]) for row in batch]
    ids = [row[-1] for row, text in zip(batch, texts, strict=True) if text is None]
    found = {row[0]: row[1:] for row in conn.execute(again, (_json(ids),))}
    start = 0
    while start < len(batch):
        end = start
        proven = texts[start] is not None
        while end < len(batch) and (texts[end] is not None) == proven:
            end += 1
        if proven:
            yield b"".join(texts[start:end]), end - start
        else:
            yield [found[row[-1]] for row in batch[start:end]]
        start = end


def _sample(conn, schema, cells: str, low: int, high: int) -> list:
    """Rows to sort the columns by: the table's first SAMPLE, and SAMPLE spread
    over it by id (whatever the listing's filters: reading them could cost a
    scan, and the sample only decides what is tried first)."""
    rows = conn.execute(f"{cells} LIMIT {SAMPLE}").fetchall()
    ids = _json(range(low, high + 1, max(1, (high - low) // SAMPLE)))
    return rows + conn.execute(f"{cells} WHERE {schema.alias}.id IN {_IDS}", (ids,)).fetchall()


def _json(ids) -> str:
    return f"[{','.join(map(str, ids))}]"


def _kinds(sample: list, fmt: str) -> list[str] | None:
    """Each column's kind ("quiet", "defused", "loud") by the sampled cells; None
    when a cell is neither text, NULL nor an integer."""
    special = '",\n\r' if fmt == "csv" else '"\\\t\n\r'
    kinds = []
    for column in zip(*sample, strict=True):
        kind = "quiet"
        for cell in column:
            if cell.__class__ is str:
                if cell and cell[0] in _FORMULA:
                    kind = "loud" if kind == "loud" else "defused"
                if any(char in cell for char in special):
                    kind = "loud"
                    break
            elif cell is not None and cell.__class__ is not int:
                return None
        kinds.append(kind)
    return kinds


class _Plan:
    """The SELECT of segments and loud cells (then a check, then the id), and the
    check of a fetched batch.  Unless `measured`, the check does not add up the
    cells' lengths (the table holds no cell printf shows otherwise: see _plain),
    only the ' SQL puts in front of each cell it defuses after a separator."""

    def __init__(
        self, exprs: list[str], kinds: list[str], text: set[str], fmt: str, measured: bool = True
    ) -> None:
        sep = "," if fmt == "csv" else "\t"
        columns, pieces, values, terms = [], [], [], []
        for index, (expr, kind) in enumerate(zip(exprs, kinds, strict=True)):
            lead = sep if index else ""
            if kind == "loud":
                columns.append(_printf([*pieces, lead], values))
                columns.append(f"CAST({_loud_cell(expr, fmt)} AS BLOB)")
                if measured:
                    terms.append(f"iif(typeof({expr}) IN ('text', 'null'), 0, {_WRONG})")
                pieces, values = [], []
                continue
            if kind == "defused":
                pieces.append(lead + "%s%s")
                values += [_defusing(expr), expr]
            else:
                pieces.append(lead + "%s")
                values.append(expr)
            if measured:
                terms.append(_measure(expr, expr in text, integers=kind == "quiet"))
            if index == 0:  # a row's first cell follows no separator: tested here
                terms.append(_starts(expr, int(measured) if kind == "defused" else _WRONG))
            elif kind == "defused" and not measured:
                terms.append(_starts(expr, 1))  # a ' the text shows after a separator
        columns.append(_printf(pieces, values, end=True))
        columns.append(" + ".join(terms) or "0")  # unmeasured, loud and quiet columns only
        self.select = "SELECT " + ", ".join(columns)
        count = len(columns) - 1  # segments and loud cells; the check after them
        self._segments = itemgetter(*range(0, count, 2)) if count > 1 else None
        self._parts = itemgetter(slice(0, count))
        self._check = itemgetter(count)
        self._width, self._measured = len(exprs), measured
        self._classes = _classes(sep, '"\r' if fmt == "csv" else '"\r\\')

    def text(self, batch: list) -> bytes | None:
        """The batch's lines (UTF-8), or None when they cannot be shown to be right."""
        if self._segments is None:
            text = quiet = b"".join(map(itemgetter(0), batch))
        else:
            quiet = b"".join(chain.from_iterable(map(self._segments, batch)))
            text = None
        rows, classes = len(batch), quiet.translate(self._classes)
        if (
            _FORBIDDEN in classes
            or classes.count(_SEP) != (self._width - 1) * rows
            or classes.count(_LF) != rows
        ):
            return None
        # Each cell that starts like a formula, or with ', after a separator must be
        # one SQL defused: its ' is a byte the cells' lengths do not count.  One that
        # was not (a quiet column's) counts a byte that is not there: sizes differ.
        # Unmeasured, the check counts the cells SQL defused after a separator.
        starts, check = classes.count(_SEP + _START), sum(map(self._check, batch))
        if self._measured:
            proven = check + self._width * rows + starts == len(quiet)
        else:
            proven = check == starts
        if not proven:
            return None
        if text is None:
            text = b"".join(chain.from_iterable(map(self._parts, batch)))
        return text if text.isascii() or _utf8(text) else None


# A batch's bytes sorted into classes (bytes.translate), so that one pass finds
# what the checks look for: cells starting like a formula (or with ') after a
# separator are a two-byte pattern, however many such characters there are.
_SEP, _START, _LF, _FORBIDDEN, _OTHER = (bytes([n]) for n in range(5))


def _classes(sep: str, forbidden: str) -> bytes:
    table = bytearray(_OTHER * 256)
    for chars, kind in (("=+-@\t'", _START), (sep, _SEP), ("\n", _LF), (forbidden, _FORBIDDEN)):
        for char in chars:
            table[ord(char)] = kind[0]
    return bytes(table)


def _printf(pieces: list[str], values: list[str], end: bool = False) -> str:
    """printf() of `values` as the pieces (`%s`s and separators) say, as UTF-8
    bytes; `end` adds LF."""
    fmt = "'{}'{}".format("".join(pieces).replace("\t", "' || char(9) || '"), " || char(10)" * end)
    return f"CAST(printf({fmt}, {', '.join(values)}) AS BLOB)" if values else f"CAST({fmt} AS BLOB)"


def _utf8(text: bytes) -> bool:
    try:
        text.decode()
    except UnicodeDecodeError:
        return False
    return True


def _starts(expr: str, then: int) -> str:
    """`then` when the value starts like a formula (or with '), else 0."""
    whens = " ".join(f"WHEN {ord(char)} THEN {then}" for char in _FORMULA)
    return f"CASE unicode({expr}) {whens} ELSE 0 END"


def _defusing(expr: str) -> str:
    """The ' a text cell gets in front (render's rule), or ''."""
    whens = " ".join(f"WHEN {ord(char)} THEN ''''" for char in _FORMULA)
    return f"CASE unicode({expr}) {whens} ELSE '' END"


def _measure(expr: str, text: bool, integers: bool) -> str:
    """The value's length in bytes as printf() should write it; _WRONG for a BLOB,
    a REAL, or (unless `integers`) an integer."""
    if text:  # TEXT affinity: text, NULL, or a BLOB
        text_or_number = f"{expr} < X''"  # a BLOB sorts after them
        return (
            f"CASE WHEN {text_or_number} THEN length(CAST({expr} AS BLOB))"
            f" WHEN {expr} IS NULL THEN 0 ELSE {_WRONG} END"
        )
    number = f"WHEN 'integer' THEN length({expr}) " if integers else ""
    return (
        f"CASE typeof({expr}) WHEN 'null' THEN 0 {number}"
        f"WHEN 'text' THEN length(CAST({expr} AS BLOB)) ELSE {_WRONG} END"
    )


# SQL for what gets a CSV cell quoted; TSV escapes (see render._TSV_ESCAPES).
_QUOTED = ("'\"'", "','", "char(10)", "char(13)")
_ESCAPED = (("'\\'", "'\\\\'"), ("char(9)", "'\\t'"), ("char(10)", "'\\n'"), ("char(13)", "'\\r'"))


def _loud_cell(expr: str, fmt: str) -> str:
    """A loud column's finished cell (render's rules), NULL as empty."""
    defusing = _defusing(expr)
    if fmt == "csv":
        needs = " OR ".join(f"instr({expr}, {char})" for char in _QUOTED)
        value = expr
    else:
        needs = f"instr({expr}, '\"')"
        value = expr
        for char, escape in _ESCAPED:
            value = f"replace({value}, {char}, {escape})"
    quoted = f"'\"' || {defusing} || replace({value}, '\"', '\"\"') || '\"'"
    plain = f"{defusing} || {value}"
    return f"CASE WHEN {expr} IS NULL THEN '' WHEN {needs} THEN {quoted} ELSE {plain} END"


def _text_columns(schema, declared: dict[str, str], exprs: list[str]) -> set[str]:
    """Those of `exprs` that are the main table's columns of TEXT affinity (they
    hold text, NULL or a BLOB: a number stored in them becomes text), or a
    CSV cell made of a list (query.flat_list: text or NULL)."""
    found = {expr for expr, kind in declared.items() if db.text_affinity(kind)}
    return (found | set(schema.flat.values())) & set(exprs)
