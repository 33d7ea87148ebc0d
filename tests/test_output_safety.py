"""Stored text never drives a terminal, data stays exact in pipes and files, CSV/TSV
round-trip exactly and cannot be turned into formulas, and a closed pipe ends quietly."""

import csv
import io
import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import tty

import pytest

from crmcli import db
from crmcli.store import activities, contacts

# What a hostile tester stored: clipboard write (OSC 52), window title, clear screen,
# right-to-left override, C1 CSI, Rich markup, DEL, an isolate.
OSC52 = "\x1b]52;c;SGVsbG8=\x07"
HOSTILE = f"{OSC52}|\x1b]0;pwned\x07|\x1b[2J|\u202e|\x9b31m|[bold]x[/]|\x7f|\u2066"
TAG = "[bold]x[/]|\u202e|\u2066"  # a tag cannot hold ; or control characters
UNSAFE = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066, 0x2028)]
FORMATS = ("table", "json", "jsonl", "csv", "tsv", "ids")
CRM_SGR = re.compile(r"\x1b\[[0-9;]*m")  # the bold/colour codes crm itself draws with


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    """Hostile text in every kind of record, a custom field, a tag and the history."""
    from conftest import Crm
    from crmcli import config

    folder = tmp_path_factory.mktemp("hostile")
    env = {"CRM_DB": str(folder / "hostile.db"), "CRM_CONFIG": str(folder / "none.toml"),
           **dict.fromkeys(("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"), str(folder))}  # fmt: skip
    config.load.cache_clear()
    crm = Crm()
    crm.ok("account", "new", f"Evil {HOSTILE}", "--city", HOSTILE, "--set", f"tier={HOSTILE}",
           "--tag", TAG, "--description", f"{HOSTILE}\nsecond line", env=env)  # fmt: skip
    crm.ok("contact", "add", f"Eve {HOSTILE}", "--account", "1", "--title", HOSTILE, "--every",
           "1d", "--email", "eve@evil.example", "--set", f"k={HOSTILE}", env=env)  # fmt: skip
    crm.ok("deal", "new", f"Deal {HOSTILE}", "--account", "1", "--amount", "10", env=env)
    crm.ok("note", f"Note {HOSTILE}", "--contact", "1", env=env)
    crm.ok("task", "add", f"Task {HOSTILE}", "--due", "today", "--contact", "1", env=env)
    config.load.cache_clear()
    return folder / "hostile.db"


@pytest.fixture
def hostile(hostile_file, db_path):
    shutil.copyfile(hostile_file, db_path)
    return db_path


def _commands() -> list[list[str]]:
    commands = []
    for fmt in FORMATS:
        for kind in ("accounts", "contacts", "deals", "activities", "tasks"):
            commands.append(["list", kind, "-f", fmt])
        for noun in ("account", "contact", "deal", "activity", "task"):
            commands.append([noun, "show", "1", "-f", fmt])
        kind = ["--kind", "accounts"] if fmt == "ids" else []  # ids of one kind only
        commands += [["search", "evil", "-f", fmt, *kind], ["history", "-f", fmt]]
        if fmt != "ids":  # neither has ids
            commands += [["due", "-f", fmt], ["db", "info", "-f", fmt]]
    for fmt in ("json", "jsonl", "csv", "tsv", "vcf"):
        commands.append(["export", "-f", fmt])
    commands += [["export", "-f", "csv", "--kind", kind] for kind in ("accounts", "activities")]
    commands += [["pipeline"], ["contact", "dupes"]]
    return commands


# Runs every command in one process whose stdout and stderr are the terminal: the
# same code the installed `crm` runs, without paying its start-up 90 times.
DRIVER = """
import json, sys
import typer
from crmcli.cli import app
command = typer.main.get_command(app)
for args in json.loads(sys.argv[1]):
    code = command.main(args=args, prog_name="crm", standalone_mode=False)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.stdout.write(f"\\n<<<{' '.join(args)} -> {code}>>>\\n")
"""


def _on_a_terminal(args_list, env) -> str:
    """What a terminal receives (raw mode: no line-ending translation)."""
    from conftest import on_a_terminal

    code, received = on_a_terminal([sys.executable, "-c", DRIVER, json.dumps(args_list)], env,
                                   raw=True)  # fmt: skip
    assert code == 0
    return received.decode("utf-8")


