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


def test_two_crms_creating_the_same_database_both_succeed(crm, installed_crm, tmp_path):
    path = tmp_path / "fresh" / "crm.db"
    procs = [
        subprocess.Popen(
            [installed_crm, "--db", str(path), "account", "new", f"Account {i}"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    listed = crm.ok("--db", str(path), "list", "accounts", "--format", "ids").stdout.split()
    assert sorted(listed) == ["1", "2", "3"]


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


def test_a_read_only_database_can_be_read_but_not_written(as_nobody, crm):
    folder = as_nobody.shared / "db"
    folder.mkdir()
    path = folder / "crm.db"
    crm.ok("--db", str(path), "demo")
    path.chmod(0o644)
    folder.chmod(0o755)  # neither the file nor its folder writable by nobody
    expected = crm.ok("--db", str(path), "list", "accounts", "--json").stdout
    open_folder = as_nobody.shared / "open"  # the file read-only, its folder open to all
    open_folder.mkdir(mode=0o777)
    open_folder.chmod(0o777)
    (open_folder / "crm.db").write_bytes(path.read_bytes())
    (open_folder / "crm.db").chmod(0o444)
    reads = [
        ["search", "acme"],
        ["export"],
        ["db", "check"],
        ["db", "info"],
        ["history"],
        ["db", "backup", str(as_nobody.out / "copy.db")],
    ]
    for where, commands, writes in (
        (path, reads, [["account", "new", "X"], ["undo"]]),
        (open_folder / "crm.db", reads[:2], [["import", "-", "-f", "json"]]),
    ):
        for args in commands:
            result = as_nobody("--db", str(where), *args)
            assert result.returncode == 0, (where, args, result.stderr)
            assert _sides(where) == [], (where, args)
        assert as_nobody("--db", str(where), "list", "accounts", "--json").stdout == expected
        for args in writes:
            result = as_nobody("--db", str(where), *args)
            assert result.returncode == 1 and "read-only" in result.stderr, (args, result.stderr)
            assert result.stdout == "" and _sides(where) == []
    crm.ok("--db", str(open_folder / "crm.db"), "account", "new", "Later")  # the owner still can


def _shared_database(as_nobody) -> Path:
    """An empty database user nobody may read but not write (file 0644)."""
    folder = as_nobody.shared / "db"
    folder.mkdir()
    path = folder / "crm.db"
    db.create(path)
    path.chmod(0o644)
    return path


def test_a_read_only_database_in_use_is_read_through_its_wal(as_nobody):
    path = _shared_database(as_nobody)
    folder = path.parent
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


# The owner's last connection removes its -wal and -shm right after this reader saw them.
VANISHING_SIDES = """
import os.path, sys
from pathlib import Path
from crmcli import db
real, seen = os.path.lexists, []
def lexists(path):
    seen.append(path)
    return len(seen) == 1 and str(path).endswith("-wal") or real(path)
os.path.lexists = lexists
with db.session(Path(sys.argv[1]), write=False) as conn:
    print(conn.execute("SELECT count(*) FROM accounts").fetchone()[0])
"""


def test_lock_files_gone_before_a_read_only_reader_opens_them_are_looked_for_again(as_nobody):
    import sys

    path = _shared_database(as_nobody)
    path.parent.chmod(0o755)  # SQLite cannot make a -shm here as nobody
    command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    result = subprocess.run(
        [*command, sys.executable, "-c", VANISHING_SIDES, str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "0\n"), result.stderr
    assert _sides(path) == []


# -- export -o and db backup: never over the database, through links, into FIFOs -------
def test_export_and_backup_refuse_the_database_under_any_name(crm, db_path, tmp_path):
    crm.ok("account", "new", "Acme")
    (tmp_path / "hard.db").hardlink_to(db_path)
    (tmp_path / "sym.db").symlink_to(db_path)
    (tmp_path / "sub").mkdir()
    before = db_path.read_bytes()
    names = ["crm.db", "hard.db", "sym.db", "sub/../crm.db"]
    names += ["crm.db-wal", "crm.db-shm", "crm.db-journal"]  # SQLite's files beside it
    holder = sqlite3.connect(db_path, isolation_level=None)  # keeps a -wal and -shm in use
    holder.execute("PRAGMA wal_autocheckpoint = 0")
    holder.execute("UPDATE accounts SET city = 'Springfield'")
    sides = {side: os.stat(tmp_path / f"crm.db{side}") for side in ("-wal", "-shm")}
    wal = (tmp_path / "crm.db-wal").read_bytes()
    assert wal
    try:
        for name in names:
            for args in (["export", "-o"], ["export", "-f", "csv", "-o"], ["db", "backup"]):
                result = crm.fails(1, *args, str(tmp_path / name))
                assert "is the database itself" in result.stderr, (name, args)
        for side, was in sides.items():  # the same files, the -wal's change still in it
            assert os.path.samestat(os.stat(tmp_path / f"crm.db{side}"), was), side
        assert (tmp_path / "crm.db-wal").read_bytes() == wal and db_path.read_bytes() == before
        assert not (tmp_path / "crm.db-journal").exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    finally:
        holder.close()
    assert (tmp_path / "sym.db").is_symlink()
    assert [(a["name"], a["city"]) for a in crm.json("list", "accounts")] == [
        ("Acme", "Springfield")
    ]
    other = tmp_path / "other.db"  # and the database named through a link is found too
    other.symlink_to(db_path)
    assert "is the database itself" in crm.fails(1, "--db", str(other), "export", "-o",
                                                 str(db_path)).stderr  # fmt: skip


def _other_file_system(tmp_path):
    """A folder on another file system than tmp_path (a tmpfs at /dev/shm), if any."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and os.stat(shm).st_dev != tmp_path.stat().st_dev:
        import tempfile

        return Path(tempfile.mkdtemp(dir=shm, prefix="crm-test-"))
    folder = tmp_path / "same-fs"
    folder.mkdir()
    return folder


def test_export_through_a_symlink_replaces_its_target_on_any_file_system(crm, tmp_path):
    import json
    import shutil

    crm.ok("account", "new", "Acme")
    elsewhere = _other_file_system(tmp_path)
    try:
        target = elsewhere / "backup.json"
        target.write_text("old\n")
        link = tmp_path / "backup.json"
        link.symlink_to(target)
        assert "exported 1 record" in crm.ok("export", "-o", str(link)).stderr
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert json.loads(target.read_text())["accounts"][0]["name"] == "Acme"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        dangling = tmp_path / "new.json"  # a link to a file not there yet makes it
        dangling.symlink_to(elsewhere / "new.json")
        crm.ok("export", "-o", str(dangling))
        assert dangling.is_symlink() and (elsewhere / "new.json").stat().st_size > 0
        assert not [p for p in (*elsewhere.iterdir(), *tmp_path.iterdir()) if p.suffix == ".part"]
    finally:
        shutil.rmtree(elsewhere)


def test_export_writes_straight_into_a_fifo_and_a_device(crm, tmp_path):
    import threading

    crm.ok("account", "new", "Acme")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    crm.ok("export", "-f", "csv", "--kind", "accounts", "-o", str(fifo))
    reader.join(timeout=30)
    assert received and received[0].splitlines()[1].startswith("1,Acme,")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    if os.geteuid() == 0:  # our own null device (never the system's)
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        crm.ok("export", "-o", str(device))
        assert stat.S_ISCHR(device.lstat().st_mode)
    (tmp_path / "folder").mkdir()
    assert "is a folder" in crm.fails(1, "export", "-o", str(tmp_path / "folder")).stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.fixture(scope="module")
def big_book(tmp_path_factory, installed_crm):
    """10,000 contacts: an export of them takes long enough to be stopped mid-way."""
    import json

    folder = tmp_path_factory.mktemp("big")
    people = [{"name": f"Person {i}", "email": f"p{i}@x.example"} for i in range(10_000)]
    (folder / "people.json").write_text(json.dumps(people))
    path = folder / "crm.db"
    subprocess.run(
        [installed_crm, "--db", str(path), "import", str(folder / "people.json"), "-k", "contacts"],
        check=True,
        capture_output=True,
    )
    return path


@pytest.mark.parametrize("signum, code", [("SIGTERM", -15), ("SIGINT", 130), ("SIGHUP", -1)])
def test_a_signal_during_export_removes_the_temporary_file(big_book, installed_crm, tmp_path,
                                                           signum, code):  # fmt: skip
    import signal
    import time

    out = tmp_path / "out"
    out.mkdir()
    (out / "backup.json").write_text("the previous backup\n")
    proc = subprocess.Popen(
        [installed_crm, "--db", str(big_book), "export", "-o", str(out / "backup.json")],
        stderr=subprocess.PIPE,
        text=True,
    )
    # Held (stopped) each time the folder is looked at, so a .part file seen is one
    # the export has not finished with: on a loaded machine it could otherwise end
    # between being seen and being stopped, and rename its file in place.
    deadline = time.monotonic() + 30
    while True:
        proc.send_signal(signal.SIGSTOP)
        _, status = os.waitpid(proc.pid, os.WUNTRACED)  # returns once it is stopped
        assert os.WIFSTOPPED(status), "it ended before a .part file was seen"
        if any(p.suffix == ".part" for p in out.iterdir()):
            break
        assert time.monotonic() < deadline, "no .part file seen"
        proc.send_signal(signal.SIGCONT)
        time.sleep(0.001)
    proc.send_signal(getattr(signal, signum))  # signalled mid-export
    proc.send_signal(signal.SIGCONT)
    assert proc.wait(timeout=30) == code, proc.stderr.read()
    assert sorted(p.name for p in out.iterdir()) == ["backup.json"]
    assert (out / "backup.json").read_text() == "the previous backup\n"


def test_sigterm_during_a_first_import_leaves_no_file(big_book, tmp_path, installed_crm):
    import signal
    import time

    folder = tmp_path / "new"
    proc = subprocess.Popen(
        [installed_crm, "--db", str(folder / "crm.db"), "import",
         str(big_book.parent / "people.json"), "-k", "contacts"],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (folder.exists() and any(p.suffix == ".new" for p in folder.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, "no .new file seen"
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM, proc.stderr.read()
    assert not folder.exists()


# -- what --db may be -------------------------------------------------------------------
def test_an_empty_db_option_is_a_usage_error(crm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["list"], ["account", "new", "X"], ["demo"], ["db", "info"]):
        assert "--db needs a path" in crm.fails(2, "--db", "", *args).stderr, args
    assert list(tmp_path.iterdir()) == []  # no crm-demo.db, no CRM_DB database
    # An empty CRM_DB is unset, as shells mean it: the default database is used.
    monkeypatch.setenv("CRM_DB", "")
    default = tmp_path / "home" / "data" / "crmcli" / "crm.db"
    assert crm.json("db", "info")["path"] == str(default)


def test_commands_on_an_existing_database_do_not_import_the_file_helpers(crm, db_path):
    """crmcli.files (signals, temporary files) is for making files: not start-up's cost."""
    import sys

    crm.ok("account", "new", "Acme")
    code = (
        "import sys\nfrom crmcli.cli import main\n"
        "for args in (['list', 'accounts'], ['account', 'new', 'Globex']):\n"
        f"    sys.argv = ['crm', '--db', {str(db_path)!r}, *args]\n"
        "    assert main() == 0\n"
        "print('crmcli.files' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.splitlines()[-1] == "False", result.stderr


# -- creating: one database at a time, not one folder -----------------------------------
def test_creating_a_database_waits_only_for_crms_creating_the_same_one(crm, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    quick = {"CRM_LOCK_TIMEOUT": "0.2"}
    with db._creating(folder / "a.db") as new:  # another crm is creating a.db
        assert new is not None
        crm.ok("--db", str(folder / "b.db"), "account", "new", "B", env=quick)
        result = crm.fails(75, "--db", str(folder / "a.db"), "account", "new", "A", env=quick)
        assert "kept creating the database" in result.stderr
    crm.ok("--db", str(folder / "a.db"), "account", "new", "A", env=quick)
    assert sorted(os.listdir(folder)) == ["a.db", "b.db"]  # no lock file left behind


@pytest.mark.parametrize("what", ["FIFO", "file with text", "symlink"])
def test_a_lock_file_crm_did_not_make_is_refused_and_left_alone(installed_crm, tmp_path, what):
    lock = tmp_path / ".a.db.lock"
    target = tmp_path / "elsewhere" / "target"
    if what == "FIFO":
        os.mkfifo(lock)  # opening it to read would wait for a writer forever
    elif what == "file with text":
        lock.write_text("the user's own notes\n")
    else:
        target.parent.mkdir()
        lock.symlink_to(target)
    before = os.lstat(lock)
    result = subprocess.run(  # in a subprocess: a crm that hangs is stopped
        [installed_crm, "--db", str(tmp_path / "a.db"), "account", "new", "A"],
        capture_output=True, text=True, timeout=10, env={**os.environ, "CRM_LOCK_TIMEOUT": "1"},
    )  # fmt: skip
    assert result.returncode == 1 and result.stdout == "", result
    message = f"Error: {lock} is not crm's lock file; remove it or choose another --db\n"
    assert result.stderr == message
    assert os.path.samestat(os.lstat(lock), before) and not os.path.lexists(target)
    if what == "file with text":
        assert lock.read_text() == "the user's own notes\n"
    assert not os.path.lexists(tmp_path / "a.db")


# -- export -o: /dev/stdout and /dev/fd/N are pipes; nothing fails 'unexpected' ---------
def test_export_into_dev_stdout_and_dev_fd_of_a_pipe(installed_crm, crm, db_path):
    crm.ok("account", "new", "Acme")
    env = {**os.environ, "CRM_DB": str(db_path)}
    args = [installed_crm, "export", "-f", "csv", "-k", "accounts", "-o"]
    piped = subprocess.run([*args, "/dev/stdout"], capture_output=True, text=True, env=env)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.splitlines()[1].startswith("1,Acme,")
    read, write = os.pipe()
    with open(read, encoding="utf-8") as reader:
        proc = subprocess.Popen([*args, f"/dev/fd/{write}"], pass_fds=[write], env=env,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        os.close(write)
        received = reader.read()
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert received.splitlines()[1].startswith("1,Acme,")


def _full_device(tmp_path):
    """A device every write to fails with ENOSPC: our own node of /dev/full as root."""
    if os.geteuid() == 0:
        path = tmp_path / "full"
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        return path
    return Path("/dev/full")


def test_a_full_stdout_or_device_is_a_clear_error(installed_crm, crm, db_path, tmp_path):
    crm.ok("demo")
    env = {**os.environ, "CRM_DB": str(db_path)}
    device = _full_device(tmp_path)
    for args in (["list"], ["list", "-f", "json"], ["export"], ["contact", "show", "1"],
                 ["--version"], ["-h"], ["account", "-h"]):  # click's own writes too
        with open(device, "w") as full:
            result = subprocess.run([installed_crm, *args], stdout=full, stderr=subprocess.PIPE,
                                    text=True, env=env, timeout=60)  # fmt: skip
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr == "Error: cannot write the output: No space left on device\n", args
    with open(device, "w") as full:  # a write whose output is lost says it was saved
        result = subprocess.run([installed_crm, "account", "new", "Zed", "-q"], stdout=full,
                                stderr=subprocess.PIPE, text=True, env=env, timeout=60)  # fmt: skip
    assert result.returncode == 1 and "the change itself was saved" in result.stderr
    assert crm.json("account", "show", "Zed")["name"] == "Zed"
    result = crm.fails(1, "export", "-o", str(device))
    assert f"cannot write {device}: No space left on device" in result.stderr
    assert stat.S_ISCHR(device.lstat().st_mode)


def _small_files(limit):
    """For a subprocess: files it writes may not grow past `limit` bytes (EFBIG)."""
    import resource
    import signal

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def test_a_file_that_cannot_grow_is_a_clear_error_and_leaves_nothing(big_book, installed_crm,
                                                                      tmp_path):  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    (out / "backup.json").write_text("the previous backup\n")
    env = {**os.environ, "CRM_DB": str(big_book)}
    for args, message in (
        (["export", "-o", str(out / "backup.json")], f"cannot write {out / 'backup.json'}: "),
        (["db", "backup", str(out / "copy.db")], f"cannot write {out / 'copy.db'}: "),
    ):
        result = subprocess.run([installed_crm, *args], capture_output=True, text=True, env=env,
                                preexec_fn=_small_files(64 * 1024), timeout=60)  # fmt: skip
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("Error: " + message), result.stderr
        assert "unexpected" not in result.stderr and str(big_book) not in result.stderr
        assert sorted(p.name for p in out.iterdir()) == ["backup.json"]
    assert (out / "backup.json").read_text() == "the previous backup\n"


def test_a_full_disk_is_named_as_the_disk_of_the_file_written(big_book, installed_crm,
                                                               tmp_path):  # fmt: skip
    """A 64 kB tmpfs, mounted in a mount namespace of its own (gone with the process)."""
    import shutil

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to mount a small file system")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a mount namespace here")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = 'mount -t tmpfs -o size=64k tmpfs "$1" || exit 99; d=$1; shift; "$@"; c=$?;'
    script += ' ls -A "$d"; exit $c'
    for args, message in (
        (["db", "backup", str(disk / "copy.db")], f"the disk holding {disk / 'copy.db'} is full"),
        (["export", "-o", str(disk / "out.json")], f"cannot write {disk / 'out.json'}: No space"),
    ):
        result = subprocess.run(
            ["unshare", "-m", "sh", "-c", script, "sh", str(disk), installed_crm,
             "--db", str(big_book), *args],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if result.returncode == 99:
            pytest.skip(f"cannot mount a tmpfs: {result.stderr}")
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith("Error: " + message), result.stderr
        assert result.stdout == "", result.stdout  # nothing left on the full disk


def test_replacing_a_file_this_user_may_not_rename_over_is_a_clear_error(as_nobody, crm):
    folder = as_nobody.shared / "db"
    folder.mkdir()
    crm.ok("--db", str(folder / "crm.db"), "account", "new", "Acme")
    (folder / "crm.db").chmod(0o644)
    sticky = as_nobody.out / "sticky"  # like /tmp: anyone may add files, not replace others'
    sticky.mkdir()
    sticky.chmod(0o1777)
    theirs = sticky / "export.json"
    theirs.write_text("root's file\n")
    theirs.chmod(0o666)
    result = as_nobody("--db", str(folder / "crm.db"), "export", "-o", str(theirs))
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"Error: cannot replace {theirs}: Operation not permitted;" \
                            " it was left as it was\n"  # fmt: skip
    assert theirs.read_text() == "root's file\n" and os.listdir(sticky) == ["export.json"]


# -- a reader that cannot lock the database (immutable) and a writer at the same time --
@pytest.fixture
def locked_out(monkeypatch, tmp_path):
    """A database of 3,000 accounts that this process reads as a user who may not write
    it (and so reads it as immutable, taking no locks); `write` changes it meanwhile."""
    path = tmp_path / "crm.db"
    db.create(path)
    with db.session(path, write=True) as conn:
        conn.executemany(
            "INSERT INTO accounts (name, name_key, created_at, updated_at)"
            " VALUES (?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [(f"Account {i} {'x' * 100}", f"account {i}") for i in range(3000)],
        )
    monkeypatch.setattr(db, "_writable", lambda path: False)

    def write(sql="DELETE FROM accounts WHERE id % 2 = 0", vacuum=True):
        other = sqlite3.connect(path)  # the owner, taking SQLite's locks
        other.execute(sql)
        other.commit()
        if vacuum:
            other.execute("VACUUM")
        other.close()
        assert _sides(path) == []  # nothing left that tells a later reader it changed

    write.path = path
    return write


def test_a_change_under_an_immutable_read_is_refused_not_taken_as_corrupt(locked_out):
    from crmcli.errors import Locked

    with db.session(locked_out.path, write=False) as conn:  # nothing changes: fine
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 3000
    with pytest.raises(Locked, match="changed while it was read") as caught:
        with db.session(locked_out.path, write=False) as conn:
            rows = conn.execute("SELECT name FROM accounts ORDER BY id")
            rows.fetchmany(10)
            locked_out()  # half the rows deleted, the file rewritten: pages moved
            rows.fetchall()  # SQLite: "database disk image is malformed"
    assert isinstance(caught.value.__context__, sqlite3.DatabaseError)
    with pytest.raises(Locked, match="run the command again"):  # a read that looks fine
        with db.session(locked_out.path, write=False) as conn:
            conn.execute("SELECT count(*) FROM accounts").fetchone()
            locked_out("UPDATE accounts SET city = 'x' WHERE id = 1", vacuum=False)
            conn.execute("SELECT count(*) FROM accounts").fetchone()


def test_export_of_a_database_changed_while_read_keeps_the_old_file(locked_out, crm, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    from crmcli import export

    original = export.write_json

    def meanwhile(*args):
        count = original(*args)
        locked_out("UPDATE accounts SET city = 'x' WHERE id = 1", vacuum=False)
        return count

    monkeypatch.setattr(export, "write_json", meanwhile)
    out = tmp_path / "backup.json"
    out.write_text("the previous backup\n")
    result = crm.fails(75, "--db", str(locked_out.path), "export", "-o", str(out))
    assert "changed while it was read" in result.stderr
    assert out.read_text() == "the previous backup\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_backup_of_a_database_changed_while_read_is_not_made(locked_out, crm, tmp_path,
                                                               monkeypatch):  # fmt: skip
    from crmcli.store import care

    original = care._integrity

    def meanwhile(copy):  # the copy is made; the database changes before it is checked
        locked_out("UPDATE accounts SET city = 'x' WHERE id = 1", vacuum=False)
        return original(copy)

    monkeypatch.setattr(care, "_integrity", meanwhile)
    result = crm.fails(75, "--db", str(locked_out.path), "db", "backup", str(tmp_path / "b.db"))
    assert "changed while it was read" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db"]


def test_lock_files_appearing_under_an_immutable_read_are_no_change(locked_out):
    # The owner's every connection makes -wal and -shm, a read too; an immutable read
    # reads only the file itself, which neither a read nor a write still in the -wal
    # changes: what it read is one state, and the session ends with them still there.
    other = sqlite3.connect(locked_out.path, isolation_level=None)  # the owner
    try:
        with db.session(locked_out.path, write=False) as conn:
            rows = conn.execute("SELECT id FROM accounts ORDER BY id")
            rows.fetchmany(10)
            assert other.execute("SELECT count(*) FROM accounts").fetchone()[0] == 3000
            assert _sides(locked_out.path) == ["-wal", "-shm"]
            other.execute("PRAGMA wal_autocheckpoint = 0")
            other.execute("DELETE FROM accounts WHERE id % 2 = 0")  # kept in the -wal
            assert len(rows.fetchall()) == 2990
            assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 3000
    finally:
        other.close()


def test_a_signal_that_escaped_every_with_still_ends_the_process_by_it(tmp_path):
    """SIGTERM landing between a `with`'s __enter__ and its block reaches the top as
    Terminated: the process still ends by the signal, without a traceback."""
    import sys

    code = (
        "import sys\n"
        "from crmcli import cli, errors\n"
        "def stopped():\n"
        "    raise errors.Terminated(15)\n"
        "sys.exit(cli._run(stopped, debug=False))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == -15 and "Traceback" not in done.stderr, done.stderr
