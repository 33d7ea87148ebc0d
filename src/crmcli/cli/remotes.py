"""crm remote add/list/remove and crm sync: contacts two ways with CardDAV and vdirs."""

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from crmcli import render
from crmcli.cli import options as o
from crmcli.errors import InvalidValue

app = typer.Typer(
    help="Where contacts sync to: CardDAV address books and vdir folders.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=o.CONTEXT,
)
sync_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The remote's name.")]
UrlArg = Annotated[
    str,
    typer.Argument(
        metavar="URL",
        help="http(s):// for CardDAV (a server, an account or the address book itself),"
        " else a vdir folder (made if missing).",
    ),
]
UserOpt = Annotated[str | None, typer.Option("--user", help="CardDAV user name.")]
PasswordCommandOpt = Annotated[
    str | None,
    typer.Option(
        "--password-command",
        metavar="CMD",
        help="A shell command printing the password (its first line), run each sync:"
        " 'pass show dav'.",
    ),
]
PasswordEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--password-env", metavar="VAR", help="The environment variable holding the password."
    ),
]
AddressbookOpt = Annotated[
    str | None,
    typer.Option(
        "--addressbook", metavar="NAME", help="Which address book, when the account has several."
    ),
]
NamesArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="NAME", help="The remotes (default: every one).", show_default=False),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Say what would change; write nothing anywhere.")
]
ConflictOpt = Annotated[
    Literal["error", "local", "remote"],
    typer.Option(
        "--conflict",
        help="A contact changed on both sides: error (default: leave both, list it, exit 1),"
        " local (crm's wins) or remote (the remote's wins).",
    ),
]
ListFormatOpt = Annotated[
    Literal["table", "json", "jsonl", "csv", "tsv"],
    typer.Option("--format", "-f", help="Output format: table, json, jsonl, csv or tsv."),
]
SyncFormatOpt = Annotated[
    Literal["table", "json"], typer.Option("--format", "-f", help="table or json.")
]


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    url: UrlArg,
    user: UserOpt = None,
    password_command: PasswordCommandOpt = None,
    password_env: PasswordEnvOpt = None,
    addressbook: AddressbookOpt = None,
) -> None:
    """Add a remote to sync contacts with: a CardDAV address book or a vdir folder
    (khard, vdirsyncer: one UID.vcf a contact).

    No password is stored: it comes from --password-command (run each sync), from
    --password-env, or from a prompt on a terminal. A CardDAV URL is checked now and
    its address book found (RFC 6764 discovery); the book's URL is what is kept.

    Examples:

    \b
      crm remote add phone https://dav.example.com/ --user jane --password-command 'pass show dav'
      crm remote add laptop ~/.contacts/crm
      crm remote add team https://dav.example.com/ --password-env DAV_PW --addressbook Team
    """
    from crmcli.store import remotes as store
    from crmcli.sync import access

    store.name(name)
    if password_command is not None and password_env is not None:
        raise InvalidValue("--password-command and --password-env cannot be used together")
    row = {
        "name": name,
        "user": user or None,
        "password_command": password_command or None,
        "password_env": password_env or None,
        "addressbook": addressbook,
    }
    if url.lower().startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        if urlsplit(url).password is not None:
            raise InvalidValue("no password in the URL: it would be stored (--password-command)")
        row["kind"] = "carddav"
        from crmcli.sync import carddav

        book = carddav.connect(
            url, user=row["user"], password=access.password(row), addressbook=addressbook
        )
        try:
            row["url"] = book.url
        finally:
            book.close()
    else:
        if addressbook is not None or user is not None:
            raise InvalidValue("--user and --addressbook are for CardDAV (an http(s):// URL)")
        row["kind"], row["url"] = "vdir", _folder(url)
    with o.session(ctx, write=True) as conn:
        found = store.add_remote(conn, row)
    print(
        f"added remote {found['name']} ({found['kind']}: {render.escape(found['url'])})",
        file=sys.stderr,
    )


