"""Undo is exact: random sequences of every write command, undone newest first, give
back each earlier state byte for byte (the JSON export, and every table behind it).

Each generated step names a command and a few numbers that pick its records among
those stored at that moment, so a sequence means something whatever ran before it.
Imports run with batches of two as well as the default size, so that full batches
are written (triggers lifted) in the middle of a file.

CRM_UNDO_EXAMPLES=1000 runs it longer (the suite runs 25, derandomized).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmcli import db
from crmcli import export as writers
from crmcli.cli import app
from crmcli.migrations import HISTORY_TABLES
from crmcli.store import bulk, care

ACCOUNTS = ["Acme", "Beta", "Gamma", "ACME"]  # ACME clashes with Acme
PEOPLE = ["Ann Lee", "Bob Ray", "Cy Doe"]
EMAILS = ["ann@x.example", "bob@x.example", "cy@x.example", "ANN@x.example"]
PHONES = ["+1 555 0100", "555 0101", "+44 20 7946 0000"]
TAGS = ["vip", "cold"]
STAGES = ["lead", "proposal", "won", "lost"]
KINDS = ["call", "meeting", "note", "email"]


def _id(records: list[dict], n: int) -> str | None:
    return str(records[n % len(records)]["id"]) if records else None


def _optional(flag: str, value: str | None, wanted: int) -> list[str]:
    return [flag, value] if value is not None and wanted % 2 else []


# Each builder turns (state, a, b, c) into a command line, or None when the state
# holds nothing it could work on.  state: the export, as lists of records by kind.
def account_new(s, a, b, c):
    parent = _optional("--parent", _id(s["accounts"], c), c)
    return ["account", "new", ACCOUNTS[a % 4], "--city", f"C{b % 3}", "--tag", TAGS[b % 2],
            "--set", f"tier=t{c % 2}", *parent]  # fmt: skip


def account_edit(s, a, b, c):
    ref = _id(s["accounts"], a)
    variant = [
        ["--name", ACCOUNTS[c % 4]],
        ["--city", f"C{c % 3}", "--industry", "Tools"],
        ["--add-tag", TAGS[c % 2], "--remove-tag", TAGS[(c + 1) % 2]],
        ["--parent", _id(s["accounts"], c) or "1"],
        ["--no-parent", "--unset", "tier"],
    ][b % 5]
    return ref and ["account", "edit", ref, *variant]


def account_delete(s, a, b, c):
    ref = _id(s["accounts"], a)
    return ref and ["account", "delete", ref, "--yes", *[[], ["--detach"], ["--cascade"]][b % 3]]


def account_merge(s, a, b, c):
    keep, other = _id(s["accounts"], a), _id(s["accounts"], b)
    return keep and keep != other and ["account", "merge", keep, other, "--yes"]


def contact_add(s, a, b, c):
    return ["contact", "add", PEOPLE[a % 3], *_optional("--account", _id(s["accounts"], b), b),
            *(["--email", EMAILS[b % 4]] if c % 3 else []), *_optional("--phone", PHONES[c % 3], c),
            "--title", f"T{a % 2}", "--tag", TAGS[c % 2]]  # fmt: skip


def contact_edit(s, a, b, c):
    people = s["contacts"]
    if not people:
        return None
    person = people[a % len(people)]
    emails, phones = [e["value"] for e in person["emails"]], [p["value"] for p in person["phones"]]
    variant = [
        ["--name", PEOPLE[c % 3]],
        ["--account", _id(s["accounts"], c) or "1"],
        ["--no-account"],
        ["--email", f"work:{EMAILS[c % 4]}", "--phone", PHONES[c % 3]],
        ["--remove-email", emails[c % len(emails)]] if emails else ["--title", "X"],
        ["--remove-phone", phones[c % len(phones)]] if phones else ["--department", "D"],
        ["--title", f"T{c % 3}", "--add-tag", TAGS[c % 2], "--set", "k=v"],
    ][b % 7]
    return ["contact", "edit", str(person["id"]), *variant]


def contact_delete(s, a, b, c):
    ref = _id(s["contacts"], a)
    return ref and ["contact", "delete", ref, "--yes"]


def contact_merge(s, a, b, c):
    keep, other = _id(s["contacts"], a), _id(s["contacts"], b)
    return keep and keep != other and ["contact", "merge", keep, other, "--yes"]


def deal_new(s, a, b, c):
    account = _id(s["accounts"], b)
    return account and ["deal", "new", f"D{a % 3}", "--account", account,
                        *_optional("--contact", _id(s["contacts"], c), c),
                        "--amount", f"{a % 5}00.5", "--stage", STAGES[c % 4]]  # fmt: skip


def deal_edit(s, a, b, c):
    ref = _id(s["deals"], a)
    variant = [
        ["--amount", f"{c}.25", "--name", f"D{c % 3}"],
        ["--no-account"],
        ["--contact", _id(s["contacts"], c) or "1"],
        ["--no-contact", "--add-tag", TAGS[c % 2]],
        ["--account", _id(s["accounts"], c) or "1", "--stage", STAGES[c % 4]],
    ][b % 5]
    return ref and ["deal", "edit", ref, *variant]


def deal_move(s, a, b, c):
    ref = _id(s["deals"], a)
    return ref and ["deal", "move", ref, STAGES[b % 4]]


def deal_delete(s, a, b, c):
    ref = _id(s["deals"], a)
    return ref and ["deal", "delete", ref, "--yes"]


def log(s, a, b, c):
    return ["log", f"talked {a}", "--kind", KINDS[a % 4], "--at", f"2026-0{1 + b % 9}-1{c % 9}",
            *_optional("--contact", _id(s["contacts"], b), b),
            *_optional("--deal", _id(s["deals"], c), c),
            *_optional("--account", _id(s["accounts"], a), a // 2)]  # fmt: skip


def note(s, a, b, c):
    return ["note", f"note {a}", *_optional("--contact", _id(s["contacts"], b), b)]


def activity_delete(s, a, b, c):
    ref = _id(s["activities"], a)
    return ref and ["activity", "delete", ref, "--yes"]


def task_add(s, a, b, c):
    return ["task", "add", f"do {a % 3}", "--due", f"2026-0{1 + b % 9}-01",
            *_optional("--contact", _id(s["contacts"], b), b),
            *_optional("--deal", _id(s["deals"], c), c),
            *_optional("--account", _id(s["accounts"], a), a // 2)]  # fmt: skip


def task_done(s, a, b, c):
    ref = _id(s["tasks"], a)
    return ref and ["task", "reopen" if b % 3 == 0 else "done", ref]


def task_edit(s, a, b, c):
    ref = _id(s["tasks"], a)
    variant = [
        ["--title", f"do {c}"],
        ["--due", ""],
        ["--contact", _id(s["contacts"], c) or ""],
        ["--deal", _id(s["deals"], c) or "", "--account", ""],
    ][b % 4]
    return ref and ["task", "edit", ref, *variant]


def task_delete(s, a, b, c):
    ref = _id(s["tasks"], a)
    return ref and ["task", "delete", ref, "--yes"]


BUILDERS = [account_new, account_edit, account_delete, account_merge, contact_add,
            contact_edit, contact_delete, contact_merge, deal_new, deal_edit, deal_move,
            deal_delete, log, note, activity_delete, task_add, task_done, task_edit,
            task_delete]  # fmt: skip

# An imported person: (name, e-mail or None, company or None, title).
_PERSON = st.tuples(
    st.integers(0, 2), st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 3)), st.integers(0, 2),
)  # fmt: skip


def _people_file(kind: str, people: list[tuple]) -> str:
    rows = [(PEOPLE[n], None if e is None else EMAILS[e], None if a is None else ACCOUNTS[a],
             f"T{t}") for n, e, a, t in people]  # fmt: skip
    if kind == "csv":
        lines = ["name,email,company,title"] + [",".join(v or "" for v in row) for row in rows]
        return "\n".join(lines) + "\n"
    if kind == "json":
        return json.dumps([{"name": n, "email": e, "account": a, "title": t}
                           for n, e, a, t in rows])  # fmt: skip
    return "".join(
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"FN:{n}\r\nN:{n.split()[1]};{n.split()[0]};;;\r\nTITLE:{t}\r\n"
        + (f"EMAIL:{e}\r\n" if e else "") + (f"ORG:{a}\r\n" if a else "")
        + "END:VCARD\r\n"
        for n, e, a, t in rows
    )  # fmt: skip


def _backup_file(ids: list[int]) -> str:
    """A backup of every kind whose ids (1-4) may be taken: conflicts by id and links."""
    a, b, c, d, e = ids
    return json.dumps({
        "accounts": [{"id": a, "name": ACCOUNTS[a % 4], "city": "Z", "tags": ["vip"]}],
        "contacts": [{"id": b, "name": PEOPLE[b % 3], "account_id": a,
                      "emails": [{"value": EMAILS[b % 4], "label": "home"}],
                      "phones": [{"value": PHONES[b % 3], "label": None}]}],
        "deals": [{"id": c, "name": f"D{c}", "account_id": a, "contact_id": b, "amount": 7}],
        "activities": [{"id": d, "kind": "call", "subject": "s", "at": "2026-02-02T10:00:00Z",
                        "contact_id": b, "deal_id": c}],
        "tasks": [{"id": e, "title": "t", "contact_id": b, "done": True,
                   "done_at": "2026-02-03T10:00:00Z"}],
    })  # fmt: skip


IMPORT = st.tuples(
    st.just("import"),
    st.sampled_from(["csv", "json", "vcf", "backup"]),
    st.sampled_from(["error", "skip", "update"]),
    st.sampled_from([2, bulk.DEFAULT_SIZE]),
    st.lists(_PERSON, min_size=1, max_size=5),
    st.lists(st.integers(1, 4), min_size=5, max_size=5),
)
COMMAND = st.tuples(st.sampled_from(BUILDERS), st.integers(0, 11), st.integers(0, 11),
                    st.integers(0, 11))  # fmt: skip
STEPS = st.lists(st.one_of(COMMAND, COMMAND, COMMAND, IMPORT), min_size=1, max_size=8)


class Book:
    """One database, driven through crm's command line in this process."""

    def __init__(self, path: Path, monkeypatch):
        self.path, self.monkeypatch = path, monkeypatch
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, ["--db", str(self.path), *args], input=input)

    def last_operation(self) -> int:
        if not self.path.exists():
            return 0
        with sqlite3.connect(self.path) as conn:
            return conn.execute("SELECT coalesce(max(id), 0) FROM operations").fetchone()[0]

    def state(self) -> tuple[str, dict]:
        """The export (as `crm export` writes it, without its time) and every table."""
        out = io.StringIO()
        with db.session(self.path, write=False) as conn:
            writers.write_json(conn, out, writers.KINDS, "-")
            tables = {
                table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in HISTORY_TABLES
            }
            tables["search"] = conn.execute(
                "SELECT rowid, kind, name, body FROM search ORDER BY rowid"
            ).fetchall()
            assert care.check(conn) == []
        return out.getvalue(), tables

    def run(self, step, records: dict) -> tuple[list[str] | None, str]:
        """Run one step; returns its command line (None: nothing to do) and how it went."""
        if step[0] != "import":
            build, a, b, c = step
            args = build(records, a, b, c)
            if not args:
                return None, ""
            result = self(*args)
        else:
            _, kind, on_conflict, size, people, ids = step
            text = _backup_file(ids) if kind == "backup" else _people_file(kind, people)
            fmt = {"backup": "json"}.get(kind, kind)
            args = ["import", "-", "--format", fmt, "--on-conflict", on_conflict]
            self.monkeypatch.setattr(bulk, "DEFAULT_SIZE", size)
            result = self(*args, input=text)
            args.append(text)
        assert result.exit_code in (0, 1, 2, 3), (args, result.stdout, result.stderr)
        assert "unexpected" not in result.stderr, (args, result.stderr)
        return args, f"exit {result.exit_code}"

    def undo(self, operation: int, what) -> int:
        result = self("undo", str(operation))
        assert result.exit_code == 0, (what, result.stderr)
        return self.last_operation()


