"""crm export and crm import: everything out, to stdout or atomically to a file; and in."""

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated, Literal

import typer

from crmcli.cli import options as o
from crmcli.errors import InvalidValue, OutputClosed, Refused
from crmcli.words import counted

export_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)
import_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

Kind = Literal["accounts", "contacts", "deals", "activities", "tasks"]


@export_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        Literal["json", "jsonl", "csv", "tsv", "vcf"],
        typer.Option("--format", "-f", help="json (a full backup), jsonl, csv, tsv or vcf."),
    ] = "json",
    kind: Annotated[
        Kind | None,
        typer.Option("--kind", "-k", help="Only this kind (csv/tsv: default contacts)."),
    ] = None,
    output: o.OutputOpt = None,
    vcard_version: Annotated[
        Literal["4.0", "3.0"], typer.Option("--vcard-version", help="vCard 4.0 or 3.0.")
    ] = "4.0",
    bom: Annotated[
        bool,
        typer.Option(
            "--bom",
            "--excel",
            help="CSV/TSV: begin with a UTF-8 byte-order mark, so Excel reads UTF-8.",
        ),
    ] = False,
) -> None:
    """Export records: JSON is a full backup of every kind that `crm import` restores.

    CSV/TSV hold one kind with the field names import reads; cells a spreadsheet
    would run as a formula (=, +, -, @, tab, CR) or starting with ' get a ' in
    front, which import takes off again. TSV writes backslash, tab, LF and CR in
    values as \\\\, \\t, \\n, \\r, so each record is one line; import reads them back
    in a file with this header (another program's TSV keeps its backslashes; see
    crm import -h). vcf writes contacts as vCards, --kind accounts accounts as
    KIND:org cards (3.0: X-ABShowAs:COMPANY). On a terminal, control characters
    are shown escaped.

    Examples:

    \b
      crm export -o backup.json
      crm export -f vcf --vcard-version 3.0 > contacts.vcf
      crm export -f csv --kind deals -o deals.csv
    """
    from crmcli import export as writers
    from crmcli.store import common

    if fmt == "vcf" and kind not in (None, "contacts", "accounts"):
        raise InvalidValue("vCards hold contacts or accounts (--kind accounts: KIND:org cards)")
    if bom and fmt not in ("csv", "tsv"):
        raise InvalidValue("--bom (--excel) is for CSV and TSV")
    kinds = (kind,) if kind else writers.KINDS
    with o.session(ctx, write=False) as conn, _target(output, ctx, conn) as out:
        if fmt == "json":
            count = writers.write_json(conn, out, kinds, common.now())
        elif fmt == "jsonl":
            count = writers.write_jsonl(conn, out, kinds)
        elif fmt == "vcf":
            count = writers.write_vcf(conn, out, vcard_version, kind or "contacts")
        else:
            if bom:
                out.write("\ufeff")  # what Excel looks for; crm import drops it
            count = writers.write_csv(conn, out, kind or "contacts", "," if fmt == "csv" else "\t")
    from crmcli.render import escape

    where = f" to {escape(str(output))}" if output else ""
    print(f"exported {counted(count, 'record')}{where}", file=sys.stderr)


@contextmanager
def _target(path: Path | None, ctx: typer.Context, conn) -> Iterator:
    """stdout, or FILE: never the database itself or SQLite's files beside it.

    A regular file (or a new one) is written as a temporary file beside it, renamed
    over it only when complete (and only if what was read is consistent); a symlink
    is followed and its target replaced that way (beside the target, so on the
    target's file system); a FIFO or a character device (`/dev/stdout` to a pipe,
    `/dev/fd/N`) is written straight into. SIGTERM, SIGHUP and Ctrl-C remove the
    temporary file. Failing to write is a plain error, exit 1.
    """
    if path is None:
        from crmcli.render import Stdout  # exact to a pipe, escaped on a terminal

        yield Stdout()
        return
    from crmcli import db, files

    path = path.expanduser()
    mode = files.destination(db.resolve_path(o.settings(ctx).db), path)
    if not stat.S_ISREG(mode):  # a FIFO or a device
        yield from _straight_into(path)
        return
    real = Path(os.path.realpath(path))
    with files.replacing(real, path, before=lambda: db.unchanged(conn)) as file:
        yield file


def _straight_into(real: Path) -> Iterator:
    """A FIFO or a device, opened as it is (no temporary file, nothing replaced)."""
    try:
        fd = os.open(real, os.O_WRONLY)  # a FIFO waits here for its reader, as `>` does
    except OSError as exc:
        raise Refused(f"cannot write {real}: {exc.strerror}") from None
    file = os.fdopen(fd, "w", encoding="utf-8", newline="")
    try:
        from crmcli.render import data_file

        yield data_file(file)  # -o /dev/tty is a terminal too: render decides
        file.flush()
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as exc:  # a full disk or device (/dev/full)
        raise Refused(f"cannot write {real}: {exc.strerror}") from None
    finally:
        with suppress(OSError):  # the reader left, or the device is full: nowhere to go
            file.close()


