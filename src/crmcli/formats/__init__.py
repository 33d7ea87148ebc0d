"""File formats, one module each, shared by import, export and sync:
`backup` (crm's JSON and JSONL), `table` (CSV and TSV), `vcard` (vCard 2.1, 3.0
and 4.0, both ways).

Each reader turns a file's text into (where, kind, data) items for
`store.imports`, with `data` keyed by SPEC's field names.
"""

from __future__ import annotations

from crmcli.errors import InvalidValue, Refused

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
PLURAL = {"account": "accounts", "contact": "contacts", "deal": "deals",
          "activity": "activities", "task": "tasks"}  # fmt: skip
FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
           ".vcf": "vcf", ".vcard": "vcf"}  # fmt: skip


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))  # fmt: skip


def decode(data: bytes, encoding: str | None) -> str:
    """Text from bytes: UTF-8 (a BOM is dropped), or UTF-16/32 that starts with its
    byte-order mark (Thunderbird, Excel's "Unicode text"), unless told; never mojibake."""
    codec = encoding or next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8-sig")
    if codec.lower().replace("_", "-") in ("utf-8", "utf8"):
        codec = "utf-8-sig"  # a BOM is no character of the first field
    start = data[:4096]
    if encoding is None and codec == "utf-8-sig" and start.count(0) > len(start) // 4:
        # ASCII in UTF-16 without its mark decodes as UTF-8, a NUL every other byte
        raise Refused(
            "the file looks like UTF-16 without a byte-order mark: say which with"
            " --encoding utf-16-le (or utf-16-be)"
        )
    try:
        return data.decode(codec)
    except LookupError:
        raise InvalidValue(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Refused(
            f"the file is not valid {codec} (byte 0x{data[exc.start]:02x} on line {line});"
            " say which encoding it is with --encoding, e.g. --encoding cp1252"
        ) from None

