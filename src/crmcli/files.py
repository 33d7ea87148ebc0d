"""Files crm writes beside other files: what kind a path is, and clean-up when told to stop."""

from __future__ import annotations

import os
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
    previous = {}
    for signum in _SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    except Terminated as stop:
        if stop.signum not in previous:
            raise  # an outer removed_on_signals installed the handler: it ends the process
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.kill(os.getpid(), stop.signum)  # default action again: the process ends here
        raise SystemExit(128 + stop.signum) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
