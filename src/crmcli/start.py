"""The `crm` console script: start-up with Python's cyclic garbage collector paused.

Start-up (importing typer and pydantic, building the command being run and the
pydantic adapters of its options) makes some fifty thousand objects that live as
long as the process, and next to no garbage (a few hundred short-lived classes and
functions, no open file among them).  With the collector on, it walks them again
and again as they are made: about a tenth of a short command's instructions.  So
`main` pauses it, and `resume` (CrmCommand.invoke, as the command's own work
begins) sets what start-up made aside with gc.freeze(), as Python's documentation
suggests before a fork, and turns it back on: the command itself runs with the
collector as usual, and no collection walks start-up's objects again.
"""

import gc

_paused = False
_started = False  # main ran before in this process: start-up is behind it


def main() -> int:
    """Console-script entry point (`crm`, `python -m crmcli`).  Only the process's
    first run pauses: a script calling it again has its start-up behind it, and each
    freeze would set the previous run's garbage aside for good."""
    global _paused, _started
    if gc.isenabled() and not _started:
        gc.disable()
        _paused = True
    _started = True
    try:
        from crmcli.cli import main as run  # imported only now: most of start-up

        return run()
    except KeyboardInterrupt:  # Ctrl-C before the command handles it: no traceback
        import sys

        from crmcli.errors import INTERRUPTED_MESSAGE, ExitCode

        print(f"Error: {INTERRUPTED_MESSAGE}", file=sys.stderr)
        return ExitCode.INTERRUPTED
    finally:
        resume()


def resume() -> None:
    """Turn the collector back on if `main` paused it (a caller running crm in its own
    process, CliRunner, keeps its collector as it set it)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
