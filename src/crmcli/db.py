"""Finding, opening and guarding the SQLite file.

The hot path uses the standard library's sqlite3 directly: importing
sqlite-utils costs about 55 ms, a third of a whole command's time budget (see
bench/startup.py).  Schema changes live in `migrations.py`.

Transactions are explicit (`isolation_level=None`): every command runs inside
one `session()`, which is a single `BEGIN IMMEDIATE` transaction for writes
and a single read snapshot for reads, so a command is applied whole or not at
all, and concurrent writers queue on SQLite's lock instead of failing.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crmcli.errors import DatabaseRefused, Locked

APPLICATION_ID = 0x43524D01  # "CRM\x01": marks a file as ours
DEFAULT_LOCK_TIMEOUT = 15.0  # seconds; SPEC asks for at least 10
_SLICE_MS = 100  # one slice of the wait for the write lock

# Primary result codes (sqlite3.h); extended codes keep them in the low byte.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _CANTOPEN, _FULL, _NOTADB = 5, 6, 8, 10, 11, 14, 13, 26


def resolve_path(option: str | None) -> Path:
    """--db, else $CRM_DB, else the per-user data folder."""
    if option:
        return Path(option).expanduser()
    if os.environ.get("CRM_DB"):
        return Path(os.environ["CRM_DB"]).expanduser()
    import platformdirs

    return platformdirs.user_data_path("crmcli") / "crm.db"


def lock_timeout() -> float:
    """How long a writer waits for the lock; CRM_LOCK_TIMEOUT overrides (tests use it)."""
    raw = os.environ.get("CRM_LOCK_TIMEOUT")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


@contextmanager
def session(path: Path, *, write: bool) -> Iterator[sqlite3.Connection]:
    """One command's connection and transaction: committed whole, or rolled back."""
    with translated_errors(path):
        conn = _open(path, write=write)
        try:
            if write:
                _begin_immediate(conn)
            else:
                conn.execute("BEGIN")
            operation = _start_operation(conn) if write else None
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            if operation is not None:
                _finish_operation(conn, operation)
            conn.execute("COMMIT")
        finally:
            conn.close()


@contextmanager
def translated_errors(path: Path) -> Iterator[None]:
    """Turn SQLite's failures into CrmErrors with the exit code SPEC gives them."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        error = _translate(exc, path)
        if error is None:
            raise
        raise error from exc


def _translate(exc: sqlite3.DatabaseError, path: Path) -> Exception | None:
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if code in (_BUSY, _LOCKED):
        return Locked(
            f"the database stayed locked by another process for {lock_timeout():g} s; retry later"
        )
    if code == _READONLY:
        return DatabaseRefused(f"the database {path} is read-only: {exc}")
    if code == _CANTOPEN:
        return DatabaseRefused(f"cannot open the database {path}: {exc}")
    if code in (_NOTADB, _CORRUPT):
        return DatabaseRefused(f"{path} is not a crm database or is corrupt: {exc}")
    if code == _FULL:
        return DatabaseRefused(f"the disk holding {path} is full; nothing was written")
    if code == _IOERR:
        return DatabaseRefused(f"input/output error on {path}: {exc}; nothing was written")
    return None


def _start_operation(conn: sqlite3.Connection) -> int | None:
    """Open the operation this command's changes are logged under (see crm history)."""
    from crmcli import COMMAND

    summary = COMMAND.get()
    if summary is None:
        return None  # used as a library: nothing to name the change by
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    operation = conn.execute(
        "INSERT INTO operations (at, summary) VALUES (?, ?)", (stamp, summary)
    ).lastrowid
    conn.execute("UPDATE current_operation SET id = ?", (operation,))
    return operation


