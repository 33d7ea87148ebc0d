"""Tables and cards for people (issue 15): fitted to 60, 100 and 200 columns,
local dates with words, colour with meaning, the pager.

The golden files under tests/golden/ are the demo database as a person sees
it, at each width, with and without colour.  After a deliberate change to how
crm draws, regenerate them and read the diff:

    CRM_GOLDEN=update .venv/bin/python -m pytest tests/test_views.py -q
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from conftest import Crm

GOLDEN = Path(__file__).parent / "golden"
NOW = "2026-12-01T15:00:00Z"  # 10:00 in New York: CRM_NOW fixes "today" for the words
ZONE = "America/New_York"
SGR = re.compile(r"\x1b\[[0-9;]*m")

VIEWS = [
    ["list", "contacts"],
    ["list", "accounts"],
    ["list", "deals"],
    ["list", "activities"],
    ["task", "list", "--all"],
    ["due"],
    ["pipeline"],
    ["contact", "show", "jane@acme.example"],
    ["account", "show", "Acme Corporation"],
    ["deal", "show", "Acme rocket skates"],
    ["task", "show", "1"],
    ["activity", "show", "2"],
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo database made at NOW in New York; TZ set for this module's tests."""
    from crmcli import config

    folder = tmp_path_factory.mktemp("views")
    old = os.environ.get("TZ")
    os.environ["TZ"] = ZONE
    time.tzset()
    env = {"CRM_DB": str(folder / "demo.db"), "CRM_CONFIG": str(folder / "none.toml"),
           "CRM_NOW": NOW, "NO_COLOR": None, "CLICOLOR_FORCE": None}  # fmt: skip
    config.load.cache_clear()
    Crm().ok("demo", env=env)
    yield env
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture
def view(demo):
    """Run crm on the demo database at a width: (stdout, stderr)."""
    runner = Crm()

    def view(*args: str, columns: int = 100, **env):
        result = runner.ok(*args, env={**demo, "COLUMNS": str(columns), **env})
        return result.stdout, result.stderr

    return view


@pytest.mark.parametrize("colour", ["never", "always"])
@pytest.mark.parametrize("columns", [60, 100, 200])
def test_golden_views_of_the_demo(view, columns, colour):
    shown = []
    for args in VIEWS:
        out, err = view("--color", colour, *args, columns=columns)
        shown.append(f"$ crm {' '.join(args)}\n{out}")
        shown += [f"[stderr] {line}\n" for line in err.splitlines()]
        width = max(len(SGR.sub("", line)) for line in out.splitlines())
        assert width <= columns, (args, width)
    text = "".join(shown)
    path = GOLDEN / f"demo-{columns}-{'colour' if colour == 'always' else 'plain'}.txt"
    if os.environ.get("CRM_GOLDEN") == "update":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path.name}: CRM_GOLDEN=update regenerates"
    assert ("\x1b[" in text) == (colour == "always")


def test_names_emails_and_phones_are_never_cut_while_a_column_can_go(view):
    contacts = json.loads(view("list", "--json")[0])
    out, err = view("list", columns=60)
    for contact in contacts:
        for field in ("name", "email", "phone"):
            assert not contact[field] or contact[field] in out, field
    assert "…" not in out
    assert err == "left out to fit the width: account, title (--columns chooses the columns)\n"
    # --columns brings them back: every one asked for, narrowed and wrapped if need be
    out, err = view("list", "--columns", "name,account,title,tags", columns=60)
    assert out.splitlines()[1].split()[1::2] == ["name", "account", "title", "tags"] and err == ""
    assert "Head of" in out and "Purchasing" in out


def test_empty_columns_take_no_space_and_wide_terminals_show_everything(view):
    out, err = view("list", columns=200)
    assert out.splitlines()[1].split("┃")[1:-1] == [
        " id ", " name            ", " email                      ", " phone       ",
        " account          ", " title              ",
    ]  # fmt: skip  (no tags: nobody has one)
    assert err == ""
    assert "tags" in view("list", "accounts", columns=200)[0]  # two accounts have tags


