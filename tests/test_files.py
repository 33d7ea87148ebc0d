"""The files around the database: what --db may name, what crm creates, and when."""

import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from crmcli import db
from crmcli.errors import DatabaseRefused

# Write commands with input that cannot write anything (a reference to nothing, a rejected
# or dry-run import, nothing to undo or prune): on a missing database none may create it.
NOTHING_WRITTEN = [
    ("account", "new", "Acme", "--parent", "nope"),
    ("account", "edit", "nope", "--city", "x"),
    ("account", "delete", "nope", "--yes"),
    ("account", "merge", "a", "b", "--yes"),
    ("contact", "add", "Jane", "--account", "nope"),
    ("contact", "edit", "nope", "--title", "x"),
    ("contact", "delete", "nope", "--yes"),
    ("contact", "merge", "a", "b", "--yes"),
    ("deal", "new", "D", "--account", "nope"),
    ("deal", "edit", "nope", "--amount", "5"),
    ("deal", "move", "nope", "won"),
    ("deal", "delete", "nope", "--yes"),
    ("log", "x", "--contact", "nope"),
    ("note", "x", "--deal", "nope"),
    ("activity", "edit", "1", "--subject", "x"),
    ("activity", "delete", "1", "--yes"),
    ("task", "add", "T", "--deal", "nope"),
    ("task", "done", "1"),
    ("task", "reopen", "1"),
    ("task", "edit", "1", "--title", "x"),
    ("task", "delete", "1", "--yes"),
    ("import", "{bad}"),
    ("import", "{good}", "--dry-run"),
    ("undo",),
    ("undo", "5"),
    ("history", "prune", "--before", "2020-01-01"),
]


def test_commands_that_write_nothing_create_no_file_and_no_folder(crm, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("name,email\nJane Doe,jane@acme.example\n")
    bad.write_text("name,email\nJane Doe,not-an-address\n")
    folder = tmp_path / "new" / "deeper"
    for args in NOTHING_WRITTEN:
        args = [arg.format(good=good, bad=bad) for arg in args]
        result = crm("--db", str(folder / "crm.db"), *args)
        assert result.exit_code != 0 or args[-1] in ("--dry-run", "2020-01-01"), args
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, args
        assert not (tmp_path / "new").exists(), args
    crm.ok("--db", str(folder / "crm.db"), "import", str(good))  # one that writes: it is made
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "crm.db").stat().st_mode) == 0o600
    assert sorted(os.listdir(folder)) == ["crm.db"]  # no temporary file left beside it


