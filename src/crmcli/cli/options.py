"""What every command shares: option types, the database session, output choice."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from crmcli.cli import complete
from crmcli.errors import InvalidValue, Refused
from crmcli.records import Record

if TYPE_CHECKING:
    import sqlite3

Format = Literal["table", "json", "jsonl", "csv", "tsv", "ids"]  # what crmcli.render writes

CONTEXT = {"help_option_names": ["-h", "--help"]}


class Settings(Record, fields={"db": None}):
    """Root options, kept on the click context for the commands below it."""

    db: str | None


FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="Output format: table, json, jsonl, csv, tsv or ids."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Short for --format json.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the new id.")]
EditQuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the id.")]
TagOpt = Annotated[
    list[str] | None, typer.Option("--tag", "-t", metavar="TAG", help="Add a tag (repeatable).")
]
AddTagOpt = Annotated[
    list[str] | None, typer.Option("--add-tag", metavar="TAG", help="Add a tag (repeatable).")
]
RemoveTagOpt = Annotated[
    list[str] | None,
    typer.Option("--remove-tag", metavar="TAG", help="Remove a tag (repeatable)."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", help="Set a custom field (repeatable)."),
]
UnsetOpt = Annotated[
    list[str] | None,
    typer.Option("--unset", metavar="KEY", help="Remove a custom field (repeatable)."),
]
# Links to other records, completed from the database.
AccountRefOpt = Annotated[
    str | None,
    typer.Option(
        "--account",
        "-a",
        metavar="ACCOUNT",
        help="Account id or name.",
        autocompletion=complete.accounts,
    ),
]
ContactRefOpt = Annotated[
    str | None,
    typer.Option(
        "--contact",
        "-c",
        metavar="CONTACT",
        help="Contact id, e-mail or name.",
        autocompletion=complete.contacts,
    ),
]
DealRefOpt = Annotated[
    str | None,
    typer.Option("--deal", metavar="DEAL", help="Deal id or name.", autocompletion=complete.deals),
]

# Filters every listing takes.
WhereOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        "-w",
        metavar="EXPR",
        help="FIELD=VALUE, FIELD!=VALUE, FIELD~TEXT (contains), FIELD>VALUE, >=, <, <=;"
        " FIELD is a field or a custom field (repeatable: all must hold); a year-less"
        " date (birthday=--04-23) compares the day of the year.",
        autocompletion=complete.fields,
    ),
]
HasTagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", metavar="TAG", help="Only those with this tag (repeatable: all)."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write FILE (0600), all or nothing; a symlink's target, a FIFO or device as is.",
    ),
]
SortOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sort",
        metavar="[-]FIELD",
        help="Order by FIELD (-FIELD: descending; repeatable); names sort naturally: 2 before 10.",
        autocompletion=complete.fields,
    ),
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", "-n", metavar="N", help="At most N rows (a table shows 200 unless told)."
    ),
]
OffsetOpt = Annotated[int, typer.Option("--offset", metavar="N", help="Skip the first N rows.")]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="A,B,C",
        help="The fields a table, CSV or TSV shows, in order.",
        autocompletion=complete.fields,
    ),
]

EditorOpt = Annotated[
    bool,
    typer.Option(
        "--editor",
        help="Edit the whole record in $VISUAL or $EDITOR (also: no change options on a"
        " terminal).",
    ),
]
YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask; required when not on a terminal.")
]

# Address options, shared by accounts and contacts.
StreetOpt = Annotated[str | None, typer.Option("--street", help="Street address.")]
CityOpt = Annotated[str | None, typer.Option("--city", help="City.")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="State, province or region.")]
PostalOpt = Annotated[str | None, typer.Option("--postal-code", help="Postal or ZIP code.")]
CountryOpt = Annotated[str | None, typer.Option("--country", help="Country.")]
DescriptionOpt = Annotated[
    str | None, typer.Option("--description", "-d", help="Free text, several lines allowed.")
]


def settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


@contextmanager
def session(ctx: typer.Context, *, write: bool) -> Iterator["sqlite3.Connection"]:
    """The command's one transaction on the database that --db/CRM_DB names."""
    from crmcli import db

    with db.session(db.resolve_path(settings(ctx).db), write=write) as conn:
        yield conn
    if write:
        COMMITTED.set(True)


