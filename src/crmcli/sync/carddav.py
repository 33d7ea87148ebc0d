"""A CardDAV address book (RFC 6352) as a Remote: discovery, sync-collection, multiget, PUT.

HTTP goes through one httpx Client (timeouts, connection reuse, basic auth); every XML
answer is parsed by the standard library behind defusedxml with DTDs refused, so entity
bombs and external entities never expand. Answers are read as streams under a byte cap,
so a hostile or broken server cannot fill memory; every failure becomes one RemoteError
line naming the host (never the password).

Imported only by the commands that talk to a server: httpx and defusedxml load with it.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeXML

from crmcli import __version__, errors
from crmcli.sync import CardRefused, Changes, Conflict, RemoteError


def _import_httpx():
    """httpx without its command-line tool (httpx._main: click, rich.progress and pygments,
    a third of httpx's import time): a None in sys.modules makes httpx's own guarded
    import of it fail, and is taken out again at once (nothing else is changed)."""
    import sys

    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    blocked = sys.modules.setdefault("httpx._main", None) is None
    try:
        import httpx
    finally:
        if blocked and sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]
    return httpx


httpx = _import_httpx()

DAV = "{DAV:}"
CARD = "{urn:ietf:params:xml:ns:carddav}"

MAX_CARD = 10 * 1024 * 1024  # one card: crm's 2 MB photo as base64, and room to spare
MAX_ANSWER = 64 * 1024 * 1024  # one PROPFIND/REPORT answer; a multiget over it is split
CARD_REFUSED = (400, 413, 415, 422, 507)  # a PUT's statuses that refuse that card alone
MAX_SMALL = 64 * 1024  # the body of an answer crm reads only for its status (PUT, DELETE)
MULTIGET_BATCH = 100  # hrefs per addressbook-multiget
MAX_REDIRECTS = 5
MAX_SYNC_PAGES = 1000  # a server that truncates sync-collection forever is refused
DEADLINE_FACTOR = 10  # one answer may take this many timeouts in all (a trickling server)

VCARD_TYPES = {"text/vcard", "text/x-vcard", "text/directory"}
# RFC 3986 pchar less "%": never percent-encoded in a canonical href
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_DECODE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + _PATH_SAFE.replace("/", "")
)
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_LINE_END = re.compile(r"\r?\n")
_SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._~+=-]{0,199}")

_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop>{}'
    "</D:prop></D:propfind>"
)
_DISCOVERY_PROPS = (
    "<D:resourcetype/><D:displayname/><D:current-user-principal/>"
    "<CR:addressbook-home-set/><D:supported-report-set/>"
)
_INDEX_PROPS = "<D:resourcetype/><D:getetag/><D:getcontenttype/>"
_SYNC = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:sync-collection xmlns:D="DAV:">{token}<D:sync-level>1</D:sync-level>'
    "<D:prop><D:getetag/><D:getcontenttype/></D:prop></D:sync-collection>"
)
_MULTIGET = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<CR:addressbook-multiget xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
    "<D:prop><D:getetag/><CR:address-data/></D:prop>{hrefs}</CR:addressbook-multiget>"
)


class _TooBig(RemoteError):
    """An answer went past its byte cap (a multiget splits its batch; elsewhere it fails)."""


class _Malformed(RemoteError):
    """An answer is not well-formed XML (a multiget splits its batch; elsewhere it fails)."""


def canonical_path(path: str) -> str:
    """One spelling of a URL path: what needs no %-encoding decoded, hex upper-case.

    Servers differ (Radicale sends `a%40b.vcf` for `a@b.vcf`); comparing hrefs in this
    form makes both the same card. `%2F` stays encoded: it is not a path separator.
    """

    def one(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _DECODE else "%" + match.group(1).upper()

    return _PERCENT.sub(one, quote(path, safe=_PATH_SAFE + "%"))


def card_name(uid: str) -> str:
    """The file name a new card gets: `UID.vcf`, or a hash of the UID when that is unsafe."""
    if _SAFE_UID.fullmatch(uid) and ".." not in uid:
        return f"{uid}.vcf"
    return hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()[:40] + ".vcf"


def _one_line(text: object, limit: int = 200) -> str:
    """Server or library text made safe for a one-line message: no control characters."""
    line = "".join(c if c.isprintable() else " " for c in str(text))
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class _Answer:
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    url: httpx.URL


class _Http:
    """The one HTTP client of a CardDAV remote, turning every failure into a RemoteError."""

    def __init__(self, user: str | None, password: str | None, timeout: float, *, secure: bool):
        self.user = user
        self.timeout = timeout
        self.secure = secure  # began with https: never send the password in the clear
        self._auth = httpx.BasicAuth(user, password or "") if user is not None else None
        # TLS (and its CA bundle, a tenth of a second to load) only once it is needed:
        # for https, or a proxy from the environment (it may be https itself)
        self.tls = secure or any(
            os.environ.get(name) for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
        )
        self.client = self._client()

    def _client(self) -> httpx.Client:
        return httpx.Client(
            auth=self._auth,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,  # followed below, with rules of our own
            headers={"User-Agent": f"crm/{__version__}"},
            verify=self.tls,  # False: plain http, no TLS at all
        )

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        limit: int | None = None,
        body_needed: bool = True,
    ) -> _Answer:
        """Send, following a few redirects; read the body up to `limit` bytes.

        Past `limit`: _TooBig, or, when only the status matters, the rest is left unread.
        """
        target = httpx.URL(url)
        limit = MAX_ANSWER if limit is None else limit
        for _hop in range(MAX_REDIRECTS + 1):
            if self.secure and target.scheme != "https":
                raise RemoteError(
                    f"refused to go on from https to plain http ({host_of(target)}):"
                    " the password would travel unencrypted"
                )
            if target.scheme == "https" and not self.tls:  # plain http redirected to https
                self.client.close()
                self.tls = True
                self.client = self._client()
            try:
                request = self.client.build_request(method, target, content=body, headers=headers)
                response = self.client.send(request, stream=True)
                try:
                    location = response.headers.get("Location")
                    if response.is_redirect and location:
                        target = self._redirect(target, location)
                        continue
                    data = self._read(response, limit, body_needed, f"{method} {_path(target)}")
                finally:
                    response.close()
            except httpx.HTTPError as exc:
                raise self._failure(exc, target) from None
            except (UnicodeError, ValueError) as exc:  # a server's ETag or href unfit to send
                raise RemoteError(
                    f"cannot send {method} {_path(target)} to {host_of(target)}: {_one_line(exc)}"
                ) from None
            return _Answer(
                response.status_code, response.reason_phrase, response.headers, data, target
            )
        raise RemoteError(f"{host_of(url)} redirects {method} {_path(url)} in a loop")

    def _redirect(self, origin: httpx.URL, location: str) -> httpx.URL:
        try:
            target = origin.join(location)
        except httpx.InvalidURL:
            raise RemoteError(f"{host_of(origin)} redirects to a bad URL") from None
        if target.scheme not in ("http", "https"):
            raise RemoteError(f"{host_of(origin)} redirects to a non-http URL")
        return target.copy_with(userinfo=b"")  # crm's own credentials, or none

    def _read(self, response: httpx.Response, limit: int, body_needed: bool, what: str) -> bytes:
        too_big = _TooBig(
            f"{host_of(response.url)} answered {what} with more than {limit:,} bytes: refused"
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit and body_needed:
            raise too_big
        deadline = time.monotonic() + self.timeout * DEADLINE_FACTOR
        chunks = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                if body_needed:
                    raise too_big
                break
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took too long")
            chunks.append(chunk)
        return b"".join(chunks)

    def _failure(self, exc: httpx.HTTPError, url: httpx.URL) -> RemoteError:
        host = host_of(url)
        if isinstance(exc, httpx.TimeoutException):
            return RemoteError(f"{host} did not answer within {self.timeout:g} s")
        if isinstance(exc, httpx.ConnectError):
            return RemoteError(_connect_failure(_root_cause(exc), url))
        for kind, message in _SEND_FAILURES:
            if isinstance(exc, kind):
                return RemoteError(
                    message.format(host=host, url=_safe_url(url), exc=_one_line(exc))
                )
        return RemoteError(f"{host}: {_one_line(exc)}")

    def refused(self, answer: _Answer, method: str) -> RemoteError:
        """The RemoteError for an answer with an unexpected status."""
        host = host_of(answer.url)
        status = f"{answer.status} {_one_line(answer.reason, 60)}".strip()
        if answer.status == 401:
            if self.user is None:
                return RemoteError(f"{host} asks for a user name and password (give --user)")
            return RemoteError(f"authentication failed for {_one_line(self.user, 80)} at {host}")
        if answer.status == 403:
            who = _one_line(self.user, 80) if self.user is not None else "anonymous"
            return RemoteError(
                f"access refused for {who} at {host}: {method} {_path(answer.url)} ({status})"
            )
        if answer.status >= 500:
            return RemoteError(f"{host} failed: {status} on {method} {_path(answer.url)}")
        return RemoteError(f"{host} refused {method} {_path(answer.url)}: {status}")


_SEND_FAILURES = (
    (httpx.UnsupportedProtocol | httpx.InvalidURL, "not an http(s) URL: {url}"),
    (httpx.LocalProtocolError, "cannot send a request to {host}: {exc}"),
    (httpx.DecodingError, "{host} sent a body that cannot be decoded"),
    (httpx.TransportError, "the connection to {host} dropped: {exc}"),
)


def _connect_failure(cause: BaseException, url: httpx.URL) -> str:
    host = host_of(url)
    if isinstance(cause, ssl.SSLError):
        reason = getattr(cause, "verify_message", None) or cause.reason or cause
        return f"TLS failed with {host}: {_one_line(reason)}"
    if isinstance(cause, socket.gaierror):
        return f"cannot find the host {_one_line(url.host, 100)}: {_one_line(cause.strerror)}"
    why = "connection refused" if isinstance(cause, ConnectionRefusedError) else _one_line(cause)
    return f"cannot connect to {host}: {why}"


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _netloc(url: str | httpx.URL) -> str:
    """`host`, `host:port` or `[v6]:port` of a URL, without any user or password."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:  # a port that is not a number
        return host


def host_of(url: str | httpx.URL) -> str:
    """The server a message names (never a user or password)."""
    return _one_line(_netloc(url) or "?", 100)


def _safe_url(url: str | httpx.URL) -> str:
    parts = urlsplit(str(url))
    return urlunsplit((parts.scheme, _netloc(url), parts.path, parts.query, ""))


def _path(url: str | httpx.URL) -> str:
    return _one_line(urlsplit(str(url)).path or "/", 120)


# -- XML ------------------------------------------------------------------------------


@dataclass
class _Response:
    """One <response> of a multistatus: its href, its own status, and the props found (200)."""

    href: str
    status: int | None
    props: dict[str, Element]


def _status(text: str | None) -> int | None:
    parts = (text or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _multistatus(answer: _Answer, what: str) -> Element:
    host = host_of(answer.url)
    try:
        root = SafeXML.fromstring(answer.body, forbid_dtd=True)
    except DefusedXmlException:
        raise RemoteError(f"{host} sent XML with a DTD or entities for {what}: refused") from None
    except (ParseError, ValueError) as exc:
        raise _Malformed(f"{host} sent malformed XML for {what}: {_one_line(exc)}") from None
    if root.tag != DAV + "multistatus":
        raise RemoteError(f"{host} gave no WebDAV multistatus for {what}")
    return root


def _responses(root: Element) -> Iterator[_Response]:
    for response in root.iterfind(DAV + "response"):
        href = response.findtext(DAV + "href")
        if not href:
            continue
        props: dict[str, Element] = {}
        for propstat in response.iterfind(DAV + "propstat"):
            if _status(propstat.findtext(DAV + "status")) != 200:
                continue
            for prop in propstat.iterfind(DAV + "prop"):
                for child in prop:
                    props[child.tag] = child
        yield _Response(href.strip(), _status(response.findtext(DAV + "status")), props)


def _hrefs(prop: Element | None) -> list[str]:
    if prop is None:
        return []
    return [h.text.strip() for h in prop.iterfind(DAV + "href") if h.text and h.text.strip()]


def _types(props: dict[str, Element]) -> set[str]:
    kinds = props.get(DAV + "resourcetype")
    return {child.tag for child in kinds} if kinds is not None else set()


def _is_vcard(props: dict[str, Element]) -> bool:
    if DAV + "collection" in _types(props):
        return False
    kind = props.get(DAV + "getcontenttype")
    if kind is None or not (kind.text or "").strip():
        return True  # not every server says; the card's text is checked when read
    return kind.text.split(";")[0].strip().lower() in VCARD_TYPES


def _etag(props: dict[str, Element]) -> str:
    tag = props.get(DAV + "getetag")
    return (tag.text or "").strip() if tag is not None else ""


def _supports_sync(props: dict[str, Element]) -> bool:
    reports = props.get(DAV + "supported-report-set")
    return reports is not None and reports.find(f".//{DAV}sync-collection") is not None


# -- discovery ----------------------------------------------------------------------------


@dataclass
class _Book:
    url: str
    name: str  # displayname, or the last path segment
    supports_sync: bool


def _probe(http: _Http, url: str, *, guess: bool = False) -> tuple[str, _Response] | None:
    """PROPFIND depth 0 for discovery: (final URL, its props), None when nothing WebDAV is there.

    A `guess` (the well-known URL) that fails for any reason but the password is None too.
    """
    answer = http.request(
        "PROPFIND",
        url,
        body=_PROPFIND.format(_DISCOVERY_PROPS).encode(),
        headers={"Depth": "0", "Content-Type": "application/xml; charset=utf-8"},
    )
    if answer.status in (404, 405, 410, 501) or (answer.status < 300 and answer.status != 207):
        return None
    if answer.status != 207:
        if guess and answer.status != 401:
            return None
        raise http.refused(answer, "PROPFIND")
    try:
        root = _multistatus(answer, f"PROPFIND {_path(answer.url)}")
    except RemoteError:
        if guess:
            return None
        raise
    final = str(answer.url)
    responses = list(_responses(root))
    own = canonical_path(urlsplit(final).path).rstrip("/")
    for response in responses:
        if canonical_path(urlsplit(urljoin(final, response.href)).path).rstrip("/") == own:
            return final, response
    return (final, responses[0]) if responses else None


def _books(http: _Http, home: str) -> list[_Book]:
    answer = http.request(
        "PROPFIND",
        home,
        body=_PROPFIND.format(_DISCOVERY_PROPS).encode(),
        headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
    )
    if answer.status != 207:
        raise http.refused(answer, "PROPFIND")
    root = _multistatus(answer, f"PROPFIND {_path(answer.url)}")
    books = []
    for response in _responses(root):
        if CARD + "addressbook" not in _types(response.props):
            continue
        books.append(_book(urljoin(str(answer.url), response.href), response.props))
    return books


def _last_segment(url: str) -> str:
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


def _book(url: str, props: dict[str, Element]) -> _Book:
    shown = props.get(DAV + "displayname")
    name = (shown.text or "").strip() if shown is not None else ""
    return _Book(url, name or _last_segment(url), _supports_sync(props))


def _choose(books: list[_Book], wanted: str | None, where: str) -> _Book:
    def listing() -> str:
        return ", ".join(
            f"{_one_line(b.name, 60)!r} ({_path(b.url)})"
            for b in sorted(books, key=lambda b: b.url)
        )

    if not books:
        raise RemoteError(f"no address book found at {where} (make one on the server first)")
    if wanted is None:
        if len(books) == 1:
            return books[0]
        raise RemoteError(
            f"several address books at {where}: {listing()}; pick one with --addressbook NAME"
        )

    wanted_path = canonical_path(urlsplit(wanted).path).rstrip("/")
    for rule in (
        lambda b: canonical_path(urlsplit(b.url).path).rstrip("/") == wanted_path,
        lambda b: _last_segment(b.url) == wanted,
        lambda b: b.name == wanted,
        lambda b: wanted.casefold() in (b.name.casefold(), _last_segment(b.url).casefold()),
    ):
        found = [b for b in books if rule(b)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            books = found
            raise RemoteError(f"several address books match {wanted!r} at {where}: {listing()}")
    raise RemoteError(
        f"no address book {_one_line(wanted, 80)!r} at {where}; there are: {listing()}"
    )


def _discover(http: _Http, url: str, wanted: str | None) -> _Book:
    parts = urlsplit(url)
    where = host_of(url)
    found = None
    if parts.path in ("", "/"):  # just the server: RFC 6764 says where CardDAV lives
        well_known = urlunsplit((parts.scheme, parts.netloc, "/.well-known/carddav", "", ""))
        found = _probe(http, well_known, guess=True)
    if found is None:
        found = _probe(http, url)
    if found is None:
        raise RemoteError(f"no CardDAV service at {_one_line(_safe_url(url))}")
    final, response = found
    if CARD + "addressbook" in _types(response.props):
        return _book(final, response.props)
    homes = _hrefs(response.props.get(CARD + "addressbook-home-set"))
    if not homes:
        for principal in _hrefs(response.props.get(DAV + "current-user-principal")):
            seen = _probe(http, urljoin(final, principal))
            if seen is not None:
                homes = [
                    urljoin(seen[0], h)
                    for h in _hrefs(seen[1].props.get(CARD + "addressbook-home-set"))
                ]
                break
    else:
        homes = [urljoin(final, h) for h in homes]
    if not homes and DAV + "collection" in _types(response.props):
        homes = [final]  # a collection without home-set: look for books inside it
    books: list[_Book] = []
    for home in dict.fromkeys(homes):
        books.extend(b for b in _books(http, home) if b.url not in {x.url for x in books})
    return _choose(books, wanted, where)


def connect(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    addressbook: str | None = None,
    timeout: float = 30.0,
    synced: bool = False,
) -> CardDAV:
    """The address book at `url` (itself, or found from a server or account root).

    synced: `url` is the book, synced before with a sync token (nothing to discover; a
    server that no longer takes the REPORT makes changes() None: the caller lists all)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise errors.InvalidValue(f"not a URL: {_one_line(exc)}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.InvalidValue(f"not an http(s) URL: {_one_line(_safe_url(url))}")
    if parts.password is not None:
        raise errors.InvalidValue(
            "a password inside the URL would be stored: give it by --password-command,"
            " --password-env or the prompt"
        )
    if parts.username is not None and user is None:
        user = unquote(parts.username)
    if user is not None and (":" in user or not user.isprintable()):
        raise errors.InvalidValue(f"not a user name for HTTP: {user!r}")
    url = _safe_url(url)
    http = _Http(user, password, timeout, secure=parts.scheme == "https")
    if synced:  # the book itself, known to speak sync-collection: no discovery round trip
        return CardDAV(http, url, supports_sync=True)
    try:
        book = _discover(http, url, addressbook)
        return CardDAV(http, book.url, supports_sync=book.supports_sync, name=book.name)
    except BaseException:
        http.close()
        raise


# -- the remote --------------------------------------------------------------------------


class CardDAV:
    """One address book on a CardDAV server, a Remote (see crmcli.sync)."""

    def __init__(self, http: _Http, url: str, *, supports_sync: bool, name: str = ""):
        self._http = http
        if not url.endswith("/"):
            url += "/"
        self.url = url
        self.name = name
        self.supports_sync = supports_sync
        self._origin = urlsplit(url)._replace(path="", query="", fragment="")
        self._book_path = canonical_path(urlsplit(url).path)

    def __enter__(self) -> CardDAV:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # hrefs: the server's path, in canonical spelling; a card on another host keeps its URL
    def href(self, raw: str) -> str:
        """The canonical form of an href the server sent (or crm built)."""
        full = urlsplit(urljoin(self.url, raw))
        path = canonical_path(full.path)
        if (full.scheme, full.netloc) == (self._origin.scheme, self._origin.netloc):
            return path
        return urlunsplit((full.scheme, full.netloc, path, "", ""))

    def _url(self, href: str) -> str:
        return urljoin(self.url, href)

    def _is_book(self, href: str) -> bool:
        return href.rstrip("/") == self._book_path.rstrip("/")

    def _report(self, body: str, depth: str) -> _Answer:
        return self._http.request(
            "REPORT",
            self.url,
            body=body.encode("utf-8"),
            headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
        )

    def index(self) -> dict[str, str]:
        answer = self._http.request(
            "PROPFIND",
            self.url,
            body=_PROPFIND.format(_INDEX_PROPS).encode(),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if answer.status != 207:
            raise self._http.refused(answer, "PROPFIND")
        root = _multistatus(answer, f"PROPFIND {_path(self.url)}")
        cards = {}
        for response in _responses(root):
            href = self.href(response.href)
            if not self._is_book(href) and response.props and _is_vcard(response.props):
                cards[href] = _etag(response.props)
        return cards

    def changes(self, token: str | None) -> Changes | None:
        if not self.supports_sync:
            return None
        result = Changes(token="")
        for _page in range(MAX_SYNC_PAGES):
            element = (
                f"<D:sync-token>{escape(token)}</D:sync-token>" if token else "<D:sync-token/>"
            )
            answer = self._report(_SYNC.format(token=element), "0")
            if answer.status in (400, 403, 405, 409, 501):
                return None  # the token is refused (or no sync at all): the caller lists all
            if answer.status != 207:
                raise self._http.refused(answer, "REPORT")
            root = _multistatus(answer, "REPORT sync-collection")
            truncated = False
            for response in _responses(root):
                href = self.href(response.href)
                if self._is_book(href):
                    truncated = truncated or response.status == 507
                elif response.status == 404:
                    result.deleted.add(href)
                    result.changed.pop(href, None)
                elif not response.props or _is_vcard(response.props):
                    # without props (some servers): changed all the same, its ETag unknown
                    result.changed[href] = _etag(response.props)
                    result.deleted.discard(href)
            new = (root.findtext(DAV + "sync-token") or "").strip()
            if not new:
                raise RemoteError(f"{host_of(self.url)} sent a sync report without a sync token")
            result.token = new
            if not truncated:
                return result
            if new == token:
                raise RemoteError(f"{host_of(self.url)} truncates its sync report without progress")
            token = new
        raise RemoteError(f"{host_of(self.url)} truncates its sync report endlessly")

    def fetch(self, hrefs: Sequence[str]) -> Iterator[tuple[str, str, str]]:
        hrefs = list(hrefs)
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            yield from self._multiget(list(hrefs[start : start + MULTIGET_BATCH]))

    def _multiget(self, batch: list[str]) -> Iterator[tuple[str, str, str]]:
        asked = {self.href(href): href for href in batch}
        body = _MULTIGET.format(
            hrefs="".join(f"<D:href>{escape(self.href(href))}</D:href>" for href in batch)
        )
        try:
            answer = self._report(body, "0")
            if answer.status != 207:
                raise self._http.refused(answer, "REPORT")
            root = _multistatus(answer, "REPORT addressbook-multiget")
        except (_TooBig, _Malformed):
            # some card is too big, or breaks the XML: ask for fewer at a time, and give
            # the card that still fails alone as "" (the caller reports it and goes on)
            if len(batch) == 1:
                yield batch[0], "", ""
                return
            half = len(batch) // 2
            yield from self._multiget(batch[:half])
            yield from self._multiget(batch[half:])
            return
        for response in _responses(root):
            href = asked.get(self.href(response.href))
            data = response.props.get(CARD + "address-data")
            if href is None or data is None:
                continue  # gone meanwhile (404), or not asked for
            text = data.text or ""
            if len(text) > MAX_CARD:
                text = ""
            # XML turns the card's CRLF line ends into LF: give them back, as vCard has them
            text = _LINE_END.sub("\r\n", text)
            yield href, _etag(response.props), text

    def _put(self, href: str, text: str, condition: dict[str, str]) -> _Answer:
        return self._http.request(
            "PUT",
            self._url(href),
            body=text.encode("utf-8"),
            headers={"Content-Type": "text/vcard; charset=utf-8", **condition},
            limit=MAX_SMALL,
            body_needed=False,
        )

    def _put_refused(self, answer: _Answer) -> RemoteError:
        """A PUT's failure: one card refused (bad, too big, of a type or size the server
        does not take) is CardRefused, the sync goes on; anything else stops it."""
        error = self._http.refused(answer, "PUT")
        if answer.status in CARD_REFUSED:
            return CardRefused(error.message)
        return error

    def create(self, uid: str, text: str) -> tuple[str, str | None]:
        href = self.href(self._book_path + quote(card_name(uid), safe=_PATH_SAFE))
        answer = self._put(href, text, {"If-None-Match": "*"})
        if answer.status in (412, 409):  # 409: the UID is already on another card
            raise Conflict(href)
        if answer.status not in (200, 201, 204):
            raise self._put_refused(answer)
        return href, answer.headers.get("ETag")

    def update(self, href: str, etag: str, text: str) -> str | None:
        answer = self._put(href, text, {"If-Match": etag or "*"})  # "": the server gave none
        if answer.status in (412, 409, 404):
            raise Conflict(href)
        if answer.status not in (200, 201, 204):
            raise self._put_refused(answer)
        return answer.headers.get("ETag")

    def delete(self, href: str, etag: str) -> None:
        answer = self._http.request(
            "DELETE",
            self._url(href),
            headers={"If-Match": etag or "*"},
            limit=MAX_SMALL,
            body_needed=False,
        )
        if answer.status == 412:
            raise Conflict(href)
        if answer.status not in (200, 202, 204, 404):
            raise self._http.refused(answer, "DELETE")
