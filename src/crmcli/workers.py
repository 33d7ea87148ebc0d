"""A second process that reads and checks a big import while this one writes.

Checking a record (`store.checks.check`) is pure Python and needs no
database; writing it is mostly SQLite.  For a big file a forked child reads
and checks the records and sends them over a pipe in chunks, while the parent
looks them up, batches and writes them: on two cores the import then takes
about the writing time rather than the sum of both.

The child is started before the parent opens the database, shares nothing
with it but the open file it reads (inherited by fork), ignores Ctrl-C (the parent
handles it and stops the child), and dies of a broken pipe if the parent is
killed.  Small files, and machines with one core or no fork, are checked in
this process, by the same function.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from crmcli.config import Config
from crmcli.store import checks

ELSEWHERE_FROM = 1_000_000  # bytes of input from which checking moves to a child
_CHUNK = 500  # records a message carries
_CHUNK_BYTES = 1 << 20  # or fewer, when their photos come to this (a chunk of 2 MB ones is 1 GB)
_PIPE_BYTES = 1 << 20  # Linux's default most for an unprivileged process
_AHEAD = 40  # chunks checked and waiting for the pipe (~6 MB, four batches)


@contextmanager
def checking(items: Iterable, config: Config, size: int) -> Iterator[Iterator[tuple]]:
    """The items, checked (as `checks.checked` gives them): in a child process
    when the input (`size` bytes) is big and the machine can, else here."""
    if size < ELSEWHERE_FROM or not _can_fork():
        yield checks.checked(items, config)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    _widen(receiver)
    child = context.Process(target=_check, args=(sender, receiver, items, config), daemon=True)
    child.start()
    sender.close()  # the child's end: when it goes, recv() sees the end of the pipe
    try:
        yield _received(receiver, config)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()


def _widen(receiver) -> None:
    """Let the child run a whole batch ahead: a pipe holds 64 kB (~500 records) unless
    asked for more, and the parent reads nothing while it writes a batch."""
    import fcntl

    # Not Linux, or a lower limit: a narrower pipeline still works.
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(receiver.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _can_fork() -> bool:
    import multiprocessing

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


def _received(receiver, config: Config) -> Iterator[tuple]:
    while True:
        try:
            message = receiver.recv()
        except EOFError:
            raise RuntimeError("the process checking the import stopped unexpectedly") from None
        if message is None:
            return
        if isinstance(message, BaseException):
            raise message
        done, chunk = message
        yield from _entries(chunk) if done else checks.checked(chunk, config)


def _entries(chunk: list[tuple]) -> Iterator[tuple]:
    """A chunk checked in the child, as _pickled sent it: each Checked again."""
    made, checked = tuple.__new__, checks.Checked
    for where, kind, item in chunk:
        yield where, kind, made(checked, item) if type(item) is tuple else item


def _check(sender, receiver, items: Iterable, config: Config) -> None:
    """In the child: check every item, send them on in chunks, then None.

    The child closes its copy of the parent's end first: while it held it open,
    a killed parent left the pipe with a reader, and the child waiting forever.

    Chunks are pickled here and written by a thread, through a queue of
    _AHEAD of them: while the parent writes a batch, the pipe alone holds
    fewer records than a batch, and the checking would stop.
    """
    receiver.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    outbox: queue.Queue = queue.Queue(maxsize=_AHEAD)
    writer = threading.Thread(target=_write_out, args=(sender, outbox), daemon=True)
    writer.start()
    try:
        chunk, size = [], 0
        for item in items:
            chunk.append(item)
            size += _picture_text(item[2])
            if len(chunk) == _CHUNK or size >= _CHUNK_BYTES:
                outbox.put(_pickled(_shared(chunk, outbox, config)))
                chunk, size = [], 0
        outbox.put(_pickled(_shared(chunk, outbox, config)))
        outbox.put(_pickled(None))
    except Exception as exc:  # the file itself cannot be read on (a broken CSV quote...)
        try:
            outbox.put(_pickled(exc))
        except Exception:  # not picklable
            outbox.put(_pickled(RuntimeError(f"{type(exc).__name__}: {exc}")))
    outbox.put(None)  # the writer's end
    writer.join()


def _shared(chunk: list, outbox: queue.Queue, config: Config) -> tuple[bool, list]:
    """(True, the chunk checked here), or (False, the chunk as read) for the parent
    to check: when nothing waits to be sent, the parent is waiting for us (checking
    is the slower side on two cores), and it has time between its batches.  As soon
    as chunks wait again, checking stays here: the work finds its balance."""
    if outbox.empty():
        return False, chunk
    return True, list(checks.checked(chunk, config))


def _picture_text(data: dict) -> int:
    """The size of the photo (logo) a record read from a file carries, as text."""
    size = 0
    for key in ("photo", "logo"):
        picture = data.get(key) if isinstance(data, dict) else None
        if isinstance(picture, dict) and isinstance(picture.get("data"), str):
            size += len(picture["data"])
    return size


def _pickled(message) -> bytes:
    """A message as bytes; a checked chunk's Checked as plain tuples: pickled as
    themselves, a NamedTuple calls two Python methods each way (a sixth of the pickling)."""
    if type(message) is tuple and message[0]:
        checked = checks.Checked
        message = (True, [(where, kind, tuple(item) if type(item) is checked else item)
                          for where, kind, item in message[1]])  # fmt: skip
    return pickle.dumps(message, pickle.HIGHEST_PROTOCOL)


def _write_out(sender, outbox: queue.Queue) -> None:
    """The child's writing thread: each pickled message to the pipe, in order."""
    while (message := outbox.get()) is not None:
        try:
            sender.send_bytes(message)
        except OSError:  # the parent is gone (killed, or stopped us): nothing to tell
            os._exit(0)  # and the checking thread must not wait on a full queue
