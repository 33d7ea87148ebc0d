"""The `crm` command: root options, the noun groups, `crm list`, `crm demo`.

`CrmGroup.main` is the one place where failures become `Error: ...` on stderr
and an exit code, for the installed command and CliRunner alike.
"""

import contextlib
import copy
import errno
import importlib
import inspect
import os
import sys
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Literal

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import TyperInfo

from crmcli import COMMAND, __version__, errors, start
from crmcli.cli import complete
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
    "remote": ("remotes", "app", "Where contacts sync to: CardDAV address books, vdir folders."),
    "sync": ("remotes", "sync_app", "Sync contacts both ways with the remotes."),
    "mail": ("mail", "app", "Your mail client: addresses for it, messages logged from it."),
    "open": ("mail", "open_app", "Open a contact's website, e-mail, phone or address."),
}


class CrmGroup(TyperGroup):
    def list_commands(self, ctx):
        return [*super().list_commands(ctx), *_Commands(own_commands), *LAZY]

    def get_command(self, ctx, name):
        own = _Commands(own_commands)
        if name in own:
            return own[name]
        if name not in LAZY:
            return super().get_command(ctx, name)
        module, attribute, help_text = LAZY[name]
        sub_app = getattr(importlib.import_module(f"crmcli.cli.{module}"), attribute)
        if len(sub_app.registered_commands) > 1 or sub_app.registered_callback:
            command = NounGroup.of(sub_app)
        else:  # an app of one command (`crm log`): that command
            (command,) = _Commands(sub_app).values()
        command.name = name
        command.help = command.help or help_text
        return command

    def resolve_command(self, ctx, args):
        """A mistyped command: `crm contcat` suggests `contact`, a lazy one too."""
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:  # click's UsageError, typer's own copy of it
            message = getattr(exc, "message", None)
            if args and isinstance(message, str) and "Did you mean" not in message:
                import difflib

                close = difflib.get_close_matches(args[0], self.list_commands(ctx))
                if close:
                    exc.message = f"{message.rstrip('.')}. Did you mean {close[0]!r}?"
            raise

    def format_commands(self, ctx, formatter):
        rows = [
            (name, self.commands[name].get_short_help_str(formatter.width))
            for name in super().list_commands(ctx)
        ]
        own = _Commands(own_commands)  # their lines as built ones write them, unbuilt
        rows += [
            (name, TyperCommand(name=name, help=own.outline(name).help).get_short_help_str(
                formatter.width))
            for name in own
        ]
        rows += [(name, help_text) for name, (_, _, help_text) in LAZY.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in args or bool(os.environ.get("CRM_DEBUG"))
        COMMAND.set(_summary(args))
        o.COMMITTED.set(False)
        if "zsh" in os.environ.get(complete_var or "_CRM_COMPLETE", ""):
            with contextlib.suppress(ImportError, AttributeError):  # another typer's own way
                complete.use_zsh_completion()

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


class CrmCommand(TyperCommand):
    """A command whose usage line names its arguments as click writes them: NAME,
    [NAME] and NAME... rather than typer's {NAME} for a required one (a metavar that
    shows it is optional stays as given), and whose own work runs with the garbage
    collector that start-up paused back on (crmcli.start)."""

    def invoke(self, ctx):
        start.resume()  # the command's own work: the garbage collector as usual
        return super().invoke(ctx)

    def collect_usage_pieces(self, ctx):
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class NounGroup(TyperGroup):
    """A noun's group (`crm contact ...`) whose commands are built one at a time, when
    asked for: `crm contact add` builds `add` and its options, not every command's.
    Its help lists every command from how it was registered, without building any."""

    @classmethod
    def of(cls, sub_app: typer.Typer) -> "NounGroup":
        shell = copy.copy(sub_app)  # the group's own options and callback, no command
        shell.registered_commands = []
        group = typer.main.get_group_from_info(
            TyperInfo(shell, cls=cls),  # as add_typer(shell, cls=cls) would
            pretty_exceptions_short=sub_app.pretty_exceptions_short,
            suggest_commands=sub_app.suggest_commands,
            rich_markup_mode=sub_app.rich_markup_mode,
        )
        group.commands = _Commands(sub_app)
        return group

    def list_commands(self, ctx):
        return list(self.commands)  # names only: TyperGroup's builds every command

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            command.short_help = command.short_help or _first_sentence(command.help)
        return command

    def format_commands(self, ctx, formatter):
        outlines = [(name, self.commands.outline(name)) for name in self.commands]
        outlines = [(name, outline) for name, outline in outlines if not outline.hidden]
        if outlines:  # as TyperGroup's, which builds every command for this
            limit = formatter.width - 6 - max(len(name) for name, _ in outlines)
            rows = [(name, outline.get_short_help_str(limit)) for name, outline in outlines]
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Commands(Mapping):
    """A Typer app's commands by name, each built (with all its options) the first time
    it is looked up; `outline` is a command's name, help and visibility only."""

    def __init__(self, sub_app: typer.Typer):
        self._app = sub_app
        self._infos = {}
        for info in sub_app.registered_commands:
            self._infos[info.name or typer.main.get_command_name(info.callback.__name__)] = info
        self._built = {}

    def __getitem__(self, name):
        if name not in self._built:
            info = copy.copy(self._infos[name])  # the registered one stays as it was
            if info.cls in (None, TyperCommand):  # not given to @app.command()
                info.cls = CrmCommand
            if not info.context_settings:  # -h, as every crm app has
                info.context_settings = o.CONTEXT
            command = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=self._app.pretty_exceptions_short,
                rich_markup_mode=self._app.rich_markup_mode,
            )
            self._built[name] = command
        return self._built[name]

    def __iter__(self):
        return iter(self._infos)

    def __len__(self):
        return len(self._infos)

    def outline(self, name: str) -> TyperCommand:
        info = self._infos[name]
        text = inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help)
        return TyperCommand(
            name=name,
            help=text,
            short_help=info.short_help or _first_sentence(text),
            hidden=info.hidden,
            deprecated=info.deprecated,
        )


