"""E-mail messages as crm logs them: one RFC 5322 message, an mbox or a Maildir.

Parsing is the standard library's `email` package with policy `default`; what a
hostile message holds (no headers, broken MIME, bad charsets, control
characters, huge parts) ends as a clean `Message` or a `Unreadable` reason,
never an exception from deep inside the parser.  Attachments are never decoded
or kept: their names are listed at the end of the body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crmcli import models

MESSAGE_MAX = 100 * 1024 * 1024  # bytes of one message read at all (a 50 MB attachment passes)
_CUT_MARK = "\n[… cut here: the body was {size:,} bytes, crm keeps {limit:,}]"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what a body keeps out (\t, \n stay)


class Unreadable(Exception):
    """Not a message crm can log; the text says why."""


@dataclass
class Message:
    message_id: str  # as the message gives it, or `sha256:...` of its content when it has none
    subject: str | None
    at: str | None  # its Date in UTC (`...Z`), None when it has none that parses
    sender: tuple[str, str] | None  # (display name, address)
    recipients: list[tuple[str, str]] = field(default_factory=list)  # To, then Cc
    body: str | None = None
    attachments: list[str] = field(default_factory=list)


one_line = models.one_line


def _valid(text: str) -> str:
    """Text without lone surrogates: the bytes the parser kept as such (it reads
    headers as ASCII) read as UTF-8, as RFC 6532 headers are; what is not UTF-8 `?`."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate no byte stands for
        return text.encode("utf-8", "replace").decode("utf-8")  # surrogates -> ?


# -- reading a file, stdin, a folder -------------------------------------------------


def sources(path: Path | None, stdin) -> tuple[int, Iterator[bytes | Unreadable]]:
    """How many messages, and their raw bytes, in FILE (one message or an mbox), a
    Maildir folder, or stdin (one message, or an mbox when it starts `From `)."""
    import mailbox

    if path is not None and path.is_dir():
        if not ((path / "cur").is_dir() or (path / "new").is_dir()):
            raise Unreadable(f"{path} is a folder but not a Maildir (no cur/ or new/ in it)")
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = sorted(box.keys())
        return len(keys), _messages(box, keys)
    if path is not None and not path.is_file():  # a FIFO: <(...), /dev/stdin
        with open(path, "rb") as file:
            return _stream(file)
    if path is not None:
        with open(path, "rb") as file:
            if file.read(5) != b"From ":
                file.seek(0)
                return 1, iter([_capped(file)])
        box = mailbox.mbox(path, factory=None, create=False)
        keys = box.keys()
        return len(keys), _messages(box, keys)
    return _stream(stdin)


def _stream(file) -> tuple[int, Iterator[bytes | Unreadable]]:
    """A message or an mbox from a pipe: an mbox is spooled to a temporary file."""
    import mailbox
    import shutil
    import tempfile

    start = file.read(5)
    if start != b"From ":
        return 1, iter([start + _capped(file, MESSAGE_MAX - len(start))])
    folder = tempfile.TemporaryDirectory()  # removed when the last message is read
    spool = Path(folder.name) / "stdin.mbox"
    with open(spool, "wb") as out:
        out.write(start)
        shutil.copyfileobj(file, out)
    box = mailbox.mbox(spool, factory=None, create=False)
    keys = box.keys()
    return len(keys), _messages(box, keys, folder)


def _capped(file, limit: int = MESSAGE_MAX) -> bytes:
    data = file.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(f"the message is over {MESSAGE_MAX // 2**20} MB")
    return data


def _messages(box, keys, folder=None) -> Iterator[bytes | Unreadable]:
    try:
        for key in keys:
            try:
                yield box.get_bytes(key)
            except (OSError, KeyError) as exc:  # a Maildir file gone meanwhile
                yield Unreadable(f"message {key}: {exc}")
    finally:
        box.close()
        if folder is not None:
            folder.cleanup()


# -- one message ---------------------------------------------------------------------


def parse(data: bytes) -> Message:
    """The message in `data`; Unreadable when it is none (no headers, over the limit)."""
    if len(data) > MESSAGE_MAX:
        raise Unreadable(f"the message is over {MESSAGE_MAX // 2**20} MB")
    if not data.strip():
        raise Unreadable("the message is empty")
    # The parser takes milliseconds a part: a message of thousands of parts (or
    # multiparts nested a thousand deep) would take minutes; no real one has them.
    if len(_MULTIPART.findall(data)) > PARTS_MAX // 10 or len(_PART.findall(data)) > PARTS_MAX:
        raise Unreadable(f"the message has too many MIME parts (at most {PARTS_MAX:,})")
    # Headers are parsed by pure Python at some microseconds a character.
    end = _HEAD_END.search(data, 0, HEADERS_MAX + 4)
    if (end.start() if end else len(data)) > HEADERS_MAX:
        raise Unreadable(f"the message's headers are over {HEADERS_MAX // 1024} kB")
    from email import policy
    from email.parser import BytesParser

    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        return _read(message, raw_message_id(data))
    except Unreadable:
        raise
    except Exception as exc:  # RecursionError on absurd nesting, parser bugs on junk
        raise Unreadable(f"the message cannot be parsed ({type(exc).__name__})") from None


