"""crm export: everything out, to stdout or atomically to a file."""

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from crmcli.cli import options as o
from crmcli.errors import InvalidValue, OutputClosed, Refused

export_app = typer.Typer(rich_markup_mode=None, context_settings=o.CONTEXT)

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
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write FILE (0600), all or nothing."),
    ] = None,
    vcard_version: Annotated[
        Literal["4.0", "3.0"], typer.Option("--vcard-version", help="vCard 4.0 or 3.0.")
    ] = "4.0",
) -> None:
    """Export records: JSON is a full backup of every kind that `crm import` restores.

    CSV/TSV hold one kind with the field names import reads; cells a spreadsheet
    would run as a formula (=, +, -, @) start with '. vcf writes contacts as vCards.
    """
    from crmcli import export as writers
    from crmcli.store import common

    if fmt == "vcf" and kind not in (None, "contacts"):
        raise InvalidValue("vCards hold contacts only")
    kinds = (kind,) if kind else writers.KINDS
    with o.session(ctx, write=False) as conn, _target(output) as out:
        if fmt == "json":
            count = writers.write_json(conn, out, kinds, common.now())
        elif fmt == "jsonl":
            count = writers.write_jsonl(conn, out, kinds)
        elif fmt == "vcf":
            count = writers.write_vcf(conn, out, vcard_version)
        else:
            count = writers.write_csv(conn, out, kind or "contacts", "," if fmt == "csv" else "\t")
    where = f" to {output}" if output else ""
    print(f"exported {count:,} record(s){where}", file=sys.stderr)


@contextmanager
def _target(path: Path | None) -> Iterator:
    """stdout, or a temporary file beside `path` renamed over it only when complete."""
    if path is None:
        yield _Stdout()
        return
    folder = path.expanduser().resolve().parent
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise Refused(f"cannot write in {folder}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class _Stdout:
    """stdout for the writers, with a closed pipe reported our way."""

    def write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
        except BrokenPipeError:
            raise OutputClosed from None
