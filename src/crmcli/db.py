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

import errno
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from crmcli.errors import DatabaseRefused, InvalidValue, Locked

APPLICATION_ID = 0x43524D01  # "CRM\x01": marks a file as ours
# What opening a database needs of its schema, kept here so that opening one that is
# current imports no migrations (~6M instructions, ~2 ms of every command's start-up):
# the schema this crm writes (migrations.py refuses to load unless it has exactly this
# many steps); the tables whose rows have a name, its name_key (models.fold) and, since
# m016, its name_order (models.natural_key of name_key): what listings sort by; what
# a row of the search index is, by its rowid.
SCHEMA_VERSION = 19
NAMED = ("accounts", "contacts", "deals")
ODD_TABLE = "contacts"  # whose odd rows odd_rows counts (migrations.odd_row, m019)
# How a JSON text (a contact's tags) can spell a NUL that json_each reads: JSON's
# \u0000, and since SQLite 3.42 JSON5's \x00 and \0 (migrations.odd_row, checks.odd).
NUL_ESCAPES = ("\\u0000", "\\x00", "\\0")
SEARCH_KINDS = ("account", "contact", "deal", "activity")  # position = search rowid's low bits


def text_affinity(declared: str | None) -> bool:
    """Whether a column of this declared type has TEXT affinity (SQLite's rules):
    it holds text, NULL or a BLOB, a number stored in it becoming text."""
    kind = (declared or "").upper()
    return "INT" not in kind and any(word in kind for word in ("CHAR", "CLOB", "TEXT"))

DEFAULT_LOCK_TIMEOUT = 15.0  # seconds; SPEC asks for at least 10
_SLICE_MS = 100  # one slice of the wait for the write lock

# Primary result codes (sqlite3.h); extended codes keep them in the low byte.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _CANTOPEN, _FULL, _NOTADB = 5, 6, 8, 10, 11, 14, 13, 26
READONLY, IOERR, CANTOPEN, FULL = _READONLY, _IOERR, _CANTOPEN, _FULL  # for result_code()
_READONLY_DIRECTORY = _READONLY | (6 << 8)  # no -shm, and the folder cannot take one