def _records(export: str) -> dict:
    return json.loads(export)


def _name(step) -> str:
    return f"import {step[1]} --on-conflict {step[2]}" if step[0] == "import" else step[0].__name__


@pytest.fixture
def fast_commits(monkeypatch):
    """Commits need not reach the disk here: a few hundred of them per second."""
    add = db._add_functions

    def add_and_skip_sync(conn):
        add(conn)
        conn.execute("PRAGMA synchronous = OFF")

    monkeypatch.setattr(db, "_add_functions", add_and_skip_sync)


_START = (  # something of every kind to work on
    ["account", "new", "Start Co", "--tag", "vip"],
    ["contact", "add", "Zed Ott", "--account", "1", "--email", "zed@x.example",
     "--phone", PHONES[0]],
    ["deal", "new", "Start deal", "--account", "1", "--contact", "1", "--amount", "10"],
    ["log", "called", "--kind", "call", "--contact", "1", "--at", "2026-01-02"],
    ["task", "add", "start", "--deal", "1"],
)  # fmt: skip
_STARTED: list[Path] = []  # the database _START made, made once


def _book(tmp_path_factory, monkeypatch) -> Book:
    """A copy of the database with something of every kind in it."""
    if not _STARTED:
        start = Book(tmp_path_factory.mktemp("start") / "crm.db", monkeypatch)
        for args in _START:
            assert start(*args).exit_code == 0, args
        _STARTED.append(start.path)
    book = Book(tmp_path_factory.mktemp("undo") / "crm.db", monkeypatch)
    shutil.copy(_STARTED[0], book.path)  # no -wal left: every session closed
    return book


