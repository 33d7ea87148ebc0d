"""File formats, one module each, shared by import, export and sync:
`backup` (crm's JSON and JSONL), `table` (CSV and TSV), `vcard` (vCard 2.1, 3.0
and 4.0, both ways).

Each reader turns a file's text into (where, kind, data) items for
`store.imports`, with `data` keyed by SPEC's field names.
"""

from __future__ import annotations

import codecs
import errno
import re
from collections.abc import Iterator

from crmcli.errors import InvalidValue, Refused

KINDS = ("accounts", "contacts", "deals", "activities", "tasks")
PLURAL = {"account": "accounts", "contact": "contacts", "deal": "deals",
          "activity": "activities", "task": "tasks"}  # fmt: skip
FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
           ".vcf": "vcf", ".vcard": "vcf"}  # fmt: skip


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))  # fmt: skip


_NO_BOM = (
    "the file looks like UTF-16 without a byte-order mark: say which with"
    " --encoding utf-16-le (or utf-16-be)"
)


def decode(data: bytes, encoding: str | None) -> str:
    """Text from bytes: UTF-8 (a BOM is dropped), or UTF-16/32 that starts with its
    byte-order mark (Thunderbird, Excel's "Unicode text"), unless told; never mojibake."""
    codec = _codec(data[:4096], encoding)
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


def _codec(start: bytes, encoding: str | None) -> str:
    """The codec of a file that begins with `start` (its first 4 kB)."""
    codec = encoding or next((name for bom, name in _BOMS if start.startswith(bom)), "utf-8-sig")
    if codec.lower().replace("_", "-") in ("utf-8", "utf8"):
        codec = "utf-8-sig"  # a BOM is no character of the first field
    if encoding is None and codec == "utf-8-sig" and start.count(0) > len(start) // 4:
        # ASCII in UTF-16 without its mark decodes as UTF-8, a NUL every other byte
        raise Refused(_NO_BOM)
    return codec


CHUNK = 1 << 20  # bytes decoded at a time
_LINES = {  # a line of each kind of split, or what is left without an ending
    "any": re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z"),  # CSV/TSV: \n, \r\n or \r
    "lf": re.compile(r"[^\n]*\n|[^\n]+\Z"),  # JSONL, vCard in a file with LFs
    "cr": re.compile(r"[^\r]*\r|[^\r]+\Z"),  # vCard in a file with only CRs
}
_ENDED = {"any": ("\n", "\r"), "lf": ("\n",), "cr": ("\r",)}
# Where str.splitlines also splits, and `any` does not.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


