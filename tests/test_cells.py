"""CSV/TSV cells: TSV escaping (crm's own files round-trip, outside files keep their
backslashes), and list cells (tags, labelled e-mails and phones) that split back
exactly."""

import csv
import io
import json
import re
import sqlite3
import subprocess
import sys

import pytest

from crmcli import db, render


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\rb", "a\\b", 'a"b', "C:\\temp\\new"])
def test_tsv_escapes_each_special_character_even_alone_in_a_batch(value):
    out: list[str] = []
    rows = [[1, "plain"], [2, value], *([index, "x"] for index in range(3, 2500))]
    render.write_cells(out.append, "tsv", ["id", "v"], _batches(_Cursor(rows)))
    text = "".join(out)
    assert text.count("\n") == len(rows) + 1  # one line a record
    expected = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    assert next(csv.reader(io.StringIO(text.splitlines()[2]), dialect="excel-tab")) == [
        "2",
        expected.replace("\r", "\\r"),
    ]


class _Cursor:
    def __init__(self, rows):
        self.rows = iter(rows)

    def fetchmany(self, size):
        from itertools import islice

        return list(islice(self.rows, size))


def test_an_outside_tsv_keeps_its_backslashes(crm, tmp_path):
    path = tmp_path / "outside.tsv"
    path.write_text(
        "name\tdescription\tshare\nA\tC:\\temp\\new\\report\t\\\\server\\rates\n",
        encoding="utf-8",
    )
    crm.ok("import", str(path))
    contact = crm.json("contact", "show", "A")
    assert contact["description"] == "C:\\temp\\new\\report"
    assert contact["fields"] == {"share": "\\\\server\\rates"}


def test_crm_own_tsv_round_trips_and_the_options_decide_either_way(crm, tmp_path):
    value = "tab\there, CR\rLF\nend, C:\\temp\\new, \\\\t"
    crm.ok("contact", "add", "A", "--title", "x", "--description", value)
    own = tmp_path / "own.tsv"
    own.write_text(crm.ok("list", "-f", "tsv").stdout, encoding="utf-8")
    crm.ok("--db", str(tmp_path / "b.db"), "import", str(own))
    assert crm.json("--db", str(tmp_path / "b.db"), "contact", "show", "A")["description"] == value
    crm.ok("--db", str(tmp_path / "c.db"), "import", str(own), "--no-tsv-escapes")
    kept = crm.json("--db", str(tmp_path / "c.db"), "contact", "show", "A")["description"]
    assert kept == value.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace(
        "\n", "\\n"
    )
    some = tmp_path / "some.tsv"  # --columns: not crm's whole header, so say it
    some.write_text(crm.ok("list", "-f", "tsv", "--columns", "name,description").stdout)
    crm.ok("--db", str(tmp_path / "d.db"), "import", str(some), "--tsv-escapes")
    assert crm.json("--db", str(tmp_path / "d.db"), "contact", "show", "A")["description"] == value
    assert "for TSV files" in crm.fails(2, "import", str(own), "-f", "csv", "--tsv-escapes").stderr


@pytest.mark.parametrize(
    "tag", ["a;b", ";", "\x1b]52;c;x\x07", "x\x00y", "bell\x07", "del\x7f", "c1\x9b"]
)
def test_a_tag_that_a_cell_cannot_carry_is_refused(crm, tmp_path, tag):
    error = crm.fails(2, "account", "new", "A", "--tag", tag).stderr
    assert "invalid tag" in error and "cannot hold ';'" in error
    crm.ok("account", "new", "B")
    crm.fails(2, "account", "edit", "B", "--add-tag", tag)
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"name": "ok"}, {"name": "C", "tags": ["fine", tag]}]))
    # JSON carries a list exactly (an older crm's backup may hold such a tag): kept.
    crm.ok("import", str(path), "-k", "accounts")
    assert crm.json("account", "show", "C")["tags"] == ["fine", tag]