def _folder(url: str) -> str:
    if url.lower().startswith("file://"):
        url = url[len("file://") :]
    if not url.strip():
        raise InvalidValue("the vdir folder is an empty path")
    folder = Path(url).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise InvalidValue(f"{url} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValue(f"cannot make the folder {url}: {exc.strerror}") from None
    return str(folder)


@app.command("list")
def list_(ctx: typer.Context, fmt: ListFormatOpt = "table", as_json: o.JsonOpt = False) -> None:
    """The remotes, with where each one's password comes from (never a password).

    Examples:

    \b
      crm remote list
      crm remote list --json
    """
    from crmcli.store import remotes as store

    with o.session(ctx, write=False) as conn:
        found = [store.shown(remote) for remote in store.list_remotes(conn)]
    render.records(
        found,
        o.output(fmt, as_json),
        fields=store.FIELDS,
        columns=("name", "kind", "url", "user", "password", "cards", "synced_at"),
        empty="no remotes yet (crm remote add)",
    )


@app.command("remove")
def remove(ctx: typer.Context, name: NameArg) -> None:
    """Forget a remote and what crm knew of its cards; the contacts and the remote's
    cards stay as they are.

    Examples:

    \b
      crm remote remove phone
      crm remote remove laptop
    """
    from crmcli.store import remotes as store

    with o.session(ctx, write=True) as conn:
        found = store.remove_remote(conn, name)
    print(f"removed remote {found['name']}", file=sys.stderr)


_COUNTS = ("created", "updated", "deleted")
SYNC_FIELDS = ("remote", "pulled", "pushed", "conflicts", "problems")


@sync_app.command("sync")
def sync(
    ctx: typer.Context,
    names: NamesArg = None,
    dry_run: DryRunOpt = False,
    conflict: ConflictOpt = "error",
    fmt: SyncFormatOpt = "table",
    as_json: o.JsonOpt = False,
) -> None:
    """Sync contacts both ways with the remotes: what changed on either side since the
    last sync goes to the other (added, edited, deleted).

    Each remote's changes here are one operation in `crm history` (`crm undo` reverts
    them; the next sync sends that on). A contact changed on both sides is a conflict:
    see --conflict; the version that loses stays in the history. A remote that fails
    (down, wrong password) stops its sync where it was, exit 1; the next sync goes on
    from there. Accounts travel as each contact's ORG.

    Examples:

    \b
      crm sync
      crm sync phone --dry-run
      crm sync --conflict remote --json
    """
    from crmcli.store import history
    from crmcli.store import remotes as store
    from crmcli.sync import RemoteError, access, engine

    with o.session(ctx, write=False) as conn:
        wanted = (
            [store.get_remote(conn, name) for name in dict.fromkeys(names)]
            if names
            else store.list_remotes(conn)
        )
    results = []
    for remote_row in wanted:
        try:
            remote = access.open_remote(remote_row)
        except RemoteError as exc:
            results.append(engine.Summary(remote_row["name"], dry_run, error=exc.message))
            continue
        try:
            with o.session(ctx, write=not dry_run) as conn:
                current = store.get_remote(conn, remote_row["name"])
                summary = engine.sync(conn, current, remote, dry_run=dry_run, conflict=conflict)
                if not dry_run:
                    history.describe(conn, f"{current['name']}: {_said(summary)}")
        finally:
            remote.close()
        results.append(summary)
    _report(results, o.output(fmt, as_json) if as_json else fmt)
    if any(summary.failed for summary in results):
        raise typer.Exit(1)


def _done(counts) -> str:
    """`2 created, 1 deleted`, or `nothing`."""
    return ", ".join(f"{counts[what]} {what}" for what in _COUNTS if counts[what]) or "nothing"


def _said(summary) -> str:
    said = f"pulled {_done(summary.pulled)}; pushed {_done(summary.pushed)}"
    if summary.conflicts:
        said += f"; {len(summary.conflicts)} conflict(s)"
    return said


def _report(results: list, fmt: str) -> None:
    if fmt == "json":
        render.data_writer()(render.to_json([summary.as_dict() for summary in results]) + "\n")
    else:
        rows = [
            {"remote": summary.remote, "pulled": _done(summary.pulled),
             "pushed": _done(summary.pushed), "conflicts": len(summary.conflicts),
             "problems": len(summary.problems)}
            for summary in results
        ]  # fmt: skip
        render.records(rows, "table", fields=SYNC_FIELDS, columns=SYNC_FIELDS,
                       empty="no remotes to sync (crm remote add)")  # fmt: skip
    for summary in results:
        name = render.escape(summary.remote)
        for item in summary.conflicts:
            who = f"contact {item['contact']}" + (
                f" {render.escape(str(item['name']))!r}" if item.get("name") else ""
            )
            where = f" ({render.escape(item['href'])})" if item.get("href") else ""
            print(f"{name}: conflict: {who}{where}: {item['why']}", file=sys.stderr)
        for problem in summary.problems:
            print(f"{name}: {render.escape(problem)}", file=sys.stderr)
        if summary.dry_run:
            print(f"{name}: dry run: nothing was written", file=sys.stderr)
        if summary.error is not None:
            print(f"Error: remote {name}: {render.escape(summary.error)}", file=sys.stderr)