class Source:
    """The file being imported (or stdin), read as text a chunk at a time, as often
    as a reader needs: memory follows a line, not the file.

    The codec is chosen as `decode` does (a BOM, UTF-16/32 by theirs, --encoding);
    a regular file is read where it is, anything else (stdin, a pipe, a FIFO) is
    copied once to an unnamed temporary file, so a second pass reads it again.
    `size` is the file's size in bytes; `position` how far the current pass has read.
    """

    def __init__(self, fd: int, size: int, encoding: str | None, name: str):
        self._fd, self.size, self.name, self.position = fd, size, name, 0
        self.codec = self._codec(encoding)

    @classmethod
    def open(cls, file: str, encoding: str | None) -> Source:
        import os
        import stat
        import sys

        try:
            if file == "-" and not _has_fd(sys.stdin):  # stdin replaced (a test's runner)
                spool, size = _spooled(sys.stdin.buffer.read)
                return cls(spool, size, encoding, file)
            fd = sys.stdin.fileno() if file == "-" else _opened(file)
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if stat.S_ISREG(mode) and os.lseek(fd, 0, os.SEEK_CUR) == 0:
                return cls(fd, os.fstat(fd).st_size, encoding, file)
            spool, size = _spooled(lambda most: os.read(fd, most))
            if fd > 2:
                os.close(fd)
        except OSError as exc:
            raise Refused(f"cannot read {file}: {exc.strerror}") from None
        return cls(spool, size, encoding, file)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def of(cls, text: str | Source) -> Source:
        """A Source as it is, or one of text already decoded (what tests hand a reader)."""
        return text if isinstance(text, Source) else _Text(text)

    def _codec(self, encoding: str | None) -> str:
        codec = _codec(self._read(0, 4096), encoding)
        try:
            info = codecs.lookup(codec)
        except LookupError:
            raise InvalidValue(f"unknown encoding {encoding!r}") from None
        if not info._is_text_encoding:  # rot13, base64: bytes.decode refuses them too
            raise InvalidValue(f"unknown encoding {encoding!r}")
        return codec

    def _read(self, at: int, most: int) -> bytes:
        import os

        return os.pread(self._fd, most, at)

    def chunks(self) -> Iterator[str]:
        """The whole text, from the start, in pieces of about CHUNK bytes' worth."""
        decoder = codecs.getincrementaldecoder(self.codec)()
        at = 0
        while True:
            data = self._read(at, CHUNK)
            held = len(decoder.getstate()[0])
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise self._invalid(at - held + exc.start, exc.object[exc.start]) from None
            at += len(data)
            self.position = at
            if text:
                yield text
            if not data:
                return

    def _invalid(self, offset: int, byte: int) -> Refused:
        line, at = 1, 0
        while at < offset:
            data = self._read(at, min(CHUNK, offset - at))
            if not data:
                break
            line += data.count(b"\n")
            at += len(data)
        return Refused(
            f"the file is not valid {self.codec} (byte 0x{byte:02x} on line {line});"
            " say which encoding it is with --encoding, e.g. --encoding cp1252"
        )

    def lines(self, split: str = "any") -> Iterator[str]:
        """Physical lines with their endings: `any` (\\n, \\r\\n or \\r, as csv and the
        rejects file split them), `lf` (\\n only) or `cr` (\\r only); `splitlines`:
        where str.splitlines splits, for what did that to the whole text."""
        line = _LINES.get(split)
        held = ""
        for chunk in self.chunks():
            text = held + chunk if held else chunk
            if line is None or (split == "any" and not _OTHER_BREAKS.search(text)):
                # str.splitlines splits where `any` does when no other break is there.
                parts = text.splitlines(keepends=True)
                held = parts.pop() if parts else ""  # perhaps more of it, or its \n, follows
                yield from parts
                continue
            end, ended = 0, _ENDED[split]
            for match in line.finditer(text):
                if match.end() == len(text) and not (
                    text.endswith(ended) and not (split == "any" and text[-1] == "\r")
                ):
                    break  # the next chunk goes on with this line (or its \r\n's \n)
                end = match.end()
                yield match.group()
            held = text[end:]
        if held:  # the last line, without its ending (or "any"'s held \r)
            yield held

    def text(self) -> str:
        """All of it at once."""
        return "".join(self.chunks())

    def head(self, most: int) -> str:
        """The first `most` characters (fewer in a shorter file)."""
        pieces, count = [], 0
        for chunk in self.chunks():
            pieces.append(chunk)
            count += len(chunk)
            if count >= most:
                break
        return "".join(pieces)[:most]

    def search(self, pattern: re.Pattern, longest: int) -> bool:
        """Whether `pattern` (whose matches are at most `longest` characters) occurs."""
        held = ""
        for chunk in self.chunks():
            text = held + chunk
            if pattern.search(text):
                return True
            held = text[-longest:] if longest else ""
        return False

    def close(self) -> None:
        import os

        if self._fd > 2:
            os.close(self._fd)


class _Text(Source):
    """Text already decoded, read as a Source reads a file."""

    def __init__(self, text: str):
        self._text, self.name, self.codec, self.position = text, "text", "utf-8", 0
        self.size = len(text)

    def chunks(self) -> Iterator[str]:
        self.position = self.size
        if self._text:
            yield self._text

    def close(self) -> None:
        pass


def _opened(file: str) -> int:
    import os
    from pathlib import Path

    return os.open(Path(file).expanduser(), os.O_RDONLY | os.O_CLOEXEC)


def _has_fd(stream) -> bool:
    try:
        stream.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    return True


def _spooled(read) -> tuple[int, int]:
    """A copy of what `read(most)` gives (stdin, a pipe, a FIFO) in an unnamed
    temporary file (gone when closed), and its size: to be read again, not held in
    memory."""
    import os
    import tempfile

    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the Source)
    size = 0
    try:
        while data := read(CHUNK):
            spool.write(data)
            size += len(data)
        spool.flush()
    except BaseException:
        spool.close()
        raise
    copy = os.dup(spool.fileno())
    spool.close()  # the copy keeps the unnamed file open
    return copy, size
