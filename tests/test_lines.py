"""CSV/TSV lines made by SQLite (store.lines) are byte for byte what the cell
writer makes of the same rows, whatever the data: a nasty database, built here,
listed and exported both ways with the fast path's sizes made tiny (every batch
boundary, sample and fallback gets exercised on a few hundred rows)."""

import json
import os
import random
import sqlite3
import stat
import sys

import pytest

from crmcli import db, export, render
from crmcli.store import lines

NASTY = [
    "", "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "crlf\r\n", "nul\x00byte",
    "\x00", "a\x00\x00", "=cmd|' /C calc'!A0", "+1 555 0100", "-5", "@SUM(A1)", "\tlead",
    "\rlead", "'quoted", "'=x", "''", "[bold]x[/bold]", "\x1b[31mred\x1b[0m", "中文字符",
    "e\u0301", "👍🏽", "back\\slash", "tab\tin", " space ", "x" * 140_000, "é" * 70_000 + ",",
    "\u202eRTL", "\ufeffbom", "ok;a:b",
]  # fmt: skip
_SIZES = {"BATCH": 9, "SMALL": 5, "SAMPLE": 4}


@pytest.fixture(scope="module")
def nasty(tmp_path_factory):
    """~330 contacts, 40 accounts: most rows plain, phones always formula-like,
    descriptions always nasty (a loud column), and now and then a nasty value
    anywhere: text, a BLOB, a REAL or text in an integer column, NUL bytes."""
    return _nasty(tmp_path_factory.mktemp("lines") / "nasty.db", NASTY, _ODD)


# What odd_rows counts (migrations.odd_row): a listing of contacts measures each
# cell while one is stored.
_ODD = [b"blob", b"", 1.5, 1e20]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The nasty database without what odd_rows counts: its contacts are listed
    without measuring their cells."""
    values = [value for value in NASTY if "\x00" not in value]
    return _nasty(tmp_path_factory.mktemp("lines") / "plain.db", values, [])


def _nasty(path, values: list, odd: list):
    db.create(path)
    raw = sqlite3.connect(path)
    pick = random.Random(17)
    stamp = "2026-01-01T00:00:00Z"
    for number in range(1, 41):
        name = f"Company {number}" if number % 7 else pick.choice(values) or "x"
        raw.execute(
            "INSERT INTO accounts (name, name_key, created_at, updated_at, phone, city, tags)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, f"company {number}", stamp, stamp, f"+1 555 {number:04}",
             pick.choice(["Oslo", "=Paris", None]), json.dumps(["a", pick.choice(values)])),
        )  # fmt: skip
    columns = [row[1] for row in raw.execute("PRAGMA table_info(contacts)")]
    json_columns = ("tags", "fields", "addresses", "urls", "impps", "related", "dates", "vcard")
    free = [name for name in columns if name not in ("id", "name_key", "photo", *json_columns)]
    for number in range(1, 331):
        row = {
            "name": f"Person {number}",
            "name_key": f"person {number}",
            "first_name": "Person",
            "email": f"p{number}@example.com",
            "emails": f"work:p{number}@example.com",
            "phone": f"+1 555 {number:07}",
            "phones": f"+1 555 {number:07}",
            "account_id": number % 40 + 1,
            "description": pick.choice(values),
            "tags": json.dumps(["vip"] if number % 3 else []),
            "created_at": stamp,
            "updated_at": stamp,
            "name_order": f"person {number:05}",
        }
        if number % 9 == 0:  # a nasty value in any column now and then
            row[pick.choice(free)] = pick.choice([*values, *odd, -7, 10**18, "text"])
        if number % 50 == 0:
            row["photo"] = "data:image/png;base64," + "A" * 150_000
        if number % 61 == 0:
            row["tags"] = json.dumps([pick.choice(values), "b"])
            row["addresses"] = json.dumps([{"street": pick.choice(values), "city": "Oslo"}])
        names = ", ".join(row)
        raw.execute(
            f"INSERT INTO contacts ({names}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    raw.commit()
    raw.close()
    return path


@pytest.fixture
def tiny(monkeypatch):
    for name, size in _SIZES.items():
        monkeypatch.setattr(lines, name, size)


def _both(path, kind: str, fmt: str, counts: dict | None = None) -> tuple[str, str]:
    """The listing of `kind` through store.lines, and through the cell writer alone."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.execute("BEGIN")
    try:
        rows = export.rows(conn, kind)
        fields = export.FIELDS[kind]
        fast: list[str] = []
        batches = list(rows.text_batches(fields, fmt))
        if counts is not None:
            counts["text"] = sum(batch.__class__ is tuple for batch in batches)
            counts["cells"] = sum(batch.__class__ is list for batch in batches)
        render.write_cells(fast.append, fmt, fields, iter(batches))
        cells = rows._schema.select(fields, flat=True) + rows._where + rows._tail
        slow: list[str] = []
        render.write_cells(slow.append, fmt, fields, _batches(conn.execute(cells)))
        return "".join(fast), "".join(slow)
    finally:
        conn.close()


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_lines_made_by_sqlite_are_what_the_cell_writer_writes(nasty, tiny, fmt):
    counts: dict = {}
    fast, slow = _both(nasty, "contacts", fmt, counts)
    assert fast == slow
    # Both ways were taken: batches written as SQLite made them, and batches that
    # could not be proven right (a NUL, a BLOB, a quote in a quiet column ...).
    assert counts["text"] >= 5 and counts["cells"] >= 5, counts
    fast, slow = _both(nasty, "accounts", fmt)
    assert fast == slow


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_contacts_with_no_odd_row_are_written_unmeasured_as_the_cell_writer_writes(
    plain, tiny, monkeypatch, fmt
):
    """With odd_rows at 0 the cells' lengths are not added up (no BLOB, REAL or
    NUL can make printf differ): what is left of the check still catches every
    quote, line break, formula and ' that needs the cell writer."""
    measured, plan = [], lines._Plan

    def planned(*args, **kwargs):
        measured.append(kwargs["measured"])
        return plan(*args, **kwargs)

    monkeypatch.setattr(lines, "_Plan", planned)
    counts: dict = {}
    fast, slow = _both(plain, "contacts", fmt, counts)
    assert measured == [False]
    assert fast == slow
    assert counts["text"] >= 5 and counts["cells"] >= 5, counts
    fast, slow = _both(plain, "accounts", fmt)  # accounts are always measured
    assert fast == slow and measured == [False, True]


