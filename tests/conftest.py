"""Every test gets its own database, and none can reach a real one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmcli import config, db
from crmcli.cli import app


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """CRM_DB in tmp_path; HOME and XDG folders moved too, in case a default is used."""
    monkeypatch.setenv("CRM_DB", str(tmp_path / "crm.db"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("COLUMNS", "120")
    config.load.cache_clear()
    monkeypatch.delenv("CRM_DEBUG", raising=False)
    monkeypatch.delenv("CRM_LOCK_TIMEOUT", raising=False)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "crm.db"


@pytest.fixture
def newer_db(tmp_path) -> Path:
    """A crm database written by a newer crm (schema version one past ours)."""
    from crmcli.migrations import SCHEMA_VERSION

    path = tmp_path / "newer.db"
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA application_id = {db.APPLICATION_ID}")
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.execute("CREATE TABLE future (x)")
    newer.commit()
    newer.close()
    return path


@pytest.fixture
def conn(db_path):
    """A write session on a fresh database, committed when the test ends."""
    db.create(db_path)  # on disk from the start, for tests that open it beside the session
    with db.session(db_path, write=True) as connection:
        yield connection


class Crm:
    """Run `crm ARGS...` in-process; returns the CliRunner result."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        return self.runner.invoke(app, list(args), input=input, env=env)

    def ok(self, *args: str, **kwargs):
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, **kwargs):
        return json.loads(self.ok(*args, "--json", **kwargs).stdout)

    def new_id(self, *args: str) -> int:
        return int(self.ok(*args, "-q").stdout)

    def fails(self, code: int, *args: str, **kwargs):
        """Run a command that must fail with `code`: stdout empty, one clear error."""
        result = self(*args, **kwargs)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        assert result.stdout == ""
        assert result.stderr.startswith("Error: "), result.stderr
        assert "Traceback" not in result.stderr
        return result


@pytest.fixture
def crm() -> Crm:
    return Crm()


@pytest.fixture(scope="session")
def installed_crm() -> str:
    """The console script of the environment running the tests.

    The suite starts it a few dozen times. crmcli is compiled once first: an editable
    install under PYTHONDONTWRITEBYTECODE (set on this machine) would otherwise
    compile it from source in every process.
    """
    import compileall

    import crmcli

    path = Path(sys.executable).parent / "crm"
    if not path.exists():
        pytest.fail(f"the crm command is not installed next to {sys.executable}")
    compileall.compile_dir(Path(crmcli.__file__).parent, quiet=1)
    return str(path)


@pytest.fixture
def run(installed_crm, tmp_path):
    env = {**os.environ, "CRM_DB": str(tmp_path / "crm.db")}

    def run(*args, check=True, **kwargs):
        kwargs.setdefault("env", env)
        result = subprocess.run(
            [installed_crm, *args], capture_output=True, text=True, timeout=60, **kwargs
        )
        if check:
            assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        return result

    run.env = env
    return run


@pytest.fixture(scope="session")
def radicale(tmp_path_factory):
    """One real CardDAV server (Radicale) for the session; give each test its own user."""
    from davserver import start_radicale

    server = start_radicale(tmp_path_factory.mktemp("radicale"), {})
    yield server
    server.stop()


@pytest.fixture
def dav_user(radicale, request) -> str:
    """A fresh Radicale user for this test (password: its name reversed), with no book yet."""
    user = f"u{len(radicale.users)}-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    user = "".join(c if c.isalnum() or c in "-_" else "-" for c in user)
    radicale.add_user(user, user[::-1])
    return user


def on_a_terminal(argv: list[str], env: dict, *, rows: int | None = None,
                  raw: bool = False) -> tuple[int, bytes]:  # fmt: skip
    """Run `argv` with stdin, stdout and stderr a pseudo-terminal (`rows` lines of
    100 columns if given; raw: no line-ending translation): (exit code, what it showed)."""
    import fcntl
    import pty
    import struct
    import termios
    import tty

    master, slave = pty.openpty()
    if raw:
        tty.setraw(slave)
    if rows:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                             close_fds=True)  # fmt: skip
    os.close(slave)
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return child.wait(timeout=120), bytes(received)


def built_once(tmp_path_factory, name: str, commands) -> Path:
    """A database made by running `commands` (argument lists) once, for a module-scoped
    fixture whose tests each take a copy (building it per test costs seconds)."""
    path = tmp_path_factory.mktemp(name) / "crm.db"
    crm = Crm()
    env = {"CRM_DB": str(path), "CRM_CONFIG": str(path.parent / "none.toml")}
    for args in commands:
        crm.ok(*args, env=env)
    return path
