"""crm mail query|log and crm open: crm beside a mail client and the desktop.

`mail query` runs on every keystroke of an address completion: it imports only
what it needs (no rich, no store modules beyond search).
"""

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from crmcli.cli import options as o
from crmcli.errors import InvalidValue, Refused

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, context_settings=o.CONTEXT)
open_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)


@app.command("query")
def query(
    ctx: typer.Context,
    words: Annotated[str, typer.Argument(metavar="QUERY", help="Words; each matches as a prefix.")],
    fmt: Annotated[
        Literal["mutt", "aerc", "plain"],
        typer.Option("--format", "-f", help="mutt (default), aerc or plain."),
    ] = "mutt",
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", help="At most N addresses (0: all).")
    ] = 100,
) -> None:
    """Addresses for a mail client to complete from, one line each.

    Contacts whose name, nickname, e-mail or account has every word of QUERY as
    a word prefix (case and accents ignored, as crm search); those you were in
    touch with most recently first, then by name. Formats: mutt's query_command
    (a first line with a message, then address TAB name TAB account), aerc's
    address-book-cmd (address TAB name) or plain `Name <address>`. Exit 0 with
    matches, 1 with none (nothing printed then). Tabs, line breaks and control
    characters in names are printed as spaces.

    Examples:

    \b
      crm mail query jane
      crm mail query 'acme jo' --format aerc
    """
    from crmcli import models, render
    from crmcli.store import search

    if limit < 0:
        raise InvalidValue("--limit takes 0 (all) or more")
    with o.session(ctx, write=False) as conn:
        found = search.mail_addresses(conn, words, limit=limit or None)
    if not found:
        raise typer.Exit(1)
    lines = []
    if fmt == "mutt":
        count = f"{len(found)} address{'es' if len(found) > 1 else ''}"
        lines.append(f"crm: {count} for '{models.one_line(words) or ''}'")
    for address, name, account in found:
        if fmt == "mutt":
            lines.append(f"{address}\t{name}\t{account}")
        elif fmt == "aerc":
            lines.append(f"{address}\t{name}")
        else:
            lines.append(f"{_display(name)} <{address}>" if name else address)
    render.data_writer()("".join(f"{line}\n" for line in lines))


_SPECIALS = set('()<>[]:;@\\,."')


def _display(name: str) -> str:
    """A display name as RFC 5322 writes it: quoted when it holds specials."""
    if not _SPECIALS & set(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@app.command("log")
def log(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="[FILE|-]",
            help="A message (.eml), an mbox or a Maildir folder; - or none: stdin.",
        ),
    ] = None,
    contact: o.ContactRefOpt = None,
    deal: o.DealRefOpt = None,
    create: Annotated[
        bool,
        typer.Option("--create", help="Add unknown addresses as contacts (by display name)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was done as one JSON object.")
    ] = False,
) -> None:
    """Log e-mail messages as `email` activities, each message once.

    Reads one RFC 5322 message (mutt's pipe-message, aerc's :pipe, a .eml
    file) or every message of an mbox file or a Maildir folder. Each is logged
    with its subject, its Date as the time, and its text (the text/plain part,
    else the HTML as text), once for each known contact among From, To and Cc
    (and so on their accounts' timelines); --contact adds one. In the text, a
    block of quoted (>) lines becomes one `[… N quoted lines]` line, the
    signature (after a `-- ` line) is dropped, attachments are listed by name
    (never kept), and a text over 1 MB is cut with a note saying so.

    The Message-ID is kept (custom field message_id): a message logged before
    is passed over, and said so. It was sent when From is one of `me = [...]`
    in config.toml (custom field direction: sent or received). Addresses of no
    contact are listed; --create adds them. A single message with no known
    contact and no --contact is refused (exit 1), nothing written; in a mailbox
    such messages, and unreadable ones, are passed over and counted. A
    mailbox is one operation in crm history: crm undo takes it all back.

    Examples:

    \b
      crm mail log message.eml
      crm mail log ~/Mail/acme --create
      crm mail log - --deal Skates
    """
    from crmcli import config, render
    from crmcli.formats import mail as formats
    from crmcli.store import mail as store

    path = None if file in (None, "-") else Path(file)
    if path is not None and not path.exists():
        raise InvalidValue(f"no such file or folder: {file}")
    if path is None and o.on_terminal():
        raise InvalidValue("give FILE, or pipe a message in (mutt: pipe-message)")
    me = config.load().me
    try:
        count, messages = formats.sources(path, sys.stdin.buffer)
    except formats.Unreadable as exc:
        raise Refused(f"{exc}; nothing was written") from None
    except OSError as exc:
        raise Refused(f"cannot read {file}: {exc.strerror or exc}") from None
    single = count == 1
    with _progress(count) as advance, o.session(ctx, write=True) as conn:
        outcome = store.log_messages(
            conn, messages, me=me, contact=contact, deal=deal, create=create, single=single,
            progress=advance,
        )  # fmt: skip
        if not (outcome.logged or outcome.already) and (outcome.no_contact or outcome.unreadable):
            raise Refused(_nothing_logged(outcome))
    if as_json:
        render.document(outcome.as_json(), "json")
    _report(outcome, single)