def test_no_format_sends_control_characters_to_a_terminal(hostile):
    env = {**os.environ, "CRM_DB": str(hostile), "TERM": "xterm-256color", "COLUMNS": "400",
           "CRM_PAGER": "cat"}  # fmt: skip
    env.pop("NO_COLOR", None)
    commands = _commands()
    screen = _on_a_terminal(commands, env)
    outputs = re.split(r"\n<<<(.*?)>>>\n", screen)
    ran = dict(zip(outputs[1::2], outputs[0:-1:2], strict=True))
    failed = {key: ran[key][-300:] for key in ran if not key.endswith("-> 0")}
    assert len(ran) == len(commands) and not failed, failed
    for command, shown in ran.items():
        plain = CRM_SGR.sub("", shown)
        assert not any(char in plain for char in UNSAFE if char not in "\n\t"), (command, plain)
        nameless = command.startswith(("db info", "pipeline", "contact dupes")) or "ids" in command
        if not nameless:
            assert "\\x1b]52" in plain or "\\u001b]52" in plain, command
    assert "\x1b[1m" in screen  # crm's own bold headers still reach the terminal
    assert "[bold]x[/]" in CRM_SGR.sub("", ran["account show 1 -f table -> 0"])


def test_export_to_a_terminal_named_by_o_escapes_too(hostile, crm):
    master, slave = pty.openpty()
    tty.setraw(slave)
    try:
        crm.ok("export", "-f", "csv", "--kind", "accounts", "-o", os.ttyname(slave))
        # The export is written before crm exits, but may come in several reads.
        chunks = []
        while select.select([master], [], [], 0.5)[0]:
            chunks.append(os.read(master, 65536))
        shown = b"".join(chunks).decode()
    finally:
        os.close(slave)
        os.close(master)
    assert "Evil \\x1b]52;c;SGVsbG8=\\x07" in shown
    assert not any(char in shown for char in UNSAFE if char not in "\n\t")


def test_to_a_pipe_data_formats_are_exact(hostile, crm):
    account = crm.json("account", "show", "1")
    assert account["city"] == HOSTILE and account["fields"] == {"tier": HOSTILE}
    for fmt in ("csv", "tsv"):
        listed = crm.ok("list", "accounts", "-f", fmt).stdout
        exported = crm.ok("export", "-f", fmt, "--kind", "accounts").stdout
        assert listed == exported  # one writer
        dialect = "excel" if fmt == "csv" else "excel-tab"
        header, row = csv.reader(io.StringIO(listed, newline=""), dialect=dialect)
        cells = dict(zip(header, row, strict=True))
        assert cells["name"] == f"Evil {HOSTILE}" and cells["city"] == HOSTILE
    card = crm.ok("export", "-f", "vcf").stdout
    assert "FN:Eve \x1b]52\\;c\\;SGVsbG8=\x07|\x1b]0\\;pwned\x07|\x1b[2J|\u202e|\x9b31m|" in card
    assert crm.json("search", "evil")[0]["name"] == f"Evil {HOSTILE}"
    assert json.loads(crm.ok("export").stdout)["tasks"][0]["title"] == f"Task {HOSTILE}"


def test_messages_escape_names_and_paths_once(hostile, crm, tmp_path, monkeypatch):
    from crmcli.cli import options

    monkeypatch.setattr(options, "on_terminal", lambda: True)
    asked = crm("contact", "delete", "1", input="n\n")
    assert asked.exit_code == 1
    assert f"Delete contact 'Eve {OSC52.encode('unicode_escape').decode()}" in asked.stderr
    assert "\\\\x1b" not in asked.stderr and "\x1b" not in asked.stderr
    target = tmp_path / "out\x1b]0;x\x07.json"
    result = crm.ok("export", "-o", str(target))
    assert "out\\x1b]0;x\\x07.json" in result.stderr and "\x1b" not in result.stderr
    backup = crm.ok("db", "backup", str(tmp_path / "b\x1b[2J.db"))
    assert "b\\x1b[2J.db" in backup.stderr and "\x1b" not in backup.stderr