_KINDS = {"id": "quiet", "name": "quiet", "title": "quiet", "phone": "defused",
          "description": "loud"}  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize(
    "fields",
    [
        ("id", "name", "title", "phone", "description"),
        ("title", "phone", "name", "description"),  # a quiet first column
        ("phone", "title", "description", "name"),  # a defused one
        ("description", "title", "phone"),  # a loud one
    ],
)
def test_a_batch_is_written_by_sqlite_only_when_proven(nasty, fmt, fields):
    """Each value alone (in a quiet, a defused and a loud column) in an otherwise
    plain batch: the fast text is used only when it is exactly the cell writer's."""
    conn = sqlite3.connect(nasty)  # changed in a transaction, rolled back
    schema = export.rows(conn, "contacts")._schema
    exprs = [schema.columns[name] for name in fields]
    text_columns = lines._text_columns(schema, lines._declared(conn, schema), exprs)
    plan = lines._Plan(exprs, [_KINDS[name] for name in fields], text_columns, fmt)
    try:
        written = _one_by_one(conn, plan, schema, fields, fmt)
    finally:
        conn.rollback()
        conn.close()
    assert written >= 10  # plain, Unicode, markup, ESC ... went the fast way


def _one_by_one(conn, plan, schema, fields, fmt) -> int:
    sql = f"{plan.select}, c.id FROM contacts c WHERE c.id = ?"
    written = 0
    for value in [*NASTY, b"blob", b"", 1.5, -7, 10**18]:
        for column in ("title", "description", "phone"):
            conn.execute(f"UPDATE contacts SET {column} = ? WHERE id = 1", (value,))
            if column == "phone":  # a plain phone is defused: this one, as it comes
                conn.execute("UPDATE contacts SET phone = ? WHERE id = 2", (value,))
            batch = [conn.execute(sql, (1,)).fetchone(), conn.execute(sql, (2,)).fetchone()]
            text = plan.text(batch)
            cells = conn.execute(schema.select(fields) + " WHERE c.id IN (1, 2) ORDER BY c.id")
            expected: list[str] = []
            render.write_cells(expected.append, fmt, fields, _batches(cells))
            if text is not None:
                written += 1
                assert text.decode() == "".join(expected[1:]), (column, value)
            conn.rollback()
    return written


