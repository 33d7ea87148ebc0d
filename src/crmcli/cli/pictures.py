"""A contact's photo and an account's logo on the command line: read from a file
(--photo/--logo), written out (crm contact photo, crm account logo)."""

import os
import stat
import sys
from pathlib import Path
from typing import Annotated

import typer

from crmcli.cli import options as o
from crmcli.errors import CrmError, InvalidValue, OutputClosed, Refused

_FORMATS = "JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC or AVIF, at most 2,000,000 bytes"
PhotoOpt = Annotated[
    Path | None, typer.Option("--photo", metavar="FILE", help=f"A photo: {_FORMATS}.")
]
NoPhotoOpt = Annotated[bool, typer.Option("--no-photo", help="Remove the photo.")]
LogoOpt = Annotated[
    Path | None, typer.Option("--logo", metavar="FILE", help=f"A logo: {_FORMATS}.")
]
NoLogoOpt = Annotated[bool, typer.Option("--no-logo", help="Remove the logo.")]


def read(path: Path | None, what: str):
    """The image in FILE, checked (store.photos.checked), or None if none is given.

    A file past the limit is refused by its size, unread."""
    if path is None:
        return None
    from crmcli.store import photos

    try:
        with open(path.expanduser(), "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > photos.LIMIT:
                raise Refused(
                    f"{path} is {size:,} bytes: a {what} may have at most {photos.LIMIT:,}"
                )
            data = file.read(photos.LIMIT + 1)  # a FIFO says no size
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror}") from None
    try:
        return photos.checked(data, what=what)
    except CrmError as exc:
        raise type(exc)(f"{path}: {exc.message}") from None


def change(path: Path | None, remove: bool, what: str):
    """What --photo FILE / --no-photo ask for: (picture or None, remove)."""
    if path is not None and remove:
        raise InvalidValue(f"--{what} and --no-{what} cannot be used together")
    return read(path, what), remove


def none_to_remove(ctx: typer.Context, kind: str, ref: str) -> dict | None:
    """An edit whose only change is --no-photo (--no-logo) on an owner with none
    changes nothing (no updated_at, nothing to undo): the record as it is, said so
    on stderr; None when there is one to remove."""
    from crmcli import render
    from crmcli.store import accounts, contacts, photos, refs

    with o.session(ctx, write=False) as conn:
        if kind == "contacts":
            record = contacts.get_contact(conn, refs.contact_id(conn, ref))
        else:
            record = accounts.get_account(conn, refs.account_id(conn, ref))
    what = photos.WHAT[kind]
    if record.get(what) is not None:
        return None
    print(f"{render.quoted(record['name'])} has no {what} to remove: nothing changed",
          file=sys.stderr)  # fmt: skip
    return record


def apply(conn, kind: str, owner_id: int, picture, remove: bool, *, touch: bool = True) -> None:
    """Store or remove the owner's photo (logo); an edit's `touch`es its updated_at.
    Removing one that is not there is no error (the state asked for is reached)."""
    from crmcli.store import common, photos

    if picture is not None:
        photos.put(conn, kind, owner_id, picture)
    elif remove:
        photos.remove(conn, kind, owner_id)
    if touch:
        common.update(conn, kind, owner_id, {})


def write_out(ctx: typer.Context, kind: str, ref: str, output: Path | None) -> None:
    """The bytes of the photo of contact `ref` (kind contacts) or the logo of an
    account: to FILE, or to stdout unless that is a terminal; none stored is exit 1."""
    from crmcli import render
    from crmcli.store import photos, refs

    what = photos.WHAT[kind]
    with o.session(ctx, write=False) as conn:
        owner_id = (refs.contact_id if kind == "contacts" else refs.account_id)(conn, ref)
        picture = photos.get(conn, kind, owner_id)
        name = conn.execute(f"SELECT name FROM {kind} WHERE id = ?", (owner_id,)).fetchone()[0]
    if picture is None:
        raise Refused(f"{render.quoted(name)} has no {what}")
    if output is None:
        if render.on_terminal():
            raise Refused(
                f"the {what} is binary and stdout is a terminal: give -o FILE or redirect"
                f" (> {what}{_extension(picture.media_type)})"
            )
        _to_stdout(picture.data)
    else:
        _to_file(ctx, output, picture.data)
        where = render.escape(str(output))
        print(f"wrote the {what} ({picture.media_type}, {len(picture.data):,} bytes) to {where}",
              file=sys.stderr)  # fmt: skip


def _extension(media_type: str) -> str:
    subtype = media_type.partition("/")[2]
    return "." + {"jpeg": "jpg", "svg+xml": "svg"}.get(subtype, subtype)


def _to_stdout(data: bytes) -> None:
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as exc:
        raise Refused(f"cannot write to stdout: {exc.strerror}") from None


def _to_file(ctx: typer.Context, path: Path, data: bytes) -> None:
    """As `crm export -o` writes: never the database, a regular file replaced whole
    (files.replacing), a FIFO or a character device written straight into."""
    from crmcli import db, files

    path = path.expanduser()
    mode = files.destination(db.resolve_path(o.settings(ctx).db), path)
    if not stat.S_ISREG(mode):  # a FIFO or a device
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError as exc:
            raise Refused(f"cannot write {path}: {exc.strerror}") from None
        try:
            with open(fd, "wb") as file:
                file.write(data)
        except BrokenPipeError:
            raise OutputClosed from None
        except OSError as exc:
            raise Refused(f"cannot write {path}: {exc.strerror}") from None
        return
    with files.replacing(Path(os.path.realpath(path)), path, binary=True) as file:
        file.write(data)