def test_a_tag_stored_before_the_rule_can_still_be_edited_around_and_removed(crm, db_path):
    crm.ok("account", "new", "A", "--tag", "keep")
    with sqlite3.connect(db_path) as conn:  # as an older crm could store it
        conn.execute("""UPDATE accounts SET tags = '["keep","a;b"]'""")
    assert crm.json("account", "edit", "A", "--add-tag", "new")["tags"] == ["keep", "a;b", "new"]
    assert crm.json("account", "edit", "A", "--remove-tag", "a;b")["tags"] == ["keep", "new"]


TAGS = ["vip", "Zoë", 'say "hi", then', "'=x", "C:\\temp\\new", "two words"]
FIELDS = {"note": "a;b:c", "multi": "line\nbreak\ttab\r\\n", "nul": "x\x00y\x1b"}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """An account, a contact and a deal with tags, labelled e-mails and phones and
    custom fields that a `;`, `:` or control character could break."""
    from crmcli import config
    from crmcli.store import accounts, contacts, deals

    path = tmp_path_factory.mktemp("cells") / "book.db"
    with db.session(path, write=True) as conn:
        accounts.add_account(conn, {"name": "Acme; Inc"}, tags=TAGS, fields=FIELDS)
        contacts.add_contact(conn, full_name="Jane Doe", account="1", tags=TAGS, fields=FIELDS,
                             emails=["work:jane@acme.example", "jane@home.example",
                                     "old mail:jane@[IPv6:2001:db8::1]"],
                             phones=["mobile:+1 555 0100", "+1 555 0199 x12"])  # fmt: skip
        deals.add_deal(conn, config.load(), "Deal: one; two", account="1", contact="1",
                       amount_text="1,200.50", tags=TAGS, fields=FIELDS)  # fmt: skip
    return path


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_accounts_contacts_and_deals_round_trip_through_csv_and_tsv(book, tmp_path, crm, fmt):
    copy = tmp_path / "copy.db"
    for kind in ("accounts", "contacts", "deals"):
        out = crm.ok("--db", str(book), "export", "-f", fmt, "--kind", kind).stdout
        (tmp_path / f"{kind}.{fmt}").write_bytes(out.encode())
        crm.ok("--db", str(copy), "import", str(tmp_path / f"{kind}.{fmt}"), "--kind", kind)
    for kind in ("accounts", "contacts", "deals"):
        again = crm.ok("--db", str(copy), "export", "-f", fmt, "--kind", kind).stdout
        assert again.encode() == (tmp_path / f"{kind}.{fmt}").read_bytes()
    contact = crm.json("--db", str(copy), "contact", "show", "1")
    assert contact["tags"] == TAGS and contact["fields"] == FIELDS
    assert [(e["label"], e["value"]) for e in contact["emails"]] == [
        ("work", "jane@acme.example"), (None, "jane@home.example"),
        ("old mail", "jane@[IPv6:2001:db8::1]")]  # fmt: skip
    assert crm.json("--db", str(copy), "deal", "show", "1")["amount"] == 1200.5