def result_code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code of an error (0 if it carries none)."""
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def resolve_path(option: str | None) -> Path:
    """--db, else $CRM_DB, else the per-user data folder.

    An explicit empty --db is a mistake (exit 2), never a silent fall-back; an empty
    CRM_DB counts as unset, as shells commonly mean it (`CRM_DB= crm ...`).
    """
    if option is not None:
        if not option:
            raise InvalidValue("--db needs a path")
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
    """One command's connection and transaction: committed whole, or rolled back.

    A missing database is created only by a write that leaves something in it: it
    is built under a hidden name beside `path` and linked into place when complete,
    so a command that fails or writes nothing (an undo with no history, a dry run,
    a reference that matches nothing) leaves neither a file nor a folder behind.
    """
    with translated_errors(path):
        real = _locate(path)
        if write and not real.exists():
            from crmcli import files  # only when a file is made (start-up time)

            with files.removed_on_signals(), _creating(real) as new:
                if new is not None:
                    outcome: dict = {}
                    with _transaction(_open(new.path, write=True), True, outcome) as conn:
                        yield conn
                    if outcome["kept"]:
                        new.publish()
                    return
            # another crm created the file while this one waited: use it
        with _transaction(_open(real, write=write), write) as conn:
            yield conn


def create(path: Path) -> None:
    """Create an empty crm database at `path` unless there is one (for use from
    Python: commands create theirs when they first write something)."""
    with translated_errors(path):
        real = _locate(path)
        from crmcli import files

        with files.removed_on_signals(), _creating(real) as new:
            if new is not None:
                _open(new.path, write=True).close()
                new.publish()


@contextmanager
def _transaction(conn: sqlite3.Connection, write: bool, outcome: dict | None = None):
    """Run the caller's block in one transaction on `conn`, then close it; if asked,
    outcome["kept"] says whether the database now holds anything worth a file."""
    try:
        if write:
            _begin_immediate(conn)
        else:
            conn.execute("BEGIN")
        operation = _start_operation(conn) if write else None
        changes = conn.total_changes
        try:
            yield conn
        except BaseException as exc:
            conn.rollback()
            if isinstance(exc, sqlite3.DatabaseError):
                unchanged(conn)  # "malformed" from a file changed under an immutable read
            raise
        if operation is not None:
            _finish_operation(conn, operation)
        if outcome is not None:
            outcome["kept"] = _holds_anything(conn)
        unchanged(conn)
        # A read has nothing to commit (and after reading a damaged page, COMMIT fails).
        conn.execute("COMMIT" if write or conn.total_changes != changes else "ROLLBACK")
    finally:
        conn.close()


def _holds_anything(conn: sqlite3.Connection) -> bool:
    """Whether a database holds records or history (a new one is worth keeping)."""
    tables = ("accounts", "contacts", "deals", "activities", "tasks", "operations", "remotes")
    return any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0] for t in tables)


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
    code = result_code(exc)
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
    (current,) = conn.execute("SELECT id FROM current_operation").fetchone()
    conn.execute("UPDATE current_operation SET id = NULL")
    for done in {operation, current} - {None}:  # current: one next_operation() opened
        if not conn.execute("SELECT 1 FROM changes WHERE operation_id = ?", (done,)).fetchone():
            conn.execute("DELETE FROM operations WHERE id = ?", (done,))  # nothing changed


def next_operation(conn: sqlite3.Connection) -> None:
    """Close the command's operation so far and log what follows under another, of
    the same name: a sync keeps the remote's side of a conflict crm's side wins in an
    operation of its own, so that undoing the sync brings it back."""
    (current,) = conn.execute("SELECT id FROM current_operation").fetchone()
    if current is not None:
        _finish_operation(conn, current)
        _start_operation(conn)


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


def _locate(path: Path) -> Path:
    """The database file itself, symlinks followed: a regular file or a missing path.

    Anything else is refused at once, before anything opens it: opening a FIFO
    would wait forever, and a folder or a device is no database.
    """
    real = Path(os.path.realpath(path))
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise DatabaseRefused(f"cannot use the database path {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        from crmcli import files

        raise DatabaseRefused(
            f"the database path {path} is a {files.kind(mode)}, not a database file"
        )
    return real


def _open(path: Path, *, write: bool, attempts: int = 3) -> sqlite3.Connection:
    """Connect to the regular file `path` (or, to read a missing one, an empty database).

    A reader that may not write the folder, finding -wal/-shm that the owner's last
    connection then removes before SQLite reads them, looks again (`attempts` times).
    """
    if not path.exists():
        # A read on a missing database shows an empty one and creates nothing.
        return _memory()
    try:
        _refuse_truncated(path)
    except OSError as exc:
        raise DatabaseRefused(f"cannot read the database {path}: {exc.strerror}") from None
    read_only = not _writable(path)
    if read_only and write:
        raise DatabaseRefused(
            f"the database {path} is read-only (no write permission on it or its folder);"
            " nothing was written"
        )
    if read_only:
        # Stamped first: a checkpoint under way then ends before the -wal is gone.
        before = _stamp(path)
        immutable = not _in_use(path)  # no -wal, no -shm: see _read_only_uri
        conn = sqlite3.connect(
            _read_only_uri(path, immutable),
            uri=True,
            timeout=lock_timeout(),
            isolation_level=None,
            factory=_Connection,
        )
        if immutable:
            conn.stamp = (path, before)
    else:
        conn = sqlite3.connect(path, timeout=lock_timeout(), isolation_level=None)
    try:
        # 16 MB of page cache (SQLite's default is 2 MB): a full listing's account
        # look-ups then mostly hit memory, 20% faster at a million contacts.
        conn.execute("PRAGMA cache_size = -16384")
        _add_functions(conn)
        if _prepare(conn, path, write=write, read_only=read_only):
            return conn
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            unchanged(conn)
            vanished = getattr(exc, "sqlite_errorcode", 0) == _READONLY_DIRECTORY
            if read_only and vanished and attempts > 1 and not _in_use(path):
                return _open(path, write=write, attempts=attempts - 1)
        raise
    conn.close()
    return _memory()


def _access(path: Path | str, mode: int) -> bool:
    if os.access in os.supports_effective_ids:
        return os.access(path, mode, effective_ids=True)
    return os.access(path, mode)


def _writable(path: Path) -> bool:
    """Whether this process may write the database: the file, and the folder where
    SQLite makes its -wal and -shm files (or those files, when they exist)."""
    if not _access(path, os.W_OK):
        return False
    if _access(path.parent, os.W_OK):
        return True
    return all(_access(f"{path}{side}", os.W_OK) for side in ("-wal", "-shm"))


def _read_only_uri(path: Path, immutable: bool) -> str:
    """How to read a file this process cannot write without leaving files behind.

    A plain open (or mode=ro in a folder this user may write) would create -wal/-shm
    files owned by this user, which the owner's next write then cannot use; in a
    read-only folder it fails. With neither file present no other connection has the
    database open and every committed change is in the file itself: it is read as
    immutable, creating nothing. Immutable takes no locks, so a write that starts
    meanwhile is not waited for: `unchanged` then refuses what was read (exit 75).
    When they exist (a writer is at work, or one crashed), read-only mode reads the
    -wal through them, under SQLite's locks.
    """
    from urllib.parse import quote

    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    return f"file:{quote(str(path))}?{query}"


class _Connection(sqlite3.Connection):
    """sqlite3's connection; `stamp` is (path, _stamp(path)) on one that reads its
    file as immutable, taken before it was opened."""

    stamp: tuple[Path, tuple] | None = None


def _stamp(path: Path) -> tuple:
    """What changes when anyone writes the file itself: its identity, size and times.

    Only the file: an immutable read reads nothing else. Its -wal and -shm come and
    go with the owner's every connection, reads too, and a write still in the -wal
    is not seen; what reaches the file, a checkpoint included, changes its times.
    """
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _in_use(path: Path) -> bool:
    """Whether the database's -wal or -shm exists (a connection has it open, or had)."""
    return any(os.path.lexists(f"{path}{side}") for side in ("-wal", "-shm"))


