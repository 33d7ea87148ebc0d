"""Files crm writes beside other files: what kind a path is, and clean-up when told to stop."""

from __future__ import annotations

import os
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from crmcli.errors import Refused, Terminated


def kind(mode: int) -> str:
    """What a stat mode that is not a regular file is, for messages."""
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _raise(signum, frame):
    raise Terminated(signum)


_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def removed_on_signals() -> Iterator[None]:
    """Inside, SIGTERM and SIGHUP unwind the stack the way Ctrl-C does, so the
    `finally`/`except` clauses that remove temporary files run; then the process
    ends by that same signal, as it would have (a shell shows 143 for SIGTERM).
    A signal someone chose to ignore (nohup) stays ignored. SIGKILL cannot be
    caught: after one, a hidden temporary file may be left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    mine = []  # installed here (an outer removed_on_signals may have done it already)
    try:
        for signum in _SIGNALS:
            if signal.getsignal(signum) is signal.SIG_DFL:
                mine.append(signum)  # before installing: no moment where it is not known
                signal.signal(signum, _raise)
        yield
    except Terminated as stop:
        if stop.signum not in mine:
            raise  # the outer removed_on_signals ends the process
        for signum in mine:
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), stop.signum)  # the default action: the process ends here
        raise SystemExit(128 + stop.signum) from None
    finally:
        for signum in mine:
            signal.signal(signum, signal.SIG_DFL)


SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's files beside a database


@contextmanager
def temporary_beside(path: Path, suffix: str) -> Iterator[tuple[int, Path]]:
    """A new hidden file `.NAME.xxxxxxxx<suffix>` (0600) beside `path`, open for
    writing; it (and any SQLite -wal/-shm/-journal of it) is removed on the way out,
    however that is: rename or link it into place inside. Its name is chosen before
    it is made, so an interruption at any moment leaves nothing behind."""
    import secrets

    while True:
        name = path.parent / f".{path.name}.{secrets.token_hex(4)}{suffix}"
        if not os.path.lexists(name):
            break
    try:
        try:
            fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise Refused(f"cannot create {path}: {exc.strerror}") from None
        yield fd, name
    finally:
        for side in ("", *SIDE_FILES):
            with suppress(OSError):
                os.unlink(f"{name}{side}")


def destination(database: Path, target: Path) -> int:
    """What an output named by -o is, as a stat mode: a regular file (also when it
    does not exist yet), a FIFO or a character device; never the database or its
    side files (refuse_overwriting), nor anything else (a folder...).

    The path is taken as given: /dev/stdout and /dev/fd/N lead to a pipe that
    realpath would turn into a name like /proc/PID/fd/pipe:[N], which cannot be
    opened."""
    refuse_overwriting(database, target)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return stat.S_IFREG
    except OSError as exc:
        raise Refused(f"cannot write {target}: {exc.strerror}") from None
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        raise Refused(f"{target} is a {kind(mode)}; give a file, a FIFO or a device")
    return mode


def refuse_overwriting(database: Path, target: Path) -> None:
    """Refuse to write `target` if it is the database file or one of SQLite's files
    beside it (-wal, -shm, -journal: SQLite would take a file of that name as its own):
    by name (any spelling, through symlinks) or by identity (a hard link)."""
    real = os.path.realpath(database)
    names = [real, *(f"{real}{side}" for side in SIDE_FILES)]
    same = os.path.realpath(target) in names
    if not same:
        try:
            mine = os.stat(target)
        except OSError:
            mine = None
        for name in names:
            try:
                theirs = os.stat(name)
            except OSError:
                continue
            if mine is not None and os.path.samestat(mine, theirs):
                same = True
    if same:
        raise Refused(
            f"{target} is the database itself (or its -wal/-shm/-journal file); choose another file"
        )


@contextmanager
def created(target: Path) -> Iterator[Path]:
    """A new file `target`, made whole: yields a hidden temporary file beside it (0600)
    to fill, linked into place afterwards, never over a file that appeared meanwhile.
    Any failure, Ctrl-C, SIGTERM or SIGHUP removes it and leaves nothing."""
    if os.path.lexists(target):
        raise Refused(f"{target} already exists; choose a new file")
    with removed_on_signals(), temporary_beside(target, ".part") as (fd, temporary):
        os.close(fd)
        yield temporary
        link_into_place(temporary, target, f"{target} already exists; choose a new file")


def link_into_place(temporary: Path, target: Path, taken: str) -> None:
    """`temporary` under the name `target`, never over a file that appeared meanwhile
    (refused, saying `taken`); renamed where the file system has no hard links."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise Refused(taken) from None
    except OSError as exc:
        if os.path.lexists(target):  # no hard links on this file system
            raise Refused(taken) from None
        try:
            os.rename(temporary, target)
        except OSError:
            raise Refused(f"cannot create {target}: {exc.strerror}") from None


@contextmanager
def replacing(real: Path, shown: Path, before=None, *, binary: bool = False) -> Iterator:
    """A text file (or a `binary` one) that replaces the regular (or missing) file
    `real` whole: written as a hidden temporary file beside it (0600), renamed over
    it only when complete (and `before()`, if given, has not raised).
    A failure to write (a full disk) or to rename (a sticky folder) is a Refused
    naming `shown`, and removes the temporary file, as a signal does."""
    with removed_on_signals(), temporary_beside(real, ".part") as (fd, temporary):
        try:
            text = {} if binary else {"encoding": "utf-8", "newline": ""}
            with os.fdopen(fd, "wb" if binary else "w", **text) as file:
                yield file
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:
            raise Refused(f"cannot write {shown}: {exc.strerror}") from None
        if before is not None:
            before()
        try:
            os.replace(temporary, real)
        except OSError as exc:
            message = f"cannot replace {shown}: {exc.strerror}; it was left as it was"
            raise Refused(message) from None
