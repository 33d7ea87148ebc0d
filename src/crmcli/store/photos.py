"""A contact's photo and an account's logo: bytes with their media type.

Kept in tables of their own (migrations.PICTURES: a row an owner, its id the
owner's), never on the row a listing reads; the owner's row carries only
{"media_type", "size"} (its `photo`/`logo` column, kept by triggers).  The
media type is what the bytes' first bytes say, whatever type the file
declares: bytes of a kind not known here are refused, as on the command line.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from crmcli.errors import InvalidValue, Refused
from crmcli.migrations import PICTURES

LIMIT = 2_000_000  # bytes a photo or logo may have
WHAT = {"contacts": "photo", "accounts": "logo"}
KNOWN = "JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC or AVIF"
_TOKEN = re.compile(r"image/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\Z")
_HEIF_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"heim": "image/heic",
                b"heis": "image/heic", b"hevc": "image/heic", b"hevx": "image/heic",
                b"mif1": "image/heif", b"msf1": "image/heif",
                b"avif": "image/avif", b"avis": "image/avif"}  # fmt: skip
_BMP_HEADERS = (12, 40, 52, 56, 64, 108, 124)  # the sizes of BMP's info headers
# Fewer bytes hold no image of any kind known here (a GIF's header, screen
# descriptor and trailer alone are 14).
_SMALLEST = 14


class Picture(NamedTuple):
    media_type: str
    data: bytes

    def shown(self) -> dict:
        """As show and list give it: no bytes."""
        return {"media_type": self.media_type, "size": len(self.data)}

    def exported(self) -> dict:
        """As the JSON backup, JSONL and vCard writers carry it: base64 bytes."""
        import base64

        return {"media_type": self.media_type, "data": base64.b64encode(self.data).decode()}


def sniffed(data: bytes) -> str | None:
    """The media type the bytes' signature says, or None if it is none known here
    (or too short to hold an image: a signature alone is none; a PNG begins with
    its IHDR chunk)."""
    if len(data) < _SMALLEST:
        return None
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADERS:
        return "image/bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if data[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(data[8:12])
    return None


def declared_type(declared: str | None) -> str | None:
    """A declared type as a media type: `image/PNG; q=1` is image/png; vCard 3.0's
    bare `JPEG` (or `jpg`) is image/jpeg.  None if it is not an image type."""
    if not declared or not declared.strip():
        return None
    text = declared.split(";")[0].strip().lower()
    if "/" not in text:
        text = f"image/{text}"
    text = "image/jpeg" if text in ("image/jpg", "image/pjpeg") else text
    return text if _TOKEN.match(text) else None


def checked(data: bytes, declared: str | None = None, *, what: str = "photo") -> Picture:
    """Bytes as a photo (or logo): not empty, at most LIMIT bytes, an image."""
    if not data:
        raise Refused(f"the {what} is empty")
    if len(data) > LIMIT:
        raise Refused(f"the {what} is {len(data):,} bytes: at most {LIMIT:,} are kept")
    media_type = sniffed(data)  # a declared type alone is not enough (SVG is refused)
    if media_type is None:
        said = declared_type(declared)
        also = f", whatever it is declared to be ({said})" if said else ""
        raise Refused(f"the {what} is not an image crm recognises ({KNOWN}){also}")
    return Picture(media_type, data)


def from_record(value: object, *, what: str = "photo") -> Picture | None:
    """A record's `photo`/`logo` as import reads it: {"media_type", "data": base64}
    (or that object as JSON text).  None when there is nothing to store: no value,
    or one without "data" (what show gives, fed back): the stored one stays."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise InvalidValue(
            f'a {what} is {{"media_type": "image/jpeg", "data": "BASE64"}} (got text or a list)'
        )
    data, declared = value.get("data"), value.get("media_type")
    if data is None:
        return None
    if not isinstance(data, str) or not (declared is None or isinstance(declared, str)):
        raise InvalidValue(f"a {what}'s data is base64 text and its media_type text")
    return checked(_decoded(data, what), declared, what=what)


def _decoded(text: str, what: str) -> bytes:
    import base64
    import binascii

    if re.search(r"\s", text):  # folded, as vCards and e-mail carry it
        text = "".join(text.split())
    if len(text) > (LIMIT + 2) // 3 * 4:
        raise Refused(
            f"the {what} is about {len(text) * 3 // 4:,} bytes: at most {LIMIT:,} are kept"
        )
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue(f"the {what}'s data is not valid base64") from None


# -- stored -----------------------------------------------------------------------
# Bytes as bytes even where another program wrote text (sqlite3 would fail to decode it).
_BYTES = "CAST(data AS BLOB)"


def get(conn: sqlite3.Connection, kind: str, owner_id: int) -> Picture | None:
    """The photo of contact `owner_id` (kind "contacts") or logo of an account."""
    row = conn.execute(
        f"SELECT media_type, {_BYTES} FROM {PICTURES[kind][0]} WHERE id = ?", (owner_id,)
    ).fetchone()
    return Picture(*row) if row else None


def put(conn: sqlite3.Connection, kind: str, owner_id: int, picture: Picture) -> None:
    """Store (or replace) the owner's photo or logo, as checked."""
    conn.execute(
        f"INSERT INTO {PICTURES[kind][0]} (id, media_type, data) VALUES (?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET media_type = excluded.media_type, data = excluded.data",
        (owner_id, picture.media_type, picture.data),
    )


def remove(conn: sqlite3.Connection, kind: str, owner_id: int) -> bool:
    """Remove the owner's photo or logo; whether there was one."""
    cursor = conn.execute(f"DELETE FROM {PICTURES[kind][0]} WHERE id = ?", (owner_id,))
    return cursor.rowcount > 0


def in_order(conn: sqlite3.Connection, kind: str) -> Iterator[tuple[int, Picture]]:
    """Every photo (or logo) with its owner's id, in id order: one query for all."""
    cursor = conn.execute(f"SELECT id, media_type, {_BYTES} FROM {PICTURES[kind][0]} ORDER BY id")
    for owner_id, media_type, data in cursor:
        yield owner_id, Picture(media_type, data)


def attach(conn: sqlite3.Connection, kind: str, records: Iterable[dict]) -> Iterator[dict]:
    """Records in increasing id order (an export's), each whose owner has a photo
    (logo) given it as Picture.exported(): read alongside, one at a time, by a
    single query walked in step, not a query a record."""
    key = WHAT[kind]
    pictures = in_order(conn, kind)
    waiting = next(pictures, None)
    for record in records:
        while waiting is not None and waiting[0] < record["id"]:
            waiting = next(pictures, None)
        if waiting is not None and waiting[0] == record["id"]:
            record[key] = waiting[1].exported()
        elif key in record:
            record[key] = None
        yield record