def test_a_contact_card_fits_a_screen(view):
    out, _ = view("contact", "show", "jane@acme.example")
    lines = out.splitlines()
    assert len(lines) <= 30
    assert lines[:2] == ["Jane Q. Doe #1", "Head of Purchasing at Acme Corporation"]
    assert "  e-mail          jane@acme.example (work)" in lines
    assert "  last contacted  2026-11-24 12:00 (7 days ago)" in lines  # local: noon in New York
    for section in ("Deals (1) · 12,500 USD open", "Open tasks (1)", "Timeline (2)"):
        assert section in lines


def test_sections_leave_out_what_repeats_the_card(view):
    out, _ = view("account", "show", "Acme Corporation")
    timeline = out.split("Timeline (2)\n")[1].split("\n\n")[0]
    assert timeline.splitlines()[0].split() == ["id", "at", "kind", "summary", "contact", "deal"]
    tasks = out.split("Open tasks (1)\n")[1].split("\n\n")[0]
    assert "done" not in tasks and " no " not in tasks
    due, _ = view("due")
    assert "done" not in due and "│ no " not in due


def test_due_says_how_overdue_and_json_keeps_utc(view, demo):
    out, _ = view("due")
    assert "1 day overdue" in out and "today" in out
    assert "4 weeks overdue" in out  # Hank: every month, last seen 2 months ago
    data = json.loads(view("due", "--json")[0])
    assert data["tasks"][0]["due"] == "2026-11-30"
    jane = json.loads(view("contact", "show", "1", "--json")[0])
    assert jane["last_contacted"] == "2026-11-24T17:00:00Z"  # noon in New York, in UTC
    assert "2026-11-24T17:00:00Z" in view("list", "activities", "-f", "csv")[0]


def test_money_in_tables_json_exact(view):
    assert "6,300.56" in view("pipeline")[0] and "6,300.5625" not in view("pipeline")[0]
    assert "Open pipeline, weighted: 24,700.56 USD" in view("pipeline")[0]
    weighted = [row["weighted"] for row in json.loads(view("pipeline", "--json")[0])]
    assert 6300.5625 in weighted


@pytest.mark.parametrize(
    ("option", "env", "coloured"),
    [
        ([], {}, False),  # not a terminal
        (["--color", "always"], {}, True),
        (["--color", "always"], {"NO_COLOR": "1"}, True),  # the option wins
        ([], {"CLICOLOR_FORCE": "1"}, True),
        ([], {"CLICOLOR_FORCE": "0"}, False),
        ([], {"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, False),
        (["--color", "never"], {"CLICOLOR_FORCE": "1"}, False),
    ],
)
def test_colour_rules(view, option, env, coloured):
    out, _ = view(*option, "task", "list", **env)
    assert ("\x1b[31m" in out) == coloured  # the overdue task in red
    for fmt in ("json", "csv", "tsv", "jsonl", "ids"):
        assert "\x1b" not in view(*option, "task", "list", "-f", fmt, **env)[0]


def test_stored_markup_and_escapes_stay_inert_in_colour(crm):
    hostile = "[bold]x[/] \x1b]52;c;SGVsbG8=\x07 \x1b[2J"
    crm.ok("account", "new", hostile, "--tag", "[red]t")
    crm.ok("deal", "new", hostile, "--account", "1", "--amount", "5", "--stage", "won")
    crm.ok("task", "add", hostile, "--due", "yesterday", "--account", "1")
    for args in (["list", "accounts"], ["account", "show", "1"], ["list", "deals"],
                 ["deal", "show", "1"], ["due"], ["task", "show", "1"]):  # fmt: skip
        out = crm.ok("--color", "always", *args).stdout
        plain = SGR.sub("", out)
        assert "[bold]x[/] \\x1b]52;c;SGVsbG8=\\x07 \\x1b[2J" in plain, args
        assert "\x07" not in out and "\x1b]" not in out and "\x1b[2J" not in out