def test_two_crms_creating_the_same_database_both_succeed(run, installed_crm, tmp_path):
    path = tmp_path / "fresh" / "crm.db"
    procs = [
        subprocess.Popen(
            [installed_crm, "--db", str(path), "account", "new", f"Account {i}"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    listed = run("--db", str(path), "list", "accounts", "--format", "ids").stdout.split()
    assert sorted(listed) == ["1", "2", "3", "4"]


def test_a_dangling_symlink_as_db_creates_its_target_private(crm, tmp_path):
    link = tmp_path / "crm.db"
    link.unlink(missing_ok=True)
    target = tmp_path / "elsewhere" / "real.db"
    link.symlink_to(target)
    old = os.umask(0o022)
    try:
        crm.ok("--db", str(link), "account", "new", "Acme")
        crm.ok("--db", str(link), "account", "new", "Globex")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert link.is_symlink() and os.path.samefile(link, target)
        with db.session(link, write=True):  # its -wal and -shm while in use
            for side in ("-wal", "-shm"):
                assert stat.S_IMODE(os.stat(f"{target}{side}").st_mode) == 0o600, side
    finally:
        os.umask(old)
    assert [a["name"] for a in crm.json("--db", str(target), "list", "accounts")] == [
        "Acme",
        "Globex",
    ]


@pytest.mark.parametrize("what", ["folder", "FIFO", "character device", "socket"])
def test_anything_but_a_file_as_db_is_refused_at_once(crm, run, tmp_path, what):
    import socket

    path = tmp_path / "odd"
    if what == "folder":
        path.mkdir()
    elif what == "FIFO":
        os.mkfifo(path)
    elif what == "character device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # our own /dev/null
        except PermissionError:
            pytest.skip("making a device node needs root")
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    link = tmp_path / "link.db"
    link.symlink_to(path)
    if what == "FIFO":  # opening it would wait forever: in a subprocess, with a timeout
        result = run("--db", str(path), "list", check=False)
        assert result.returncode == 1 and "is a FIFO" in result.stderr, result
    for name in (path, link):
        for args in (["list"], ["account", "new", "X"], ["db", "backup", str(tmp_path / "b")]):
            assert f"is a {what}" in crm.fails(1, "--db", str(name), *args).stderr
    assert stat.S_IFMT(path.lstat().st_mode) == stat.S_IFMT(os.stat(path).st_mode)


def test_a_path_under_a_file_is_refused(crm, tmp_path):
    (tmp_path / "plain").write_text("x")
    result = crm.fails(1, "--db", str(tmp_path / "plain" / "crm.db"), "account", "new", "X")
    assert "cannot use the database path" in result.stderr


def test_create_makes_an_empty_database_once(tmp_path):
    path = tmp_path / "a" / "crm.db"
    db.create(path)
    db.create(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == db.APPLICATION_ID
    with pytest.raises(DatabaseRefused, match="is a folder"):
        db.create(tmp_path / "a")


@pytest.fixture
def as_nobody(installed_crm, tmp_path_factory):
    """Run crm as user nobody (root ignores permissions) in a folder nobody may enter."""
    import shutil
    import tempfile

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run crm as another user")
    shared = Path(tempfile.mkdtemp(prefix="crm-ro-"))
    shared.chmod(0o755)
    out = shared / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "XDG_"))}
    env.update(HOME=str(out), CRM_CONFIG=str(out / "config.toml"))

    def run(*args):
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        return subprocess.run(
            [*command, installed_crm, *args], capture_output=True, text=True, env=env, timeout=60
        )

    run.shared, run.out = shared, out
    yield run
    shutil.rmtree(shared)


def _sides(path):
    return [side for side in ("-wal", "-shm") if os.path.lexists(f"{path}{side}")]


def test_a_read_only_database_can_be_read_but_not_written(as_nobody, run):
    folder = as_nobody.shared / "db"
    folder.mkdir()
    path = folder / "crm.db"
    run("--db", str(path), "demo")
    path.chmod(0o644)
    folder.chmod(0o755)  # neither the file nor its folder writable by nobody
    expected = run("--db", str(path), "list", "accounts", "--json").stdout
    writable_folder = as_nobody.shared / "open"  # the file read-only, its folder open to all
    writable_folder.mkdir(mode=0o777)
    writable_folder.chmod(0o777)
    (writable_folder / "crm.db").write_bytes(path.read_bytes())
    (writable_folder / "crm.db").chmod(0o444)
    for where in (path, writable_folder / "crm.db"):
        for args in (
            ["list", "accounts", "--json"],
            ["search", "acme"],
            ["export"],
            ["db", "check"],
            ["db", "info"],
            ["history"],
            ["db", "backup", str(as_nobody.out / f"copy-{where.parent.name}.db")],
        ):
            result = as_nobody("--db", str(where), *args)
            assert result.returncode == 0, (where, args, result.stderr)
            assert _sides(where) == [], (where, args)
        assert as_nobody("--db", str(where), "list", "accounts", "--json").stdout == expected
        for args in (["account", "new", "X"], ["undo"], ["import", "-", "-f", "json"]):
            result = as_nobody("--db", str(where), *args)
            assert result.returncode == 1 and "read-only" in result.stderr, (args, result.stderr)
            assert result.stdout == "" and _sides(where) == []
    run("--db", str(writable_folder / "crm.db"), "account", "new", "Later")  # the owner still can


def test_a_read_only_database_in_use_is_read_through_its_wal(as_nobody):
    folder = as_nobody.shared / "db"
    folder.mkdir()
    path = folder / "crm.db"
    db.create(path)
    path.chmod(0o644)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # the change stays in the -wal
    writer.execute(
        "INSERT INTO accounts (name, name_key, created_at, updated_at)"
        " VALUES ('Acme', 'acme', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    try:
        assert os.path.getsize(f"{path}-wal") > 0
        os.chmod(f"{path}-shm", 0o644)
        folder.chmod(0o755)
        result = as_nobody("--db", str(path), "list", "accounts", "--format", "csv")
        assert result.returncode == 0, result.stderr
        assert "Acme" in result.stdout
    finally:
        writer.close()