@import_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE|-", help="The file to read; - is stdin.")],
    fmt: Annotated[
        Literal["json", "jsonl", "csv", "tsv", "vcf"] | None,
        typer.Option(
            "--format", "-f", help="json, jsonl, csv, tsv or vcf (default: from the name)."
        ),
    ] = None,
    kind: Annotated[
        Kind,
        typer.Option("--kind", "-k", help="What a CSV/TSV or plain JSON list holds."),
    ] = "contacts",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", metavar="COLUMN=FIELD", help="Read a CSV column as this field."),
    ] = None,
    on_conflict: Annotated[
        Literal["error", "skip", "update"],
        typer.Option("--on-conflict", help="A record already stored: error, skip or update."),
    ] = "error",
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check and report; write nothing. Shows how each column or property is"
            " read and the first records as they would be stored.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="The --dry-run preview as JSON (on stdout).")
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Import every valid record (still one operation, undone whole by crm undo);"
            " leave out the rest and count them.",
        ),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="With --skip-invalid: write the records left out to FILE (0600, replaced"
            " whole), as they were, each with its reason.",
        ),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="The file's encoding (default UTF-8).")
    ] = None,
    date_order: Annotated[
        Literal["mdy", "dmy"] | None,
        typer.Option(
            "--date-order",
            help="CSV/TSV dates like 04/05/1990: month first (mdy) or day first (dmy)"
            " (default: Outlook's files mdy; elsewhere one that could be either refuses"
            " the file).",
            show_default=False,
        ),
    ] = None,
    tsv_escapes: Annotated[
        bool | None,
        typer.Option(
            "--tsv-escapes/--no-tsv-escapes",
            help="Read \\t \\n \\r \\\\ in TSV cells as tab, LF, CR, backslash"
            " (default: only if the header is crm's own).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import records, all or nothing: one bad record rejects the file, listed by line.

    --skip-invalid imports the valid records and leaves out the others (a value
    refused, a conflict under --on-conflict error, a link to no record), listing
    the first 20 reasons; a file that cannot be read on (a quote never closed, a
    broken JSON) is still refused whole. --rejects FILE writes those records as
    they were: a CSV/TSV with the file's header and a crm_rejected column, vCards
    each with an X-CRM-REJECTED property, JSON or JSONL records as JSONL lines
    with a "crm_rejected" key: fix them and import FILE again. FILE is written
    every time (only the header when nothing was left out) but not by --dry-run.
    The exit code is 0 when the import was written, records left out or not: the
    summary counts them (imported 10 contacts, rejected 2).

    Reads crm's own JSON/JSONL export, CSV/TSV (Google, Outlook, Thunderbird, Apple,
    Salesforce, HubSpot, Zoho and LinkedIn column names are recognised; --map for
    others) and vCards (2.1/3.0/4.0: a KIND:org card is an account, a KIND:group card
    tags the members the file holds, properties crm has no field for are kept and
    exported again). A company column creates or reuses the account. A .csv may use
    , ; or tab, and a preamble before its header (LinkedIn's Notes:) is skipped. Another
    program's ids (ID, Record ID, Contact ID) are kept as the custom field source_id
    (and the column's name as source_id_column), which finds the record when that
    source is imported again: a stored record whose source_id came from a column of
    that name and that shares an e-mail, the name or a phone with the row (another
    file's ID 1 is another person); crm ids are read only from a file whose columns
    are all crm's field names. The same person twice in another program's CSV (same
    e-mail) is one contact when the names agree (equal, one row without a name, or
    one name's words in the other's: Ann and Ann Lee, Annie and Ann Lee), else the
    later row is a conflict. A vCard's UID (kept as the custom field uid) finds the
    contact or account that has it before its e-mails do. CSV/TSV: the ' that crm's export
    puts before a formula cell is taken off. TSV: a file whose header is exactly the
    one crm writes (crm export -f tsv, crm list KIND -f tsv) has crm's escapes, so
    \\t, \\n, \\r and \\\\ are read as tab, LF, CR and backslash; in any other TSV a
    backslash is kept as it is (C:\\temp\\new), unless --tsv-escapes says otherwise.
    Timestamps (created_at, updated_at, done_at) are ISO 8601 date-times
    (2026-01-31T09:00:00Z, 2026-01-31 10:00:00+01:00, 2026-01-31T09:00:00.5Z),
    stored in UTC to the second (one without an offset is taken as UTC); an
    activity's at may also be a date or YYYY-MM-DD HH:MM in local time, and due and
    close_date are YYYY-MM-DD: anything else rejects the file.

    Examples:

    \b
      crm import backup.json
      crm import contacts.csv --dry-run
      crm import google.csv --skip-invalid --rejects rejects.csv
    """
    from crmcli import config, formats, workers
    from crmcli.formats import backup, table, vcard
    from crmcli.formats import rejects as rejects_file
    from crmcli.store import history, imports

    fmt = fmt or formats.FORMATS.get(Path(file).suffix.lower())
    if fmt is None:
        raise InvalidValue(f"cannot tell the format of {file!r}: add --format")
    if rejects is not None and not skip_invalid:
        raise InvalidValue("--rejects FILE is for --skip-invalid: it lists the records left out")
    if as_json and not dry_run:
        raise InvalidValue("--json is for --dry-run's preview")
    if rejects is not None:
        rejects = rejects.expanduser()
        if file != "-" and _same_file(Path(file).expanduser(), rejects):
            raise InvalidValue(f"--rejects {rejects} is the file being imported; choose another")
    if tsv_escapes is not None and fmt != "tsv":
        raise InvalidValue("--tsv-escapes and --no-tsv-escapes are for TSV files")
    if date_order is not None and fmt not in ("csv", "tsv"):
        raise InvalidValue("--date-order is for CSV and TSV files")
    # Read as it comes, as often as a reader needs (stdin, a pipe or a FIFO copied to
    # an unnamed temporary file first): memory follows a record, not the file.
    text = formats.Source.open(file, encoding)
    ctx.call_on_close(text.close)
    if fmt == "json":
        items = backup.read_json(text, kind)
    elif fmt == "jsonl":
        items = backup.read_jsonl(text, kind)
    elif fmt == "vcf":
        items = vcard.read_vcf(text)
        if kind == "accounts":  # a person's card (KIND:individual): a person account
            items = vcard.person_accounts(items)
    else:
        delimiter = None if fmt == "csv" else "\t"  # a .csv's: `,` `;` or tab, as it is
        items = table.read_csv(text, kind, delimiter, mapping or [], tsv_escapes, date_order)
    items = rejects_file.without_reasons(items, fmt, text)  # a rejects file, fixed
    settings = config.load()
    if sys.stderr.isatty():
        items = _progress(items, text)
    tally = None
    if dry_run and fmt == "vcf":  # which properties the cards' records kept as they were
        from crmcli.cli import preview

        items = tally = preview.Properties(items, text)
    # A big file is checked in a second process, started before the database is open
    # (not a vCard preview's: it counts the records here).
    size = 0 if tally is not None else text.size
    first = _First()
    with (
        _fewer_collections(),
        workers.checking(items, settings, size) as checked,
        o.session(ctx, write=True) as conn,
    ):
        if rejects is not None:
            checked = first.noted(checked)
        report = imports.import_records(
            conn, checked, on_conflict=on_conflict, dry_run=dry_run,
            merge_repeats=fmt in ("csv", "tsv"),  # the same person twice: one contact
            skip_invalid=skip_invalid,
        )  # fmt: skip
        history.describe(conn, report.summary())
        if rejects is not None and not dry_run:
            # Inside the transaction: if FILE cannot be written, nothing is imported.
            with _target(rejects, ctx, conn) as out:
                rejects_file.write(out, fmt, text, report.rejected, kind=kind, first=first.where)
    if dry_run:
        from crmcli.cli import preview

        columns = None
        if fmt in ("csv", "tsv"):
            header = table.read_header(text, None if fmt == "csv" else "\t")
            columns = table.describe(header, kind, mapping or [])
        preview.show(report, columns, tally, as_json)
    prefix = "dry run, nothing written: would have " if dry_run else ""
    summary = report.summary()
    if report.rejected and rejects is not None and not dry_run:
        from crmcli.render import escape

        summary += f" (see {escape(str(rejects))})"
    print(prefix + summary, file=sys.stderr)
    if report.rejected and (rejects is None or dry_run):
        _list_rejected(report.rejected)


class _First:
    """Where the first record read was (a CSV's header is the row before it)."""

    where: str | None = None

    def noted(self, checked):
        checked = iter(checked)
        for entry in checked:
            self.where = entry[0]
            yield entry
            break
        yield from checked


def _list_rejected(rejected: list[tuple[str, str]], most: int = 20) -> None:
    """The first reasons, as an import refused whole lists its problems."""
    from crmcli.render import escape

    for where, reason in rejected[:most]:
        print(f"  {escape(where)}: {escape(reason)}", file=sys.stderr)
    if len(rejected) > most:
        print(f"  ... and {len(rejected) - most:,} more", file=sys.stderr)


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return os.path.realpath(one) == os.path.realpath(other)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A million records make millions of short-lived objects: collect them less
    often, and never rescan what start-up made (5-8% of a big import's time)."""
    import gc

    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _progress(items, source, every: int = 2000):
    """A progress line on the terminal (stderr) while a big file is read in: the
    share of the file's bytes read (by the reading's current pass)."""
    count = 0
    for count, item in enumerate(items, start=1):
        if count % every == 0:
            share = min(99, 100 * source.position // max(source.size, 1))
            print(f"\rimporting: {count:,} records, about {share}%", end="", file=sys.stderr)
        yield item
    if count >= every:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr)