@pytest.mark.parametrize("styled", [False, True])
@pytest.mark.parametrize("marked", [None, ("\x02", "\x03")])
def test_table_cells_made_a_column_at_a_time_are_those_of_one_cell_at_a_time(styled, marked):
    """render._body (the fast way) against render._table_cell (the plain one), on
    nasty cells: escapes, wide and combining characters, lists, numbers, markup."""
    from decimal import Decimal

    values = ["plain", "\x1b[31mred", "[bold]x[/]", "日本語", "e\u0301", None, "", 7, True,
              ["a", {"label": "w", "value": "v"}], {"k": 1}, Decimal("1234.5"), "a\x02hit\x03b",
              "\u202eevil", "tab\there"]  # fmt: skip
    columns = ("name", "tags", "amount", "stage", "due", "done")
    people = render._People(styled)
    # every kind of value in one column, and columns of one kind (each has a quick way)
    for kind in (values, [7, 10**20, -3], [[], ["a", "b"], [], ["日本"]], [None, "x", "Zoë", ""],
                 [True, False], [[], None, [], {"k": "v"}], ["Søren", "Émile"]):  # fmt: skip
        rows = [{column: value for column in columns} for value in kind]
        expected = [[render._table_cell(c, row, marked, people) for c in columns] for row in rows]
        body = render._body(render.Columns(rows=rows), columns, marked, people)
        assert [[column.cell(i) for column in body] for i in range(len(rows))] == expected
        read_whole = render.Columns({column: [row[column] for row in rows] for column in columns})
        assert render._body(read_whole, columns, marked, people) == body  # a listing's columns
        for column in body:  # a narrow column: every cell is as wide as its len()
            assert not column.narrow or column.sizes == [len(text) for text in column.texts]


def _narrow(text: str) -> bool:
    """Whether render takes `text` as one cell a character: by the quick test for a
    printable text (what the tables use), else by the class itself."""
    if text.isprintable() and render._narrow_printable(text):
        return True
    return re.match(render._NARROW_TEXT, text) is not None


def test_the_narrow_class_holds_only_characters_one_cell_wide():
    """A column of these is measured by len(), not rich.cells: each one, and all of
    them together, must be one cell a character to rich too."""
    from rich.cells import cell_len

    narrow = "".join(re.findall(render._NARROW_AT, "".join(map(chr, range(0x110000)))))
    assert [c for c in narrow if cell_len(c) != 1] == []
    assert cell_len(narrow) == len(narrow) and _narrow(narrow)
    assert _narrow("Zoë Émile Søren Łukasz Αθήνα Дмитрий")
    for wide in ("日本", "e\u0301", "soft\xadhyphen", "a\u200bb", "😀", "\x1b"):
        assert not _narrow("Zoë " + wide)
    for code in range(0x800):  # Latin-1 is tested another way: both ways agree with rich
        text = "Zoë " + chr(code)
        assert not _narrow(text) or cell_len(text) == len(text), hex(code)


def test_measure_agrees_with_rich_and_needs_it_only_for_wide_text():
    """measure() counts cells as rich does, importing rich.cells only for a text that
    is not one cell a character (a name like Søren must not pay for the import)."""
    from rich.cells import cell_len

    texts = ["Søren", "Αθήνα Дмитрий", "日本", "e\u0301", "soft\xadhyphen", "a\u200bb", "😀",
             "\x85", "Zoë\x9b", "\xa0x", "tab\tx"]  # fmt: skip
    non_ascii = [t for t in texts if not t.isascii()]
    assert [render.measure(t) for t in non_ascii] == [cell_len(t) for t in non_ascii]
    code = (
        "import sys; from crmcli import render; render.measure('Søren Αθήνα Дмитрий'); "
        "print('rich' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_character_escaped_is_unprintable():
    """A column whose text isprintable() is not searched for characters to escape."""
    assert [hex(code) for code in render._VISIBLE if chr(code).isprintable()] == []


def test_the_unsafe_classes_hold_exactly_the_characters_escaped():
    """render's regex classes (a quick test of whether a text needs escaping) against
    its translate tables, over every code point."""
    every = "".join(map(chr, range(0x110000)))
    assert {ord(c) for c in re.findall(render._UNSAFE_AT, every)} == set(render._VISIBLE)
    assert {ord(c) for c in re.findall(render._JSON_UNSAFE_AT, every)} == set(render._JSON_ESCAPES)
    assert render.to_json(["a\x85b\u202ec", "zoë"]) == '["a\\u0085b\\u202ec", "zoë"]'


def _batches(cursor):
    """A cursor's rows a thousand at a time, as the cell writer takes them."""
    return iter(lambda: cursor.fetchmany(1000), [])