def _nothing_logged(outcome) -> str:
    unknown = list(outcome.unknown)
    listed = ", ".join(unknown[:10]) + (
        f" and {len(unknown) - 10:,} more" if len(unknown) > 10 else ""
    )
    return (
        f"no message was logged: {len(outcome.no_contact):,} with no known contact"
        f" (addresses: {listed or 'none'}; give --contact or --create),"
        f" {len(outcome.unreadable):,} unreadable"
        + (f" (the first: {outcome.unreadable[0]})" if outcome.unreadable else "")
    )


class _progress:
    """A progress bar on stderr for a mailbox, when stderr is a terminal."""

    def __init__(self, total: int):
        self.total, self.bar = total, None

    def __enter__(self):
        if self.total < 2 or not sys.stderr.isatty():
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True, console=_stderr_console())
        self.bar.start()
        task = self.bar.add_task("logging messages", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True, markup=False, highlight=False, emoji=False)


def _report(outcome, single: bool) -> None:
    from crmcli import render

    def say(text: str) -> None:
        print(render.escape(text, multiline=True), file=sys.stderr)

    def subject(item: dict) -> str:
        return render.quoted((item["subject"] or "(no subject)")[:80])

    if single:
        for item in outcome.logged:
            ids = ", ".join(map(str, item["activities"]))
            say(f"Logged e-mail {subject(item)} (activity {ids})")
        for item in outcome.already:
            ids = ", ".join(map(str, item["activities"]))
            say(f"Already logged: e-mail {subject(item)} (activity {ids}); nothing was done")
    else:
        activities = sum(len(item["activities"]) for item in outcome.logged)
        parts = [f"logged {len(outcome.logged):,} messages ({activities:,} activities)"]
        if outcome.already:
            parts.append(f"{len(outcome.already):,} already logged (passed over)")
        if outcome.no_contact:
            parts.append(f"{len(outcome.no_contact):,} with no known contact (passed over)")
        if outcome.unreadable:
            parts.append(f"{len(outcome.unreadable):,} unreadable (passed over)")
        say(("; ".join(parts)).capitalize())
        for reason in outcome.unreadable[:5]:
            say(f"  unreadable: {reason}")
    for created in outcome.created:
        name, address = render.quoted(created["name"]), created["email"]
        say(f"Added contact {name} <{address}> (id {created['id']})")
    if outcome.unknown:
        shown = list(outcome.unknown.items())[:20]
        more = len(outcome.unknown) - len(shown)
        say(f"Unknown address{'es' if len(outcome.unknown) > 1 else ''} (--create adds them):")
        for address, name in shown:
            say(f"  {name} <{address}>" if name else f"  {address}")
        if more:
            say(f"  ... and {more:,} more")


@open_app.command("open")
def open_(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="A contact (id, e-mail, name) or an account.")
    ],
    web: Annotated[bool, typer.Option("--web", help="Its website.")] = False,
    mail: Annotated[bool, typer.Option("--mail", help="A mailto: for its e-mail.")] = False,
    call: Annotated[bool, typer.Option("--call", help="A tel: for its phone.")] = False,
    map_: Annotated[bool, typer.Option("--map", help="Its address on a map.")] = False,
) -> None:
    """Open a contact's or an account's website, e-mail, phone or address.

    With no option: the first of website, e-mail, phone, address it has. REF
    is looked up as a contact first, then as an account. A contact's website is
    its first URL, else its account's. The desktop's opener runs (xdg-open; open
    on macOS); with none, or when stdout is not a terminal, the URL is printed.

    Examples:

    \b
      crm open Acme
      crm open jane@acme.example --mail
      crm open 'Jane Q. Doe' --map
    """
    from crmcli.store import opening

    chosen = [name for name, flag in (("web", web), ("mail", mail), ("call", call),
                                      ("map", map_)) if flag]  # fmt: skip
    if len(chosen) > 1:
        raise InvalidValue("give one of --web, --mail, --call, --map")
    with o.session(ctx, write=False) as conn:
        url = opening.url(conn, ref, chosen[0] if chosen else None)
    _open(url)


def _open(url: str) -> None:
    import shutil
    import subprocess

    from crmcli import render

    opener = shutil.which("open" if sys.platform == "darwin" else "xdg-open")
    if opener is None or not render.on_terminal():
        render.data_writer()(url + "\n")
        return
    try:
        code = subprocess.call([opener, url], stdin=subprocess.DEVNULL)
    except OSError as exc:
        code = exc.strerror
    if code != 0:
        raise Refused(f"{opener} could not open {url} (exit {code})")