_EXAMPLES = int(os.environ.get("CRM_UNDO_EXAMPLES", "25"))


@pytest.mark.usefixtures("fast_commits")
@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    derandomize=_EXAMPLES <= 25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_every_sequence_undoes_back_to_each_earlier_state(tmp_path_factory, monkeypatch, steps):
    book = _book(tmp_path_factory, monkeypatch)
    done = []  # (operation, command, state before it, state after it)
    for step in steps:
        before, last = book.state(), book.last_operation()
        args, outcome = book.run(step, _records(before[0]))
        operation = book.last_operation()
        event(f"{_name(step)}: {'nothing to do' if args is None else outcome}")
        if operation == last:  # refused, or changed nothing
            assert book.state() == before, args
            continue
        done.append((operation, args, before, book.state()))
    for operation, args, before, after in reversed(done):
        undo = book.undo(operation, args)
        assert book.state() == before, ("undo", args)
        redo = book.undo(undo, args)  # the undo undone
        assert book.state() == after, ("redo", args)
        book.undo(redo, args)
        assert book.state() == before, ("undo of the redo", args)


@pytest.mark.usefixtures("fast_commits")
@settings(
    max_examples=max(8, _EXAMPLES // 3),
    deadline=None,
    derandomize=_EXAMPLES <= 25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, picks=st.lists(st.integers(0, 30), min_size=1, max_size=6))
def test_any_undo_is_refused_untouched_or_can_itself_be_undone(
    tmp_path_factory, monkeypatch, steps, picks
):
    """Operations undone in any order: each undo is refused with nothing changed, or
    leaves a sound database (db check) and can be undone back to byte for byte."""
    book = _book(tmp_path_factory, monkeypatch)
    for step in steps:
        book.run(step, _records(book.state()[0]))
    for pick in picks:
        with sqlite3.connect(book.path) as conn:
            live = [row[0] for row in conn.execute(
                "SELECT id FROM operations WHERE undone_by IS NULL ORDER BY id")]  # fmt: skip
        operation = live[pick % len(live)]
        before, last = book.state(), book.last_operation()
        result = book("undo", str(operation))
        assert "unexpected" not in result.stderr, result.stderr
        if result.exit_code != 0:
            assert result.exit_code == 1, result.stderr
            assert (book.state(), book.last_operation()) == (before, last)
            continue
        event("undone")
        after = book.state()  # checks the database too
        redo = book.undo(book.last_operation(), "redo")
        assert book.state() == before
        book.undo(redo, "undo of the redo")
        assert book.state() == after
