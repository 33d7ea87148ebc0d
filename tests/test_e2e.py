"""The installed `crm`, run in subprocesses the way scripts run it."""

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time

from crmcli import db
from crmcli.store import contacts


def test_script_style_round_trip(run):
    account_id = run("account", "new", "Acme", "-q").stdout.strip()
    run("contact", "add", "Jane Doe", "--account", account_id, "--email", "jane@acme.example")
    listed = json.loads(run("list", "--format", "json").stdout)
    assert [(c["name"], c["account"]) for c in listed] == [("Jane Doe", "Acme")]
    failed = run("contact", "show", "nobody", check=False)
    assert failed.returncode == 3 and failed.stdout == ""
    assert failed.stderr.startswith("Error: ") and "Traceback" not in failed.stderr


def test_python_dash_m_is_the_same_program(run, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "crmcli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("crm ")


def test_demo_writes_crm_demo_db_in_the_current_folder(run, tmp_path):
    env = {k: v for k, v in run.env.items() if k != "CRM_DB"}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / "data")
    folder = tmp_path / "here"
    folder.mkdir()
    result = run("demo", cwd=folder, env=env)
    assert "Acme Corporation" in result.stdout and "Explore it" in result.stderr
    assert (folder / "crm-demo.db").exists() and not (tmp_path / "home").exists()
    again = run("demo", cwd=folder, env=env, check=False)
    assert again.returncode == 1 and "already holds records" in again.stderr


def test_processes_adding_at_the_same_moment_all_succeed(run, installed_crm):
    run("account", "new", "Acme")  # the file exists; the race is over the write lock
    procs = [
        subprocess.Popen(
            [installed_crm, "contact", "add", f"Person {i}", "--email", f"p{i}@acme.example"],
            env=run.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    assert not any("locked" in err for _, err in results)
    assert len(json.loads(run("list", "--json").stdout)) == 6


def test_same_email_from_several_processes_lands_once(run, installed_crm):
    procs = [
        subprocess.Popen(
            [installed_crm, "contact", "add", f"Twin {i}", "--email", "twin@acme.example"],
            env=run.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    codes = sorted(p.wait(timeout=60) for p in procs)
    assert codes == [0, 1, 1, 1]
    assert len(json.loads(run("list", "--json").stdout)) == 1


def test_foreign_sqlite_file_is_left_byte_for_byte(run, tmp_path):
    path = tmp_path / "photos.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE photos (name TEXT)")
    other.execute("INSERT INTO photos VALUES ('cat.jpg')")
    other.commit()
    other.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for args in (["list"], ["account", "new", "X"], ["demo"]):
        result = run("--db", str(path), *args, check=False)
        assert result.returncode == 1 and "not a crm database" in result.stderr
        assert result.stdout == ""
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("photos")) == [
        "photos.db"
    ]


def test_closed_pipe_ends_quietly(run, tmp_path, installed_crm):
    with db.session(tmp_path / "crm.db", write=True) as conn:
        for i in range(2000):
            contacts.add_contact(conn, full_name=f"Person {i:04}", emails=[f"p{i}@x.example"])
    result = subprocess.run(
        f"'{installed_crm}' list --format jsonl | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=run.env,
        timeout=60,
    )
    assert json.loads(result.stdout)["name"] == "Person 0000"
    assert result.stderr == ""


def test_ctrl_c_while_waiting_for_the_lock(run, tmp_path, installed_crm):
    run("account", "new", "First")
    holder = sqlite3.connect(tmp_path / "crm.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        proc = subprocess.Popen(
            [installed_crm, "account", "new", "Second"],
            env=run.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)  # started, and queued for the lock
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        out, err = proc.communicate()
    finally:
        holder.execute("ROLLBACK")
    assert code == 130 and out == ""
    assert err.startswith("Error: interrupted") and "Traceback" not in err
    assert [a["name"] for a in json.loads(run("account", "list", "--json").stdout)] == ["First"]


def test_a_deal_from_lead_to_won_as_a_script_does_it(run):
    run("account", "new", "Acme")
    run(
        "contact",
        "add",
        "Jane Doe",
        "--account",
        "Acme",
        "--email",
        "jane@acme.example",
        "--every",
        "2w",
    )
    deal = run("deal", "new", "Skates", "--account", "Acme", "--amount", "0.1", "-q").stdout
    run("log", "-", "--kind", "email", "--deal", deal.strip(), input="Quote sent\n")
    for stage in ("qualified", "proposal", "negotiation", "won"):
        run("deal", "move", "Skates", stage)
    shown = json.loads(run("deal", "show", "Skates", "--json").stdout)
    assert (shown["status"], shown["probability"], shown["amount"]) == ("won", 100, 0.1)
    assert [a["body"] for a in shown["activities"]] == ["Quote sent"]  # echo's line end dropped
    due = json.loads(run("due", "--json").stdout)
    assert [c["email"] for c in due["contacts"]] == ["jane@acme.example"]  # never called