@pytest.mark.parametrize(
    "args",
    [
        ("list", "contacts", "--format", "csv"),
        ("list", "contacts", "--format", "tsv"),
        ("contact", "list", "--format", "csv", "--sort", "-city", "--offset", "3"),
        ("contact", "list", "--format", "tsv", "--sort", "city", "--sort", "-id"),
        ("list", "contacts", "--format", "csv", "--sort", "name"),
        ("list", "contacts", "--format", "csv", "--columns", "phone,name,id"),
        ("list", "contacts", "--format", "csv", "--columns", "description,name"),
        ("list", "contacts", "--format", "tsv", "--columns", "name,email", "--where", "id>20"),
        ("list", "accounts", "--format", "csv"),
        ("list", "contacts", "--format", "csv", "--limit", "3", "--offset", "2"),
        ("list", "contacts", "--format", "csv", "--limit", "100", "--offset", "7"),
        ("export", "--format", "csv"),
        ("export", "--format", "tsv", "--kind", "accounts"),
    ],
)
@pytest.mark.parametrize("book", ["nasty", "plain"])
def test_commands_write_the_same_bytes_either_way(crm, request, book, tiny, monkeypatch, args):
    path = request.getfixturevalue(book)
    fast = crm.ok("--db", str(path), *args)
    monkeypatch.setattr(lines, "SMALL", 10**9)  # every listing as cells
    slow = crm.ok("--db", str(path), *args)
    assert fast.stdout_bytes == slow.stdout_bytes
    assert fast.stdout_bytes.count(b"\n") > 300 or {"--where", "accounts", "--limit"} & set(args)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize("columns", ["description,name", "description,id,name"])
def test_a_loud_column_then_quiet_ones_unmeasured(crm, plain, tiny, tmp_path, monkeypatch, fmt,
                                                  columns):  # fmt: skip
    """Unmeasured, a loud first column and quiet ones leave the check no term (a
    quiet column is measured only): it is 0, not an empty SQL expression."""
    path = tmp_path / "loud.db"
    path.write_bytes(plain.read_bytes())
    with sqlite3.connect(path) as raw:
        raw.execute("""UPDATE contacts SET description = 'say "hi", ' || id""")  # all loud
    args = ("--db", str(path), "list", "contacts", "--format", fmt, "--columns", columns)
    fast = crm.ok(*args)
    monkeypatch.setattr(lines, "SMALL", 10**9)  # every listing as cells
    assert fast.stdout_bytes == crm.ok(*args).stdout_bytes


def _batches(cursor):
    """A cursor's rows a thousand at a time, as the cell writer takes them."""
    return iter(lambda: cursor.fetchmany(1000), [])


def test_text_not_utf8_fails_as_the_cells_do(crm, nasty, tiny, tmp_path, monkeypatch):
    """SQLite hands the fast path bytes: bytes that are not UTF-8 must not reach
    the output, but fail as reading the same row as cells always did."""
    path = tmp_path / "bad.db"
    path.write_bytes(nasty.read_bytes())
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE contacts SET city = CAST(X'41FF42' AS TEXT) WHERE id = 101")
    fast = crm("--db", str(path), "list", "contacts", "--format", "csv")
    monkeypatch.setattr(lines, "SMALL", 10**9)
    slow = crm("--db", str(path), "list", "contacts", "--format", "csv")
    assert fast.exit_code == slow.exit_code == 1
    assert fast.stderr == slow.stderr and "UTF-8" in fast.stderr
    assert fast.stdout_bytes == slow.stdout_bytes  # the rows before it, as the cells wrote them


class _File:
    """A text file over a binary one whose write fails as `failure` says."""

    def __init__(self, failure=None):
        self.encoding, self.text, self.failure = "utf-8", [], failure
        self.buffer = self

    def flush(self):
        pass

    def write(self, data):
        if self.failure:
            raise self.failure
        self.text.append(data)


def test_bytes_go_to_the_file_under_the_text_or_are_decoded(monkeypatch):
    out = _File()
    render.write_cells(out.write, "csv", ["id"], iter([(b"1\n\xc3\xa9\n", 2)]))
    assert out.text == ["id\n", b"1\n\xc3\xa9\n"]  # the header as text, the lines as bytes
    lines_written: list = []
    render.write_cells(lines_written.append, "csv", ["id"], iter([(b"\xc3\xa9\n", 1)]))
    assert lines_written == ["id\n", "é\n"]
    failures = ((BrokenPipeError(), render.OutputClosed), (OSError(28, ""), render.OutputFailed))
    for failure, error in failures:
        monkeypatch.setattr(sys, "stdout", _File(failure))
        with pytest.raises(error):  # stdout fails as render._write does
            render._bytes_writer(render._write)(b"x\n")
        with pytest.raises(type(failure)):  # an export's file as its write() (export names it)
            render._bytes_writer(_File(failure).write)(b"x\n")


def test_an_export_onto_a_full_device_fails_as_the_cells_do(
    crm, plain, tiny, tmp_path, monkeypatch
):
    """`export -o FILE` that cannot be written names FILE, whichever writer wrote."""
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # /dev/full's own node
    except OSError:
        pytest.skip("cannot make a device node (not root)")
    args = ("--db", str(plain), "export", "--format", "csv", "-o", str(full))
    fast = crm(*args)
    monkeypatch.setattr(lines, "SMALL", 10**9)  # every listing as cells
    slow = crm(*args)
    assert fast.exit_code == slow.exit_code == 1
    assert fast.stderr == slow.stderr and str(full) in fast.stderr