CHANGED = (
    "the database changed while it was read (another program wrote to it, and this"
    " user cannot share its lock files); nothing was changed: run the command again"
)


def unchanged(conn: sqlite3.Connection) -> None:
    """Refuse (Locked, exit 75) what a connection read as immutable if its file
    changed since it was opened: the read may mix two states, or look corrupt.
    Nothing to do for any other connection, which SQLite's locks keep consistent."""
    stamp = getattr(conn, "stamp", None)
    if stamp is None:
        return
    path, before = stamp
    try:
        now = _stamp(path)
    except OSError:
        now = None
    if now != before:
        raise Locked(CHANGED)


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
    if pages and counter_valid and not _in_use(path) and path.stat().st_size < pages * page_size:
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


@contextmanager
def _creating(real: Path) -> Iterator[_NewFile | None]:
    """A new database for the missing file `real`, under a hidden name beside it;
    None if another crm created `real` meanwhile.

    The database's own lock file `.NAME.lock` beside it is locked (flock) while the
    new file is built, so two crms creating the same database queue like writers do
    instead of one losing its work, while other databases in that folder are created
    without waiting. Folders made for it (0700) are removed again if no database came
    of it, and so is the lock file. Anything else under that name (a FIFO, a symlink,
    a file with something in it or of another user) is refused and left alone.
    """
    from crmcli import files

    folder = real.parent
    lock_path = folder / f".{real.name}.lock"
    flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    while True:
        made = _make_folders(folder)
        try:
            lock = os.open(lock_path, flags, 0o600)
        except FileNotFoundError:
            continue  # removed by a crm that gave up creating it: make it again
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):  # symlink, folder, socket
                raise DatabaseRefused(_not_our_lock(lock_path)) from None
            raise DatabaseRefused(f"cannot create {real}: {exc.strerror}") from None
        try:
            if not _is_our_lock(lock):
                raise DatabaseRefused(_not_our_lock(lock_path))
            _lock(lock)
            if _same_file(lock, lock_path):
                break
        except BaseException:
            os.close(lock)
            raise
        # The crm that held it removed the lock file meanwhile: lock the live one.
        os.close(lock)
    try:
        if os.path.lexists(real):
            yield None
            return
        with files.temporary_beside(real, ".new") as (handle, temporary):
            os.close(handle)
            yield _NewFile(real, temporary)
    finally:
        # Removed while still held: a crm waiting on it then sees a dead file and retries.
        if _same_file(lock, lock_path):
            with suppress(OSError):
                os.unlink(lock_path)
        if not os.path.lexists(real):
            for made_folder in reversed(made):
                try:
                    made_folder.rmdir()
                except OSError:
                    break  # not empty: something else is using it
        os.close(lock)


