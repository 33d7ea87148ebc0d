"""Output formats and what reaches the terminal."""

import csv
import io
import json
import re

import pytest

from crmcli import models

HOSTILE = "[bold]Evil[/] :smile: \x1b[31mred\x1b]0;title\x07 C:\\temp\\ \u202edlrow\r\x9b2J"


@pytest.fixture
def book(crm):
    crm.ok("account", "new", "Acme", "--tag", "key", "--tag", "b2b", "--set", "tier=gold")
    crm.ok(
        "contact",
        "add",
        "Jane Doe",
        "--account",
        "Acme",
        "--email",
        "work:jane@acme.example",
        "--email",
        "jane@home.example",
        "--phone",
        "+1 555 0100",
        "--tag",
        "vip",
    )
    crm.ok("contact", "add", "Bob Roe")
    return crm


def test_json_is_an_array_of_full_records_in_id_order(book):
    rows = book.json("contact", "list")
    assert [r["name"] for r in rows] == ["Jane Doe", "Bob Roe"]
    assert list(rows[0]) == list(models.CONTACT_FIELDS)
    assert book.json("list") == rows  # `crm list` defaults to contacts


def test_jsonl_is_one_object_per_line(book):
    lines = book.ok("list", "contacts", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["Jane Doe", "Bob Roe"]


def test_csv_and_tsv_have_a_header_and_join_lists(book):
    text = book.ok("contact", "list", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(models.CONTACT_FIELDS)
    jane = rows[0]
    assert jane["emails"] == "work:jane@acme.example;jane@home.example"
    assert jane["tags"] == "vip" and jane["account"] == "Acme" and jane["title"] == ""
    tsv = book.ok("account", "list", "-f", "tsv").stdout
    header, acme = (line.split("\t") for line in tsv.splitlines())
    assert dict(zip(header, acme, strict=True))["tags"] == "key;b2b"
    assert "\r" not in tsv


def test_ids(book):
    assert book.ok("list", "contacts", "--format", "ids").stdout == "1\n2\n"
    assert book.ok("list", "contacts", "-f", "ids", "--sort", "name").stdout == "2\n1\n"
    assert book.ok("list", "accounts", "--format", "ids").stdout == "1\n"


def test_show_in_each_format(book):
    assert book.json("contact", "show", "1")["name"] == "Jane Doe"
    assert json.loads(book.ok("contact", "show", "1", "-f", "jsonl").stdout)["id"] == 1
    assert book.ok("contact", "show", "1", "-f", "ids").stdout == "1\n"
    assert book.ok("account", "show", "Acme", "-f", "csv").stdout.startswith("id,name,kind")


def test_empty_listings(crm):
    for kind in ("accounts", "contacts", "deals", "activities", "tasks"):
        assert crm.json("list", kind) == []
        result = crm.ok("list", kind)
        assert result.stdout == "" and f"no {kind}" in result.stderr


def test_unknown_kind_or_format_is_a_usage_error(crm):
    crm.fails(2, "list", "widgets")
    crm.fails(2, "list", "--format", "xml")


GOLDEN = """\
┏━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━┓
┃ id ┃ name     ┃ email             ┃ phone       ┃ account ┃ tags ┃
┡━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━┩
│ 2  │ Bob Roe  │                   │             │         │      │
│ 1  │ Jane Doe │ jane@acme.example │ +1 555 0100 │ Acme    │ vip  │
└────┴──────────┴───────────────────┴─────────────┴─────────┴──────┘
"""


def test_golden_contact_table(book):
    assert book.ok("contact", "list").stdout == GOLDEN


def test_hostile_text_is_shown_literally_and_never_sent_to_the_terminal(crm):
    crm.ok("account", "new", HOSTILE, "--description", "two\nlines\x1b[2J")
    for args in (["account", "list"], ["account", "show", "1"]):
        out = crm.ok(*args, env={"COLUMNS": "400"}).stdout
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
        assert "\u202e" not in out and "\r" not in out
        assert "[bold]Evil[/] :smile: \\x1b[31mred" in out and "C:\\temp\\" in out
        assert "\\u202edlrow" in out
    card = crm.ok("account", "show", "1", env={"COLUMNS": "400"}).stdout
    assert re.search(r"two *\n.*lines\\x1b\[2J", card)  # descriptions keep their lines


def test_json_keeps_hostile_text_exact_but_escaped(crm):
    crm.ok("account", "new", HOSTILE)
    raw = crm.ok("account", "list", "--json").stdout
    assert "\x1b" not in raw and "\x9b" not in raw and "\u202e" not in raw
    assert json.loads(raw)[0]["name"] == HOSTILE


def test_unicode_round_trip(crm):
    names = ["Zoë Ångström", "李小龍", "😀 Smiley Corp", "Ωmega"]
    for name in names:
        crm.ok("account", "new", name)
    assert sorted(a["name"] for a in crm.json("account", "list")) == sorted(names)


def test_list_of_deals_activities_tasks_after_demo(crm, tmp_path):
    crm.ok("demo")
    deals = crm.json("list", "deals")
    assert {d["stage"] for d in deals} == {
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "won",
        "lost",
    }
    won = next(d for d in deals if d["status"] == "won")
    assert won["amount"] == 3200.5 and won["probability"] == 100
    assert len(crm.json("list", "activities")) == 4
    tasks = crm.json("list", "tasks")
    assert [t["title"] for t in tasks][:2] == ["Send the skates quote", "Book the Globex demo"]
    assert crm.ok("list", "deals").stdout.count("Acme rocket skates") == 1


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_quote_what_needs_quoting(crm, fmt):
    nasty = 'He said "hi", then\nleft\r\tx;y \x00 =1+2'
    crm.ok("account", "new", "Acme, Inc.", "--description", nasty, "--tag", 'a"b', "--tag", "c,d")
    text = crm.ok("account", "list", "--format", fmt).stdout
    dialect = "excel" if fmt == "csv" else "excel-tab"
    header, row = list(csv.reader(io.StringIO(text, newline=""), dialect=dialect))
    cells = dict(zip(header, row, strict=True))
    if fmt == "tsv":  # one record a line: tab, CR, LF and backslash written as \t \r \n \\
        assert len(text.split("\n")) == 3 and "\r" not in text
        assert cells["description"] == 'He said "hi", then\\nleft\\r\\tx;y \x00 =1+2'
        cells["description"] = nasty
    assert cells["name"] == "Acme, Inc." and cells["description"] == nasty
    assert cells["tags"] == 'a"b;c,d' and cells["id"] == "1" and cells["fields"] == "{}"


def test_a_marked_column_wide_and_zero_width_characters_keeps_its_longest_word(capsys):
    """A marked (search) cell's width can equal its len() with characters that are
    not one cell each (中 is two, a combining accent none): its words are then
    measured, not counted, so the wide word is not cut in two when the table is
    narrowed (or the column is left out)."""
    from crmcli import render

    wide = "中" * 8  # 16 cells, 8 characters
    title = f"\x02{wide}\x03 {chr(0x301) * 8}x" + " ab" * 12  # as many cells as characters
    rows = [{"name": "Ann", "summary": "s", "title": title}, {"name": "Bob", "summary": "t"}]
    for width in range(30, 46, 2):
        render._table(rows, ["name", "summary", "title"], ("\x02", "\x03"), width=width)
        drawn = capsys.readouterr().out
        assert wide in drawn or "title" not in drawn, (width, drawn)  # whole, or left out