def _finish_operation(conn: sqlite3.Connection, operation: int) -> None:
    conn.execute("UPDATE current_operation SET id = NULL")
    if not conn.execute("SELECT 1 FROM changes WHERE operation_id = ?", (operation,)).fetchone():
        conn.execute("DELETE FROM operations WHERE id = ?", (operation,))  # nothing changed


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, waiting up to lock_timeout().

    SQLite's own busy wait sleeps in C, where Ctrl-C cannot reach Python; waiting
    in short slices keeps the command interruptible while it queues.
    """
    conn.execute(f"PRAGMA busy_timeout = {_SLICE_MS}")
    try:
        _while_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout() * 1000)}")


def _while_busy(attempt, pause: float = 0.0) -> None:
    """Run `attempt` again (after `pause` seconds) while the database is busy or
    locked, until lock_timeout() has passed."""
    deadline = time.monotonic() + lock_timeout()
    while True:
        try:
            attempt()
            return
        except sqlite3.OperationalError as exc:
            busy = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in (_BUSY, _LOCKED)
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(pause)


def _open(path: Path, *, write: bool) -> sqlite3.Connection:
    if not path.exists():
        if not write:
            # A read on a missing database shows an empty one and creates nothing.
            return _memory()
        _create_file(path)
    elif path.is_dir():
        raise DatabaseRefused(f"the database path {path} is a folder")
    else:
        _refuse_truncated(path)
    conn = sqlite3.connect(path, timeout=lock_timeout(), isolation_level=None)
    # 16 MB of page cache (SQLite's default is 2 MB): a full listing's account
    # look-ups then mostly hit memory, 20% faster at a million contacts.
    conn.execute("PRAGMA cache_size = -16384")
    _add_functions(conn)
    try:
        if _prepare(conn, path, write=write):
            return conn
    except BaseException:
        conn.close()
        raise
    conn.close()
    return _memory()


def _add_functions(conn: sqlite3.Connection) -> None:
    """crm_fold(text): names compared the way a person means them (queries only;
    triggers must not use it, so other programs can still write the file)."""
    from crmcli.models import fold

    def crm_fold(value):
        return fold(value) if isinstance(value, str) else value

    conn.create_function("crm_fold", 1, crm_fold, deterministic=True)


def _refuse_truncated(path: Path) -> None:
    """A SQLite file shorter than its own header says was cut off (a failed copy):
    opening it could write into it, so it is refused untouched."""
    with open(path, "rb") as file:
        header = file.read(100)
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return  # not SQLite at all: the checks that follow say so
    page_size = int.from_bytes(header[16:18], "big") or 65536
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    # While any connection has the file open (its -wal/-shm exist) a checkpoint may be
    # writing it: sizes are only trusted for a file nobody is using.
    in_use = Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()
    if pages and counter_valid and not in_use and path.stat().st_size < pages * page_size:
        raise DatabaseRefused(
            f"{path} is truncated ({path.stat().st_size:,} of {pages * page_size:,} bytes);"
            " it was left untouched: restore it from a backup"
        )


def _memory() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    _add_functions(conn)
    conn.execute("PRAGMA foreign_keys = ON")
    _migrate(conn)
    return conn


def _create_file(path: Path) -> None:
    """Create the file 0600, and any missing folders 0700, before SQLite opens it."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask
        except FileExistsError:
            pass
        except OSError as exc:
            raise DatabaseRefused(f"cannot create the folder {folder}: {exc.strerror}") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, stat.S_IRUSR | stat.S_IWUSR)
    except FileExistsError:
        return  # another process created it a moment ago: fine
    except OSError as exc:
        raise DatabaseRefused(f"cannot create the database {path}: {exc.strerror}") from None
    os.close(fd)
    os.chmod(path, 0o600)


def _prepare(conn: sqlite3.Connection, path: Path, *, write: bool) -> bool:
    """Check the file is ours and current; False means 'empty file, nothing to read'.

    Only reads happen before the checks pass, so a foreign or newer file is left
    exactly as it was.
    """
    from crmcli.migrations import SCHEMA_VERSION

    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        empty = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        if app_id != 0 or version != 0 or not empty:
            raise DatabaseRefused(
                f"{path} is not a crm database (another program's SQLite file); "
                "it was left untouched"
            )
        if not write:
            return False
    elif version > SCHEMA_VERSION:
        raise DatabaseRefused(
            f"{path} was written by a newer crm (schema {version}; this crm knows up to "
            f"{SCHEMA_VERSION}); upgrade crm to use it"
        )
    conn.execute("PRAGMA foreign_keys = ON")
    if version < SCHEMA_VERSION:
        _migrate(conn)
    return True


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new file to WAL (persistent; cannot change inside a transaction).

    Two processes switching the same new file at once can deadlock on its locks;
    SQLite then fails one at once, without waiting, so it waits and tries again
    (processes apart by their pids, so they do not meet again).
    """
    pause = 0.01 * (1 + os.getpid() % 5)
    _while_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"), pause)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema up to date in one transaction; safe if two processes race."""
    from crmcli.migrations import MIGRATIONS, SCHEMA_VERSION

    _use_wal(conn)
    _begin_immediate(conn)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:  # a newer crm got there first
            raise DatabaseRefused(
                f"the database was just upgraded to schema {version} by a newer crm"
            )
        for step in MIGRATIONS[version:]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
