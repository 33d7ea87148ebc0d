"""Every way a command can fail, each carrying the exit code SPEC gives it.

The CLI turns any CrmError into `Error: <message>` on stderr and exits with
`exit_code`; nothing here knows about typer or rich.
"""

from __future__ import annotations


class ExitCode:
    """The exit codes SPEC gives (plain ints: an IntEnum costs start-up ~1 ms to define)."""

    SUCCESS = 0
    FAILED = 1
    USAGE = 2
    REFERENCE = 3
    LOCKED = 75
    INTERRUPTED = 130


# What Ctrl-C says, wherever it lands (crmcli.start during start-up, the CLI after).
INTERRUPTED_MESSAGE = "interrupted; nothing was written"


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived inside files.removed_on_signals: the stack unwinds as
    for Ctrl-C (temporary files go), then the process ends by that signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class CrmError(Exception):
    """Base class: a failure the user should see as one clear message."""

    exit_code = ExitCode.FAILED

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(CrmError):
    """Duplicate, conflict, delete refused, and similar: exit 1."""


class DatabaseRefused(CrmError):
    """Unreadable, corrupt, foreign, newer or read-only database: exit 1."""


class InvalidValue(CrmError):
    """A value the user typed is not acceptable (bad e-mail, empty name...): exit 2."""

    exit_code = ExitCode.USAGE


class ReferenceError_(CrmError):
    """A reference matched no record, or several: exit 3."""

    exit_code = ExitCode.REFERENCE


class NotFound(ReferenceError_):
    pass


class Ambiguous(ReferenceError_):
    pass


class Locked(CrmError):
    """Another process kept the write lock past the wait limit: exit 75."""

    exit_code = ExitCode.LOCKED


class OutputClosed(Exception):
    """The reader of stdout went away (`crm list | head -1`): stop quietly, exit 0."""


class OutputFailed(Refused):
    """stdout could not be written (a full disk): exit 1, the rest of it dropped."""

    def __init__(self, exc: OSError):
        super().__init__(f"cannot write the output: {exc.strerror or exc}")