def _make_folders(folder: Path) -> list[Path]:
    """Make the missing folders down to `folder`, 0700; returns those it made."""
    missing = []
    parent = folder
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    made = []
    for each in reversed(missing):
        try:
            each.mkdir(mode=0o700)
            each.chmod(0o700)  # mkdir's mode is filtered by the umask
            made.append(each)
        except FileExistsError:
            pass
        except OSError as exc:
            raise DatabaseRefused(f"cannot create the folder {each}: {exc.strerror}") from None
    return made


def _lock(fd: int) -> None:
    """Take a database's creation lock, waiting up to lock_timeout() (interruptibly)."""
    import fcntl

    deadline = time.monotonic() + lock_timeout()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise Locked(
                    f"another crm kept creating the database for {lock_timeout():g} s; retry later"
                ) from None
            time.sleep(_SLICE_MS / 2000)
        except OSError:
            return  # a file system without flock: go on unguarded, as SQLite would


def _is_our_lock(fd: int) -> bool:
    """Whether an open lock file is one crm makes: regular, empty, this user's."""
    st = os.fstat(fd)
    return stat.S_ISREG(st.st_mode) and st.st_size == 0 and st.st_uid == os.geteuid()


def _not_our_lock(path: Path) -> str:
    return f"{path} is not crm's lock file; remove it or choose another --db"


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


class _NewFile:
    """A new database being built beside the file it will become (mode 0600, which
    SQLite's -wal and -shm files copy)."""

    def __init__(self, real: Path, path: Path):
        self.real = real
        self.path = path

    def publish(self) -> None:
        """Put the complete file (its connection closed) in place, whole, under its name."""
        if any(os.path.lexists(f"{self.path}{side}") for side in ("-wal", "-journal")):
            raise DatabaseRefused(f"the new database {self.real} was not written completely")
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        from crmcli import files

        taken = f"{self.real} appeared while crm was creating it; nothing was written"
        files.link_into_place(self.path, self.real, taken)
        _sync_folder(self.real.parent)


def _sync_folder(folder: Path) -> None:
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _prepare(conn: sqlite3.Connection, path: Path, *, write: bool, read_only: bool) -> bool:
    """Check the file is ours and current; False means 'empty file, nothing to read'.

    Only reads happen before the checks pass, so a foreign or newer file is left
    exactly as it was.
    """
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
        if read_only:
            raise DatabaseRefused(
                f"{path} was written by an older crm and needs an upgrade, but it is"
                " read-only: run crm once with write access to it"
            )
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
    from crmcli.migrations import MIGRATIONS

    _use_wal(conn)
    _begin_immediate(conn)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:  # a newer crm got there first
            raise DatabaseRefused(
                f"the database was just upgraded to schema {version} by a newer crm"
            )
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                step(conn)
            except sqlite3.DatabaseError as exc:
                if _translate(exc, Path()) is not None or (
                    isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
                ):
                    raise  # busy, read-only, full, I/O...: not the schema, said as always
                # A schema no crm release wrote (hand-edited, or a development build's):
                # SQLite's words alone ("index ... already exists") do not say what failed.
                name = conn.execute("PRAGMA database_list").fetchone()[2] or "the database"
                raise DatabaseRefused(
                    f"{name} could not be upgraded from schema {version} (step {number},"
                    f" {step.__name__}: {exc}); its schema and data were left as they were"
                ) from exc
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