# Whether this command's write was committed: an error after it (stdout full) says so.
COMMITTED: ContextVar[bool] = ContextVar("crmcli_committed", default=False)


def given(**values: str | None) -> dict[str, str | None]:
    """The field options the user actually gave."""
    return {key: value for key, value in values.items() if value is not None}


def tag_edit(
    tag: list[str] | None,
    add_tag: list[str] | None,
    remove_tag: list[str] | None,
    set_: list[str] | None,
    unset: list[str] | None,
):
    """The tag and custom-field options of an edit (--tag adds, like --add-tag)."""
    from crmcli import models
    from crmcli.store.common import TagEdit

    return TagEdit(
        add_tags=[*(tag or []), *(add_tag or [])],
        remove_tags=list(remove_tag or []),
        set_fields=models.assignments(set_),
        unset_fields=list(unset or []),
    )


def delete(ctx: typer.Context, noun: str, find, remove, yes: bool, fmt: Format, as_json: bool,
           fields) -> None:  # fmt: skip
    """Look the record up, ask (or need --yes), delete it in its own transaction, report.

    `find(conn)` returns the record; `remove(conn, id)` deletes it and returns it.
    """
    with session(ctx, write=False) as conn:
        record = find(conn)
    confirm(f"Delete {describe(noun, record)}?", yes)
    with session(ctx, write=True) as conn:
        record = remove(conn, str(record["id"]))
    deleted(noun, record, fmt, as_json, fields)


def deleted(noun: str, record: dict, fmt: Format, as_json: bool, fields, note: str = "") -> None:
    """Report a deletion: a line on stderr; the record on stdout only if a format asks."""
    from crmcli import render

    print(f"Deleted {describe(noun, record)}{note}", file=sys.stderr)
    if fmt != "table" or as_json:
        render.record(record, output(fmt, as_json), fields=fields)


def created(record: dict, quiet: bool, fmt: Format, as_json: bool, fields) -> None:
    """What a create (or edit) command prints: the id alone with -q, else the record."""
    from crmcli import render

    if quiet:
        render.new_id(record["id"])
    else:
        render.record(record, output(fmt, as_json), fields=fields)


def describe(noun: str, record: dict) -> str:
    """`account 'Acme' (id 3)`, safe to print."""
    from crmcli import render

    name = record.get("name") or record.get("title") or record.get("summary") or ""
    return f"{noun} {render.quoted(name[:60])} (id {record['id']})"


def filters(where, tag, sort, limit, offset):
    """The listing options as a store Query."""
    from crmcli.store.query import Query

    return Query(
        where=list(where or []),
        tags=list(tag or []),
        sort=list(sort or []),
        limit=limit,
        offset=offset,
    )


def in_editor(ctx: typer.Context, noun: str, find, edit, given: bool) -> None:
    """`crm NOUN edit REF --editor`: the record in the editor, saved as `edit(**options)`."""
    from crmcli.cli import editor

    if given:
        raise InvalidValue("--editor edits the whole record: give no other change options")
    with session(ctx, write=False) as conn:
        record = find(conn)
    editor.edit_record(noun, record, edit)


def merge(ctx: typer.Context, noun: str, keep: str, others: list[str], yes: bool) -> dict:
    """`crm contact|account merge`: say what will move, ask, then merge in one transaction."""
    from crmcli.store import merge as store

    with session(ctx, write=False) as conn:
        keep_id, other_ids = store.resolve(conn, noun, keep, others)
        counts = store.plan(conn, noun, keep_id, other_ids)
    from crmcli.words import counted

    moved = ", ".join(counted(count, what) for what, count in counts.items() if count)
    ids = ", ".join(str(other) for other in other_ids)
    them = f"{noun} id{'s' if len(other_ids) > 1 else ''} {ids}"
    what = f"{them} into id {keep_id}, moving {moved or 'no links'}"
    confirm(f"Merge {what}, and delete {them}?", yes, declined="nothing was merged")
    with session(ctx, write=True) as conn:
        keep_id, other_ids = store.resolve(conn, noun, str(keep_id), [str(i) for i in other_ids])
        if noun == "contact":
            merged = store.merge_contacts(conn, keep_id, other_ids)
        else:
            merged = store.merge_accounts(conn, keep_id, other_ids)
    print(f"Merged {what}", file=sys.stderr)
    return merged


