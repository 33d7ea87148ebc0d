"""Files crm writes beside other files: what kind a path is, and clean-up when told to stop."""

from __future__ import annotations

import os
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from crmcli.errors import Refused


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


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived inside `removed_on_signals`: unwind like Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


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
        for side in ("", "-wal", "-shm", "-journal"):
            with suppress(OSError):
                os.unlink(f"{name}{side}")