PARTS_MAX = 1000
HEADERS_MAX = 256 * 1024  # the header block; real ones are a few kB
_PART = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_MULTIPART = re.compile(rb"^content-type:[ \t]*multipart", re.IGNORECASE | re.MULTILINE)
_HEADERS = ("from", "to", "cc", "date", "subject", "message-id")


_HEAD_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def raw_message_id(data: bytes) -> str | None:
    """The Message-ID as the header block has it, unfolded, without parsing the
    message: a message logged before is passed over at once.  The same text as
    the id stored (parse uses this too)."""
    end = _HEAD_END.search(data)
    found = _MESSAGE_ID.search(data, 0, end.start() if end else len(data))
    if found is None:
        return None
    return one_line(found.group(1).decode("utf-8", "replace"))


def _read(message, message_id: str | None) -> Message:
    present = {name.lower() for name, _ in message.raw_items()}
    if not present & set(_HEADERS):
        raise Unreadable("no From, To, Date, Subject or Message-ID header: not an e-mail message")
    sender = _addresses(message, "from")
    recipients = [*_addresses(message, "to"), *_addresses(message, "cc")]
    subject = one_line(_header(message, "subject"))
    at = _date(message)
    body, attachments, size = _content(message)
    if attachments:
        listed = "\n".join(f"- {name}" for name in attachments)
        listed = f"Attachments (not kept):\n{listed}"
        body = f"{body}\n\n{listed}" if body else listed
    body = cut(models.nfc(body), size=size) if body else None
    if message_id is None:  # the same content gives the same id: logging it again is seen
        digest = hashlib.sha256(
            "\x00".join(
                [at or "", sender[0][1] if sender else "", subject or "", body or ""]
            ).encode("utf-8", "replace")
        ).hexdigest()
        message_id = f"sha256:{digest[:40]}"
    return Message(
        message_id=message_id,
        subject=subject,
        at=at,
        sender=sender[0] if sender else None,
        recipients=recipients,
        body=body,
        attachments=attachments,
    )


def _header(message, name: str) -> str | None:
    """A header's decoded value (encoded words read), or its raw text if that fails."""
    try:
        value = message[name]
        return None if value is None else str(value)
    except Exception:  # a header the registry cannot parse: the raw text, undecoded
        for raw_name, raw in message.raw_items():
            if raw_name.lower() == name:
                return str(raw)
        return None


def _addresses(message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header; malformed ones dropped."""
    found = []
    try:
        headers = message.get_all(name) or []
        groups = [address for header in headers for address in header.addresses]
    except Exception:
        from email.utils import getaddresses

        raw = [str(value) for key, value in message.raw_items() if key.lower() == name]
        groups = [_Pair(*pair) for pair in getaddresses(raw)]
    for address in groups:
        spec = one_line(_valid(address.addr_spec), models.EMAIL_MAX) or ""
        if "@" not in spec or " " in spec or spec.startswith("@") or spec.endswith("@"):
            continue
        found.append((one_line(_valid(address.display_name)) or "", spec))
    return found


@dataclass
class _Pair:
    display_name: str
    addr_spec: str


def _date(message) -> str | None:
    try:
        header = message["date"]
        moment = getattr(header, "datetime", None)
        if moment is None:
            return None
        if moment.tzinfo is None:  # `-0000`: the zone is unknown; RFC 5322 says UTC
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except Exception:  # no date that parses, or out of range
        return None


def _content(message) -> tuple[str | None, list[str], int | None]:
    """The readable text (text/plain, else HTML made text), the attachments' names,
    and the text's size in bytes when it was over READ_MAX characters (then only
    that much is read: the rest would be cut anyway, and HTML is made text at about
    a microsecond a character, so a 50 MB part would take a minute)."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    kind = (part or message).get_content_type()
    if part is None and not message.is_multipart() and kind.startswith("text/"):
        part = message  # a text/* type that is neither plain nor html (text/enriched...)
    text = size = None
    if part is not None:
        text = _text(part)
        if text is not None and len(text) > READ_MAX:
            size, text = len(text.encode("utf-8", "replace")), text[:READ_MAX]
        if text is not None and kind == "text/html":
            text = html_text(text)
        text = trim_reply(text) if text else None
    return text, _attachments(message, part), size


READ_MAX = 2 * models.TEXT_MAX_BYTES  # characters of a body read (see _content)