def test_completion_candidates_come_escaped(hostile, installed_crm):
    line = "crm contact show Eve"
    env = {**os.environ, "CRM_DB": str(hostile), "_CRM_COMPLETE": "complete_bash",
           "COMP_WORDS": line, "COMP_CWORD": "3"}  # fmt: skip
    result = subprocess.run([installed_crm], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    word = shlex.split(result.stdout.splitlines()[0])  # the word bash puts on the line
    assert word[0].startswith("Eve \\x1b]52;c;SGVsbG8=\\x07|") and len(word) == 1
    assert not any(char in result.stdout for char in UNSAFE if char != "\n")


# -- CSV and TSV ---------------------------------------------------------------------
TRICKY = {
    "VP\rSales": "CR alone", "two\nlines": "LF", "=cmd|' /C calc'!A0": "formula",
    "'=literal": "a quote crm did not add", "'hello": "a plain quote", "+1 555 0100": "phone",
    "-2": "minus", "@SUM(A1)": "at", "\tTab": "tab", "\rreturn": "CR first",
    "back\\slash\\t\\n": "backslashes", 'say "hi", then': "quote and comma",
}  # fmt: skip


@pytest.fixture
def tricky(db_path):
    with db.session(db_path, write=True) as conn:
        for index, title in enumerate(TRICKY):
            contacts.add_contact(conn, full_name=f"P{index}", values={"title": title},
                                 fields={"note": title}, emails=[f"p{index}@x.ex"])  # fmt: skip
        contacts.add_contact(conn, full_name="Big", values={"description": "ab\r\n=" * 100_000})
    return db_path


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_round_trip_exactly_through_the_installed_crm(tricky, tmp_path, run, fmt):
    path = tmp_path / f"out.{fmt}"
    run("export", "-f", fmt, "-o", str(path))
    with path.open(encoding="utf-8", newline="") as file:
        text = file.read()
    dialect = "excel" if fmt == "csv" else "excel-tab"
    limit = csv.field_size_limit(1_000_000)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect=dialect))
    finally:
        csv.field_size_limit(limit)
    assert len(rows) == len(TRICKY) + 2  # no value split a row
    title = rows[0].index("title")
    titles = {row[1]: row[title] for row in rows[1:]}
    assert titles["P2"] == "'=cmd|' /C calc'!A0" and titles["P3"] == "''=literal"
    assert titles["P4"] == "''hello" and titles["P5"] == "'+1 555 0100"
    if fmt == "tsv":
        assert len(text.splitlines()) == len(TRICKY) + 2 and titles["P0"] == "VP\\rSales"
    copy = {**run.env, "CRM_DB": str(tmp_path / "copy.db")}
    run("import", str(path), env=copy)
    before = run("export", "-f", "jsonl").stdout.splitlines()
    after = run("export", "-f", "jsonl", env=copy).stdout.splitlines()

    def comparable(line):
        record = json.loads(line)
        return {k: v for k, v in record.items() if k not in ("created_at", "updated_at")}

    assert [comparable(line) for line in after] == [comparable(line) for line in before]
    assert len(json.loads(after[-1])["description"]) == 500_000


def test_list_csv_defuses_formulas_like_export(tricky, crm):
    listed = crm.ok("list", "-f", "csv").stdout
    assert listed == crm.ok("export", "-f", "csv").stdout
    assert ",'=cmd|' /C calc'!A0," in listed and ',"VP\rSales",' in listed
    shown = crm.ok("contact", "show", "P2", "-f", "csv").stdout
    assert ",'=cmd|' /C calc'!A0," in shown
    found = crm.ok("search", "p2", "-f", "csv", "--kind", "contacts").stdout
    assert found.count("\n") == 2


def test_import_removes_only_the_quote_crm_added(crm, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,title\nA,'hello\nB,''=x\nC,'=y\nD,'\n", encoding="utf-8")
    crm.ok("import", str(path))
    titles = {row["name"]: row["title"] for row in crm.json("contact", "list")}
    assert titles == {"A": "'hello", "B": "'=x", "C": "=y", "D": "'"}


# -- A closed pipe -------------------------------------------------------------------
def test_a_closed_pipe_ends_every_command_quietly(tmp_path, run, installed_crm):
    with db.session(tmp_path / "crm.db", write=True) as conn:
        big = ("x" * 80 + "\n") * 1200  # a card well past the pipe's 64 kB buffer
        contacts.add_contact(conn, full_name="Big", values={"description": big})
        activities.add_activity(conn, "a note under the card", contact="1")  # a second write
        for i in range(1500):
            contacts.add_contact(conn, full_name=f"Person {i:04}", emails=[f"p{i}@x.example"])
    crm = f"'{installed_crm}'"
    script = f"""
    for i in $(seq 6); do
      {crm} contact show 1 | head -1 >/dev/null; echo "show ${{PIPESTATUS[0]}}"
    done
    for i in 1; do
      {crm} list --limit 2000 | head -1 >/dev/null; echo "list ${{PIPESTATUS[0]}}"
      {crm} export | head -c 10 >/dev/null; echo "export ${{PIPESTATUS[0]}}"
      {crm} list -f csv | head -1 >/dev/null; echo "csv ${{PIPESTATUS[0]}}"
    done
    """
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                            env=run.env, timeout=120)  # fmt: skip
    assert result.stderr == ""
    codes = result.stdout.split("\n")[:-1]
    assert len(codes) == 9 and all(code.endswith(" 0") for code in codes), codes
