"""Proof under fire, with the installed crm in subprocesses (issue 6's list)."""

import json
import resource
import sqlite3
import subprocess
import sys

import pytest

from crmcli import db
from crmcli.store import contacts

# One process running crm's command line again and again, as a script calling `crm`
# in a loop does, without paying Python's start-up (~0.13 s of CPU) each time: every
# command still opens the database, takes the write lock and commits on its own.
# Commands are read from argv as JSON; it loops while the file argv[2] is absent.
_LOOP = """
import json, os, sys, typer
from crmcli.cli import app
command = typer.main.get_command(app)
commands, until = json.loads(sys.argv[1]), sys.argv[2]
while True:
    for args in commands:
        code = command.main(args=args, prog_name="crm", standalone_mode=False)
        if code:
            sys.exit(code)
    if not until or os.path.exists(until):
        break
"""


def test_eight_writers_and_two_readers_lose_nothing(run, tmp_path):
    run("account", "new", "Acme")
    done = tmp_path / "writers-done"

    def loop(commands, until=""):
        return subprocess.Popen(
            [sys.executable, "-c", _LOOP, json.dumps(commands), str(until)], env=run.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    writers = [
        loop([["contact", "add", f"W{w} P{i}", "--email", f"w{w}p{i}@x.example", "-q"]
              for i in range(1, 51)])
        for w in range(8)
    ]  # fmt: skip
    readers = [loop([["list", "--format", "ids"]], until=done) for _ in range(2)]
    results = [(proc.wait(timeout=300), proc.stderr.read()) for proc in writers]
    done.touch()
    results += [(proc.wait(timeout=60), proc.stderr.read()) for proc in readers]
    assert all(code == 0 for code, _ in results), [r for r in results if r[0]]
    assert not any("locked" in err for _, err in results)
    assert len(run("list", "--format", "ids").stdout.split()) == 400


def test_eight_processes_adding_one_email_make_one_row(run, installed_crm):
    procs = [
        subprocess.Popen([installed_crm, "contact", "add", f"Twin {i}", "--email",
                          "same@x.example"], env=run.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
        for i in range(8)
    ]  # fmt: skip
    results = sorted((proc.wait(timeout=60), proc.stderr.read()) for proc in procs)
    assert [code for code, _ in results] == [0] + [1] * 7, results
    assert len(json.loads(run("list", "--json").stdout)) == 1


def test_a_full_disk_is_a_clear_error_and_keeps_the_data(run, tmp_path):
    """A file-size limit stands in for a full disk: writes past it fail with EFBIG."""
    path = tmp_path / "crm.db"
    with db.session(path, write=True) as conn:
        for i in range(300):
            contacts.add_contact(conn, full_name=f"Person {i}", emails=[f"p{i}@x.example"])
    size = path.stat().st_size + sum(
        p.stat().st_size for p in tmp_path.glob("crm.db-*")
    )  # fmt: skip

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, size + 4096))

    rows = tmp_path / "many.jsonl"
    rows.write_text("".join(
        json.dumps({"name": f"New {i}", "description": "d" * 200}) + "\n" for i in range(3000)
    ))  # fmt: skip
    result = subprocess.run(
        [run.env["CRM"], "import", str(rows)],
        env={**run.env, "CRM_DB": str(path)}, capture_output=True, text=True,
        preexec_fn=limit, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("SELECT count(*) FROM contacts").fetchone() == (300,)


@pytest.fixture(autouse=True)
def _crm_path(run, installed_crm):
    run.env["CRM"] = installed_crm


def test_a_held_write_lock_makes_a_writer_wait_then_exit_75(run, tmp_path):
    run("account", "new", "First")
    holder = sqlite3.connect(run.env["CRM_DB"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = subprocess.run(
            [run.env["CRM"], "account", "new", "Second"], capture_output=True, text=True,
            env={**run.env, "CRM_LOCK_TIMEOUT": "1"}, timeout=30,
        )  # fmt: skip
    finally:
        holder.execute("ROLLBACK")
    assert result.returncode == 75 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and "retry" in result.stderr
    assert [a["name"] for a in json.loads(run("account", "list", "--json").stdout)] == ["First"]


@pytest.fixture(scope="module")
def big_import(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "200k.jsonl"
    with path.open("w") as file:
        for i in range(200_000):
            file.write(f'{{"name": "P {i}", "emails": ["p{i}@x.example"]}}\n')
    return path


@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.5])
def test_sigkill_mid_import_leaves_all_or_nothing(run, big_import, seconds):
    import signal
    import time

    run("account", "new", "Before")
    proc = subprocess.Popen([run.env["CRM"], "import", str(big_import)], env=run.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    count = len(run("list", "--format", "ids").stdout.split())
    assert count in (0, 200_000)
    assert "database ok" in run("db", "check").stderr
    assert json.loads(run("account", "list", "--json").stdout)[0]["name"] == "Before"


def test_ctrl_c_mid_import_is_exit_130_and_rolls_back(run, big_import):
    import signal
    import time

    proc = subprocess.Popen([run.env["CRM"], "import", str(big_import)], env=run.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and out == ""
    assert err.startswith("Error: interrupted") and "Traceback" not in err
    assert run("list", "--format", "ids").stdout == ""
    assert "database ok" in run("db", "check").stderr


def test_files_crm_must_not_touch_are_refused_byte_for_byte(run, tmp_path, newer_db):
    import hashlib

    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE photos (name)")
    conn.commit()
    conn.close()
    text = tmp_path / "notes.db"
    text.write_text("not a database at all\n" * 100)
    truncated = tmp_path / "truncated.db"
    with db.session(truncated, write=True) as session:
        for i in range(200):
            contacts.add_contact(session, full_name=f"P {i}", emails=[f"p{i}@x.example"])
    truncated.write_bytes(truncated.read_bytes()[:8192])
    for path, reason in ((newer_db, "newer crm"), (foreign, "not a crm database"),
                         (text, "not a crm database"), (truncated, "truncated")):  # fmt: skip
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        for args in (["list"], ["account", "new", "X"], ["db", "check"]):
            result = run("--db", str(path), *args, check=False)
            assert result.returncode == 1 and reason in result.stderr, (path, args, result)
            assert result.stdout == "" and "Traceback" not in result.stderr
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before, path