def _text(part) -> str | None:
    try:
        content = part.get_content()
    except Exception:  # an unknown or lying charset: the bytes as UTF-8, else Latin-1
        raw = part.get_payload(decode=True) or b""
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            content = raw.decode("latin-1")
    if not isinstance(content, str):
        return None
    content = _CONTROL.sub("", _valid(content).replace("\r\n", "\n").replace("\r", "\n"))
    return content.strip("\n") or None


def _attachments(message, body) -> list[str]:
    names = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        disposition = part.get_content_disposition()
        if (
            filename is None
            and disposition != "attachment"
            and part.get_content_maintype() == "text"
        ):
            continue  # the other alternative of the body (its HTML)
        kind = part.get_content_type()
        names.append(f"{one_line(filename, 200) or 'unnamed'} ({kind})")
    return names


def cut(text: str, limit: int = models.TEXT_MAX_BYTES, size: int | None = None) -> str:
    """`text` within `limit` bytes of UTF-8, a marker saying what was cut; `size`:
    the whole text's, when `text` is already only its beginning (marked then too)."""
    data = text.encode("utf-8")
    if len(data) <= limit and size is None:
        return text
    mark = _CUT_MARK.format(size=size or len(data), limit=limit)
    room = limit - len(mark.encode("utf-8"))
    return data[:room].decode("utf-8", "ignore") + mark


# -- replies and signatures ----------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^(On |Le |Am |El |Il |Op ).{0,300}(wrote|écrit|schrieb|escribió|scritto|schreef)\s?:$"
)
_FORWARDED = re.compile(r"^(-{3,}\s*Original Message\s*-{3,}|_{20,})$", re.IGNORECASE)


def trim_reply(text: str) -> str:
    """The new part of a message: each block of quoted (`>`) lines becomes one
    `[… N quoted lines]` line (with the `On ... wrote:` line before it), the
    signature (from a `-- ` line) and an Outlook-style quoted original
    (`-----Original Message-----`) go.  A message that is all quote stays whole."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _FORWARDED.match(line.strip()) and index > 0:
            lines = [*lines[:index], "[… the earlier messages below it trimmed]"]
            break
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] in ("-- ", "--"):
            lines = lines[:index]
            break
    kept: list[str] = []
    quoted = 0
    for line in [*lines, ""]:
        if line.startswith(">"):
            quoted += 1
            continue
        if quoted:
            while kept and not kept[-1].strip():
                kept.pop()
            if kept and _ATTRIBUTION.match(kept[-1].strip()):
                kept.pop()
                while kept and not kept[-1].strip():
                    kept.pop()
            kept.append(f"[… {quoted} quoted line{'s' if quoted > 1 else ''}]")
            quoted = 0
        kept.append(line)
    result = "\n".join(kept).strip("\n")
    new = [line for line in kept if line.strip() and not line.startswith("[… ")]
    return result if new else text


# -- HTML ----------------------------------------------------------------------------

_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul",
           "ol", "blockquote", "pre", "hr", "section", "article", "header", "footer"}  # fmt: skip
_HIDDEN = {"script", "style", "head", "title", "template", "noscript"}


def html_text(html: str) -> str:
    """HTML made readable: text with line breaks at blocks, links as `text <url>`,
    blockquotes as `>` lines, scripts and styles dropped."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.out: list[str] = []
            self.hidden = 0
            self.quote = 0
            self.pre = 0
            self.href: list[str | None] = []

        def handle_starttag(self, tag, attrs):
            if tag in _HIDDEN:
                self.hidden += 1
            elif tag in _BLOCKS:
                self.out.append("\n")
                if tag == "li":
                    self.out.append("- ")
            if tag == "blockquote":
                self.quote += 1
            if tag == "pre":
                self.pre += 1
            if tag == "a":
                self.href.append(dict(attrs).get("href"))

        def handle_endtag(self, tag):
            if tag in _HIDDEN:
                self.hidden = max(0, self.hidden - 1)
            elif tag in _BLOCKS:
                self.out.append("\n")
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            if tag == "a" and self.href:
                href = self.href.pop()
                if href and href.startswith(("http:", "https:")) and href not in self.out[-1:]:
                    self.out.append(f" <{href}>")

        def handle_data(self, data):
            if self.hidden:
                return
            text = data if self.pre else re.sub(r"\s+", " ", data)
            if self.quote:
                text = text.replace("\n", "\n" + "> " * self.quote)
                if not self.out or self.out[-1].endswith("\n"):
                    text = "> " * self.quote + text.lstrip()
            self.out.append(text)

    reader = Reader()
    try:
        reader.feed(html)
        reader.close()
    except Exception:  # html.parser is lenient; anything else: what was read so far
        pass
    lines = [line.rstrip() for line in "".join(reader.out).split("\n")]
    text = "\n".join(line.lstrip() if not line.lstrip().startswith(">") else line for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