def _first_sentence(text: str | None) -> str:
    """A command's line in its group's list: the first sentence of its help, whole
    (click's own cuts it at 45 characters: "...stay,...")."""
    paragraph = " ".join((text or "").split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph if end == -1 else paragraph[: end + 1]


def _usage_name(argument) -> str:
    name = argument.metavar or argument.name.upper()
    if not argument.required and not name.startswith("["):
        name = f"[{name}]"
    if argument.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name


def _summary(args: list[str]) -> str:
    """The command line as history shows it: global options dropped, 200 characters,
    bytes that were not UTF-8 (a file name, a bad argument) shown as U+FFFD."""
    words = list(args)
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option == "--db" and words:
            words.pop(0)
    line = " ".join(map(_quoted, words))
    try:
        raw = line.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no command line can carry (a caller's str)
        raw = line.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")[:200]


# What shlex.quote leaves unquoted; quoting here spares every command importing shlex.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")


def _quoted(word: str) -> str:
    """`word` as shlex.quote writes it: as it is, or in '...' for a POSIX shell."""
    if word and _PLAIN.issuperset(word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def _error(message: str) -> None:
    """The one place failures are printed; names quoted in them may hold any text."""
    from crmcli.render import escape

    print(f"Error: {escape(message, multiline=True)}", file=sys.stderr)


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)  # a write that cannot be made


def _run(command, *, debug: bool) -> int:
    terminated = None
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
    except errors.Terminated as stop:
        # Here only when it came between a `with`'s __enter__ and its block, so the
        # removed_on_signals inside never saw it: ended below, once its frames (and
        # the temporary files they remove) are gone.
        terminated = stop.signum
    except typer.Abort:
        _error("aborted; nothing was changed")
        return errors.ExitCode.FAILED
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `crm account` alone: its help
            print(exc.format_message())
            return errors.ExitCode.SUCCESS
        _plain_wording(exc)
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
    if terminated is not None:
        _end_by(terminated)
    # Typer turns Ctrl-C into a plain exit code 130.
    if result == errors.ExitCode.INTERRUPTED:
        _error(errors.INTERRUPTED_MESSAGE)
    return result if isinstance(result, int) else errors.ExitCode.SUCCESS


def _end_by(signum: int) -> None:
    """End the process by `signum`, as removed_on_signals does (a shell shows 143)."""
    import gc
    import signal

    gc.collect()  # a generator left suspended in a cycle removes its temporary file now
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    raise SystemExit(128 + signum)


_WORDING = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not yes or no (true/false, 1/0)",
}


def _plain_wording(exc: Exception) -> None:
    """typer checks values with pydantic, whose words ("Value error, ...", "Input should
    be a valid integer, unable to parse string as an integer") are not crm's: say it
    plainly, with the value given."""
    cause = exc.__cause__
    if type(cause).__name__ != "ValidationError" or not hasattr(exc, "message"):
        return
    try:
        error = cause.errors()[0]
    except (AttributeError, IndexError, TypeError):
        return
    value = error.get("input")
    if error.get("type") in _WORDING:
        exc.message = f"{value!r} {_WORDING[error['type']]}"
    else:
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        if message.startswith("Input should be "):
            message = f"{value!r} should be {message.removeprefix('Input should be ')}"
        exc.message = message


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
# The root's own commands (list, demo): built, as LAZY's are, only when run, not for
# every command and `crm --help` (list's nine options: ~4.5M instructions).
own_commands = typer.Typer(rich_markup_mode=None)


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
    color: Annotated[
        Literal["auto", "always", "never"],
        typer.Option(
            "--color",
            help="Colour in tables and cards: auto (on a terminal, unless NO_COLOR is set;"
            " CLICOLOR_FORCE forces it), always or never. Data formats never have colour.",
        ),
    ] = "auto",
    no_pager: Annotated[
        bool,
        typer.Option(
            "--no-pager",
            help="Never page. On a terminal, output taller than the screen goes through"
            " $CRM_PAGER, else $PAGER, else less -FRX (cat: no pager).",
        ),
    ] = False,
) -> None:
    """A contact manager and small CRM for the terminal and for scripts.

    Data goes to stdout, messages to stderr. Exit codes: 0 ok, 1 refused or
    failed, 2 usage, 3 reference not found or ambiguous, 75 database locked,
    130 interrupted.

    Examples:

    \b
      crm contact add 'Jane Doe' -e jane@acme.example -a Acme
      crm list contacts --where city=Oslo
      crm contact show Jane
    """
    # --debug is acted on in CrmGroup.main, before any command can fail.
    ctx.obj = o.Settings(db=db)
    from crmcli import render

    render.begin(color, pager=not no_pager)
    ctx.call_on_close(render.end)


@own_commands.command("list", cls=CrmCommand)
def list_(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(
            metavar="KIND",
            help="accounts, contacts (default), deals, activities or tasks (or account ...).",
            autocompletion=complete.kinds,
        ),
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
    """List records of one kind: the same listing as `crm KIND list`.

    Examples:

    \b
      crm list
      crm list deals --where stage=proposal --sort -amount
      crm list contact --tag vip --format csv
    """
    from crmcli.cli import listing

    kind = listing.kind(kind)
    filters = o.filters(where, tag, sort, limit, offset)
    with o.session(ctx, write=False) as conn:
        rows = partial(listing.rows, kind, conn)
        listing.show(kind, rows, o.output(fmt, as_json), filters, columns)


@own_commands.command("demo", cls=CrmCommand)
def demo(ctx: typer.Context) -> None:
    """Fill a sample database (./crm-demo.db unless --db or CRM_DB name one).

    Examples:

    \b
      crm demo
      crm --db /tmp/try.db demo && crm --db /tmp/try.db list
    """
    from crmcli.cli.demo import run

    run(ctx)


def main() -> int:
    """Console-script entry point."""
    return typer.main.get_command(app).main(prog_name="crm", standalone_mode=False)