def dupes(groups: list[dict], kind: str, columns: tuple, fmt: Format, as_json: bool) -> None:
    """`crm contact|account dupes`: JSON as the store gives it, a table a row per record."""
    from crmcli import render

    fmt = output(fmt, as_json)
    if fmt in ("json", "jsonl"):
        render.document(groups, fmt)
        return
    rows = [
        {**record, "group": number, "reason": group["reason"]}
        for number, group in enumerate(groups, start=1)
        for record in group[kind]
    ]
    columns = ("group", "reason", *columns)
    render.records(rows, fmt, fields=columns, columns=columns, empty="no likely duplicates")


def output_without_ids(fmt: Format, as_json: bool, command: str) -> Format:
    """The format for a command whose rows have no ids (`crm pipeline`, `crm db info`)."""
    fmt = output(fmt, as_json)
    if fmt == "ids":
        raise InvalidValue(f"{command} has no ids: use --format table, json, jsonl, csv or tsv")
    return fmt


def anything(options: list) -> bool:
    """Whether any of an edit's options was given at all ('' counts: it clears)."""
    return any(option == "" or bool(option) for option in options)


def output(fmt: Format, as_json: bool) -> Format:
    return "json" if as_json else fmt


def on_terminal() -> bool:
    return sys.stdin.isatty()


def ask(question: str, *, required: bool = False, choices: tuple[str, ...] = (),
        check=None) -> str:  # fmt: skip
    """One answer typed on the terminal (stderr shows the question: stdout is data).
    Empty is no answer, unless `required`; with `choices`, one of them (or its first
    letter) is asked for again until given; an answer `check(answer)` refuses (an
    InvalidValue) is asked for again, the reason shown, the answers before it kept."""
    from crmcli import render

    render.before_prompt()  # what was printed so far, before the question
    while True:
        answer = typer.prompt(question, default="", show_default=False, err=True).strip()
        if answer and check:
            try:
                check(answer)
            except InvalidValue as exc:
                print(f"  {exc}", file=sys.stderr)
                continue
        if choices:
            found = [choice for choice in choices if answer.lower() in (choice, choice[:1])]
            if found:
                return found[0]
            print(f"Please answer {', '.join(choices)}.", file=sys.stderr)
        elif answer or not required:
            return answer


def email(answer: str) -> None:
    """ask's check for a [LABEL:]ADDR, as --email reads it."""
    from crmcli import models

    models.email(models.labelled(answer)[1])


def phone(answer: str) -> None:
    """ask's check for a [LABEL:]NUMBER, as --phone reads it."""
    from crmcli import models

    models.phone(models.labelled(answer)[1])


def account(ctx: typer.Context):
    """ask's check for an account's id or name: one that is there (a database not
    there yet is left for the command to report)."""

    def check(answer: str) -> None:
        from crmcli.errors import CrmError, ReferenceError_
        from crmcli.store import refs

        try:
            with session(ctx, write=False) as conn:
                refs.account_id(conn, answer)
        except ReferenceError_ as exc:
            raise InvalidValue(str(exc)) from None
        except CrmError:
            pass

    return check


def confirm(question: str, yes: bool, declined: str = "nothing was deleted") -> None:
    """Ask on a terminal; without one, --yes must say it (SPEC: exit 2 otherwise).

    No for an answer is a refusal (exit 1, `Error: declined; ...`, as SPEC has
    every failure), so that `crm contact delete X && ...` does not go on as if
    it were gone."""
    if yes:
        return
    if not on_terminal():
        raise InvalidValue("not on a terminal: add --yes to confirm")
    from crmcli import render

    render.before_prompt()  # what was printed so far, before the question
    if not typer.confirm(question, default=False, err=True):
        raise Refused(f"declined; {declined}")
