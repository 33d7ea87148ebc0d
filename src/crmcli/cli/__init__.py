"""The `crm` command: root options, the noun groups, `crm list`, `crm demo`.

`CrmGroup.main` is the one place where failures become `Error: ...` on stderr
and an exit code, for the installed command and CliRunner alike.
"""

import errno
import importlib
import os
import sys
from functools import partial
from typing import Annotated, Literal

import typer
from typer.core import TyperGroup

from crmcli import COMMAND, __version__, errors
from crmcli.cli import options as o

# Commands that live in their own modules, imported only when used, so that
# `crm --help` or `crm list` skip building every command's options.  Each is a
# Typer app: a group of subcommands, or one command.
LAZY = {
    "account": ("accounts", "app", "Companies and organisations you do business with."),
    "contact": ("contacts", "app", "People, each optionally working for one account."),
    "deal": ("deals", "app", "Sales opportunities: amount, stage, probability."),
    "pipeline": ("deals", "pipeline_app", "Deals per stage: count, total, weighted total."),
    "activity": ("activities", "app", "The timeline: notes, calls, meetings, e-mails."),
    "log": ("activities", "log_app", "Log a note, call, meeting or e-mail."),
    "note": ("activities", "note_app", "Write a note (crm log --kind note)."),
    "task": ("tasks", "app", "Follow-ups with a due date."),
    "due": ("tasks", "due_app", "What needs attention today: tasks and people."),
    "search": ("search", "app", "Find anything by its words: names, e-mails, notes."),
    "export": ("exchange", "export_app", "Everything out: a JSON backup, CSV, TSV or vCards."),
    "import": ("exchange", "import_app", "Records in, all or nothing: JSON, CSV, TSV, vCards."),
    "db": ("care", "app", "The database: info, check, backup."),
    "history": ("history", "app", "What changed, command by command."),
    "undo": ("history", "undo_app", "Revert the latest operation (or one by id)."),
    "mail": ("mail", "app", "Your mail client: address completion, logging messages."),
    "open": ("mail", "open_app", "Open a contact's website, e-mail, phone or address."),
}


class CrmGroup(TyperGroup):
    def list_commands(self, ctx):
        return [*super().list_commands(ctx), *LAZY]

    def get_command(self, ctx, name):
        if name not in LAZY:
            return super().get_command(ctx, name)
        module, attribute, help_text = LAZY[name]
        sub_app = getattr(importlib.import_module(f"crmcli.cli.{module}"), attribute)
        command = typer.main.get_command(sub_app)
        command.name = name
        command.help = command.help or help_text
        return command

    def format_commands(self, ctx, formatter):
        rows = [
            (name, self.commands[name].get_short_help_str(formatter.width))
            for name in super().list_commands(ctx)
        ]
        rows += [(name, help_text) for name, (_, _, help_text) in LAZY.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or bool(os.environ.get("CRM_DEBUG"))
        COMMAND.set(_summary(args))
        o.COMMITTED.set(False)

        def run():
            return super(CrmGroup, self).main(
                args=args,
                prog_name=prog_name or "crm",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )

        code = _run(run, debug=debug)
        if standalone_mode:
            sys.exit(code)
        return code


def _summary(args: list[str]) -> str:
    """The command line as history shows it: global options dropped, 200 characters,
    bytes that were not UTF-8 (a file name, a bad argument) shown as U+FFFD."""
    import shlex

    words = list(args)
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option == "--db" and words:
            words.pop(0)
    line = shlex.join(words)
    try:
        raw = line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no command line can carry (a caller's str)
        raw = line.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")[:200]


def _error(message: str) -> None:
    """The one place failures are printed; names quoted in them may hold any text."""
    from crmcli.render import escape

    print(f"Error: {escape(message, multiline=True)}", file=sys.stderr)


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)  # a write that cannot be made


def _run(command, *, debug: bool) -> int:
    try:
        result = command()
        _flush_stdout()  # here, so a reader that left is seen now, not at exit
    except errors.CrmError as exc:
        if isinstance(exc, errors.OutputFailed) and o.COMMITTED.get():
            exc.message += "; the change itself was saved (see crm history)"
        _error(exc.message)
        if isinstance(exc, errors.OutputFailed):
            _silence_stdout()  # what is still buffered cannot be written either
        return int(exc.exit_code)
    except errors.OutputClosed:  # the reader of stdout left (`| head -1`)
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        result = errors.ExitCode.INTERRUPTED
    except typer.Abort:
        _error("aborted; nothing was changed")
        return errors.ExitCode.FAILED
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `crm account` alone: its help
            print(exc.format_message())
            return errors.ExitCode.SUCCESS
        context = getattr(exc, "ctx", None)
        hint = f" (see '{context.command_path} -h')" if context is not None else ""
        _error(f"{exc.format_message()}{hint}")
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        if isinstance(exc, OSError) and exc.errno in _FULL:
            # click's own writes (--help, --version) to a full disk or /dev/full; crm's
            # own writes of data and files say so themselves (OutputFailed, files.py)
            _error(f"cannot write the output: {exc.strerror}")
            _silence_stdout()
            return errors.ExitCode.FAILED
        _error(f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return errors.ExitCode.FAILED
    # Typer turns Ctrl-C into a plain exit code 130.
    if result == errors.ExitCode.INTERRUPTED:
        _error("interrupted; nothing was written")
    return result if isinstance(result, int) else errors.ExitCode.SUCCESS


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise errors.OutputClosed from None
    except OSError as exc:
        raise errors.OutputFailed(exc) from None


def _silence_stdout() -> None:
    """The reader left: send what is still buffered nowhere, so exit stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests): nothing buffered to lose


app = typer.Typer(
    cls=CrmGroup,
    name="crm",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=o.CONTEXT,
)


def _version(value: bool) -> None:
    if value:
        print(f"crm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="Database file (default: $CRM_DB if not empty, else crmcli/crm.db in your"
            " data folder).",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback for unexpected errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """A contact manager and small CRM for the terminal and for scripts.

    Data goes to stdout, messages to stderr. Exit codes: 0 ok, 1 refused or
    failed, 2 usage, 3 reference not found or ambiguous, 75 database locked,
    130 interrupted.
    """
    # --debug is acted on in CrmGroup.main, before any command can fail.
    ctx.obj = o.Settings(db=db)


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[
        Literal["accounts", "contacts", "deals", "activities", "tasks"],
        typer.Argument(help="accounts, contacts (default), deals, activities or tasks."),
    ] = "contacts",
    where: o.WhereOpt = None,
    tag: o.HasTagOpt = None,
    sort: o.SortOpt = None,
    limit: o.LimitOpt = None,
    offset: o.OffsetOpt = 0,
    columns: o.ColumnsOpt = None,
    fmt: o.FormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """List records of one kind: the same listing as `crm KIND list`."""
    from crmcli.cli import listing

    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        rows = partial(listing.rows, kind, conn)
        listing.show(kind, rows, o.output(fmt, as_json), filters, columns)


@app.command("demo")
def demo(ctx: typer.Context) -> None:
    """Fill a sample database (./crm-demo.db unless --db or CRM_DB name one)."""
    from crmcli.cli.demo import run

    run(ctx)


def main() -> int:
    """Console-script entry point."""
    return typer.main.get_command(app).main(prog_name="crm", standalone_mode=False)
