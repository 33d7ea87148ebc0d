"""The CardDAV remote (crmcli.sync.carddav) against a real Radicale and a hostile fake server."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from crmcli import errors
from crmcli.sync import Conflict, RemoteError, carddav
from davserver import free_port


def vcard(uid: str, name: str = "Ann Smith") -> str:
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEND:VCARD\r\n"


def password(user: str) -> str:
    return user[::-1]  # as the dav_user fixture makes it


@pytest.fixture
def book(radicale, dav_user):
    """(user, URL of the user's one address book 'contacts')."""
    return dav_user, radicale.make_book(dav_user, "contacts", "My Contacts")


@pytest.fixture
def dav(book):
    user, url = book
    with carddav.connect(url, user=user, password=password(user), timeout=10) as remote:
        yield remote


# -- discovery ---------------------------------------------------------------------------
def test_the_book_is_found_from_the_server_root_the_principal_or_itself(radicale, book):
    user, url = book
    for start in (radicale.url, radicale.url.rstrip("/"), f"{radicale.url}{user}/", url):
        with carddav.connect(start, user=user, password=password(user)) as remote:
            assert remote.url == url, start
            assert remote.name == "My Contacts"
            assert remote.supports_sync


def test_several_books_are_listed_until_one_is_picked(radicale, dav_user):
    user, secret = dav_user, password(dav_user)
    family = radicale.make_book(user, "family", "Family")
    work = radicale.make_book(user, "work", "Work [bold]x")
    with pytest.raises(RemoteError) as refused:
        carddav.connect(radicale.url, user=user, password=secret)
    message = refused.value.message
    assert "several address books" in message and "--addressbook" in message
    assert "'Family'" in message and "'Work [bold]x'" in message and f"/{user}/work/" in message
    for pick, url in (("Family", family), ("work", work), ("work [BOLD]x", work), (work, work)):
        with carddav.connect(radicale.url, user=user, password=secret, addressbook=pick) as remote:
            assert remote.url == url, pick
    with pytest.raises(RemoteError, match=r"no address book 'Friends'.*'Family'"):
        carddav.connect(radicale.url, user=user, password=secret, addressbook="Friends")


def test_an_account_without_an_address_book_says_so(radicale, dav_user):
    with pytest.raises(RemoteError, match="no address book found"):
        carddav.connect(radicale.url, user=dav_user, password=password(dav_user))


def test_a_wrong_password_is_one_line_naming_user_and_host_not_the_password(radicale, book):
    user, url = book
    for start in (radicale.url, url):
        with pytest.raises(RemoteError) as refused:
            carddav.connect(start, user=user, password="wrong-secret")
        message = refused.value.message
        assert message == f"authentication failed for {user} at 127.0.0.1:{radicale.port}"
    with pytest.raises(RemoteError, match="asks for a user name and password"):
        carddav.connect(url)


def test_a_password_inside_the_url_is_refused_before_anything_is_sent(radicale):
    with pytest.raises(errors.InvalidValue, match="password inside the URL"):
        carddav.connect(f"http://ann:secret@127.0.0.1:{radicale.port}/")
    with pytest.raises(errors.InvalidValue, match="not an http"):
        carddav.connect("ftp://127.0.0.1/")
    with pytest.raises(errors.InvalidValue, match="not a user name"):
        carddav.connect(radicale.url, user="ann:x", password="y")  # Basic auth would split it


# -- cards -----------------------------------------------------------------------------
def test_create_update_delete_are_guarded_by_etags(dav):
    href, etag = dav.create("ann-1", vcard("ann-1"))
    assert href == f"{carddav.urlsplit(dav.url).path}ann-1.vcf" and etag
    assert dav.index() == {href: etag}
    with pytest.raises(Conflict):
        dav.create("ann-1", vcard("ann-1", "Someone Else"))  # If-None-Match: *
    newer = dav.update(href, etag, vcard("ann-1", "Ann Jones"))
    assert newer and newer != etag and dav.index() == {href: newer}
    with pytest.raises(Conflict):
        dav.update(href, etag, vcard("ann-1", "Stale"))
    with pytest.raises(Conflict):
        dav.delete(href, etag)
    [(got, got_etag, text)] = dav.fetch([href])
    assert (got, got_etag) == (href, newer) and "FN:Ann Jones\r\n" in text
    dav.delete(href, newer)
    dav.delete(href, newer)  # already gone: done
    assert dav.index() == {}


def test_a_uid_unsafe_in_a_path_gets_a_hashed_name_and_hrefs_compare_decoded(dav):
    odd = "../x/é y?#"
    href, etag = dav.create(odd, vcard(odd))
    assert href.endswith(".vcf") and "/x/" not in href and "é" not in href
    mail, mail_etag = dav.create("a@b+c", vcard("a@b+c"))  # Radicale answers with a%40b%2Bc.vcf
    assert dav.index() == {href: etag, mail: mail_etag}
    spelled = mail.replace("@", "%40").replace("+", "%2b")
    assert [(h, e) for h, e, _ in dav.fetch([spelled])] == [(spelled, mail_etag)]


def test_canonical_hrefs():
    same = carddav.canonical_path
    assert same("/u/a%40b%2Bc.vcf") == same("/u/a@b+c.vcf") == "/u/a@b+c.vcf"
    assert same("/u/caf%c3%a9.vcf") == same("/u/café.vcf") == "/u/caf%C3%A9.vcf"
    assert same("/u/a%2fb.vcf") == "/u/a%2Fb.vcf"  # an encoded slash is not a separator
    assert same("/u/a b.vcf") == "/u/a%20b.vcf"
    assert carddav.host_of("https://ann:pw@[::1]:8443/dav/") == "[::1]:8443"
    assert carddav.host_of("http://dav.example.org/") == "dav.example.org"
    assert carddav.card_name("ann-1@example.org") == "ann-1@example.org.vcf"
    for unsafe in ("a/b", "..", ".hidden", "", "x" * 300, "é", "a b"):
        name = carddav.card_name(unsafe)
        assert name.endswith(".vcf") and len(name) == 44, unsafe


def test_a_third_party_write_in_between_is_a_conflict_and_survives(radicale, book, dav):
    user, url = book
    href, etag = dav.create("race", vcard("race"))
    with radicale.client(user) as phone:
        assert phone.put(url + "race.vcf", content=vcard("race", "Phone Edit")).status_code in (
            201,
            204,
        )
    with pytest.raises(Conflict):
        dav.update(href, etag, vcard("race", "Crm Edit"))
    with pytest.raises(Conflict):
        dav.delete(href, etag)
    [(_, _, text)] = dav.fetch([href])
    assert "FN:Phone Edit" in text
    with radicale.client(user) as phone:  # a phone stores a card under a name of its own
        phone.put(url + "0123-abcd.vcf", content=vcard("phone-made"))
    with pytest.raises(Conflict):
        dav.create("phone-made", vcard("phone-made", "Crm Too"))  # Radicale: 409 no-uid-conflict
    assert len(dav.index()) == 2


def test_the_remote_has_the_interface_the_engine_calls():
    import inspect

    from crmcli.sync import Remote

    for name in ("index", "changes", "fetch", "create", "update", "delete", "close"):
        want = inspect.signature(getattr(Remote, name))
        assert list(inspect.signature(getattr(carddav.CardDAV, name)).parameters) == list(
            want.parameters
        ), name


def test_sync_collection_reports_third_party_changes_and_refused_tokens(radicale, book, dav):
    user, url = book
    mine, _ = dav.create("mine", vcard("mine"))
    first = dav.changes(None)
    assert first.changed == dav.index() and not first.deleted
    with radicale.client(user) as phone:
        phone.put(url + "phone.vcf", content=vcard("phone"), headers={"If-None-Match": "*"})
        phone.delete(url + "mine.vcf")
    later = dav.changes(first.token)
    path = carddav.urlsplit(url).path
    assert later.changed == {f"{path}phone.vcf": dav.index()[f"{path}phone.vcf"]}
    assert later.deleted == {mine}
    assert later.token != first.token
    unchanged = dav.changes(later.token)
    assert (unchanged.changed, unchanged.deleted) == ({}, set())
    assert dav.changes("http://radicale.org/ns/sync/0000") is None  # refused: caller lists all


def test_multiget_asks_in_batches_and_skips_cards_gone(dav, monkeypatch):
    monkeypatch.setattr(carddav, "MULTIGET_BATCH", 3)
    hrefs = [dav.create(f"c{i}", vcard(f"c{i}", f"Card {i}"))[0] for i in range(7)]
    reports = []
    send = dav._http.request
    monkeypatch.setattr(
        dav._http,
        "request",
        lambda method, *a, **k: reports.append(method) or send(method, *a, **k),
    )
    gone = hrefs[0].replace("c0.vcf", "gone.vcf")
    got = list(dav.fetch([*hrefs, gone]))
    assert reports == ["REPORT"] * 3
    assert sorted(h for h, _, _ in got) == sorted(hrefs)
    assert all(text.startswith("BEGIN:VCARD\r\n") for _, _, text in got)


def test_a_stopped_server_is_refused_and_the_same_one_comes_back(radicale, dav):
    href, etag = dav.create("back", vcard("back"))
    radicale.stop()
    try:
        with pytest.raises(
            RemoteError, match=r"cannot connect to 127\.0\.0\.1:\d+: connection refused"
        ):
            dav.index()
    finally:
        radicale.start()
    assert dav.index() == {href: etag}


# -- a hostile or broken server ------------------------------------------------------------
BOOK = (
    '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"'
    ' xmlns:c="urn:ietf:params:xml:ns:carddav"><d:response><d:href>/book/</d:href>'
    "<d:propstat><d:prop><d:resourcetype><d:collection/><c:addressbook/></d:resourcetype>"
    "<d:displayname>Book</d:displayname><d:supported-report-set><d:supported-report>"
    "<d:report><d:sync-collection/></d:report></d:supported-report></d:supported-report-set>"
    "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"
)


def multistatus(*responses: str, tail: str = "") -> str:
    return (
        '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"'
        f' xmlns:c="urn:ietf:params:xml:ns:carddav">{"".join(responses)}{tail}</d:multistatus>'
    )


def response(href: str, status: int = 200, **props: str) -> str:
    tags = {"etag": "d:getetag", "kind": "d:getcontenttype", "card": "c:address-data"}
    tags["resourcetype"] = "d:resourcetype"
    inner = "".join(f"<{tags[name]}>{value}</{tags[name]}>" for name, value in props.items())
    return (
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{inner}</d:prop>"
        f"<d:status>HTTP/1.1 {status} X</d:status></d:propstat></d:response>"
    )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self) -> None:
        self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        routes = self.server.routes
        route = routes.get((self.command, self.headers.get("Depth"))) or routes.get(self.command)
        self.server.seen.append((self.command, self.path))
        if route is None:
            self.send(404, b"")
        else:
            route(self)

    do_GET = do_PROPFIND = do_REPORT = do_PUT = do_DELETE = answer

    def send(self, status: int, body: bytes | str, **headers: str | None) -> None:
        body = body.encode() if isinstance(body, str) else body
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        self.send_response(status)
        headers.setdefault("Content-Type", "application/xml; charset=utf-8")
        headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            if value is not None:
                self.send_header(name, value)
        if headers["Content-Length"] is None:
            self.close_connection = True  # the body ends where the connection does
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up on a hostile answer: expected here


@pytest.fixture
def fake():
    """A small CardDAV server whose answers each test writes (`fake.routes`)."""
    server = _Quiet(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.seen = []
    server.release = threading.Event()
    server.routes = {("PROPFIND", "0"): lambda h: h.send(207, BOOK)}
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def remote(fake, **options):
    return carddav.connect(fake.url + "book/", user="ann", password="secret", **options)


def test_malformed_xml_is_a_remote_error(fake):
    fake.routes[("PROPFIND", "1")] = lambda h: h.send(207, multistatus("<d:response><d:href>"))
    with remote(fake) as dav, pytest.raises(RemoteError, match="malformed XML for PROPFIND"):
        dav.index()


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']><d:multistatus xmlns:d="DAV:"><d:response><d:href>&lol9;</d:href></d:response>'
    "</d:multistatus>"
)


def test_an_entity_bomb_is_refused_unexpanded(fake):
    fake.routes[("PROPFIND", "0")] = lambda h: h.send(207, BILLION_LAUGHS)
    started = time.monotonic()
    with pytest.raises(RemoteError, match="DTD or entities"):
        remote(fake)
    assert time.monotonic() - started < 5


def test_an_oversized_answer_is_refused_while_read(fake, monkeypatch):
    monkeypatch.setattr(carddav, "MAX_ANSWER", 100_000)
    huge = multistatus(*[response(f"/book/{i}.vcf", etag='"x"') for i in range(5000)])
    fake.routes[("PROPFIND", "1")] = lambda h: h.send(207, huge, Content_Length=None)
    with remote(fake) as dav, pytest.raises(RemoteError, match="more than 100,000 bytes"):
        dav.index()

    def declared(handler):  # says 10 GB, sends a little: refused before reading
        handler.send(207, b"<", Content_Length=str(10**10))

    fake.routes[("PROPFIND", "1")] = declared
    with remote(fake) as dav, pytest.raises(RemoteError, match="more than 100,000 bytes"):
        dav.index()


def test_multiget_splits_a_batch_too_big_and_skips_a_card_too_big(fake, monkeypatch):
    monkeypatch.setattr(carddav, "MAX_ANSWER", 30_000)
    monkeypatch.setattr(carddav, "MAX_CARD", 9_000)
    sizes = {"a": 8_000, "b": 8_000, "c": 8_000, "d": 8_000, "big": 8_500, "huge": 40_000}
    cards = {f"/book/{n}.vcf": vcard(n) + "X" * (size - 80) for n, size in sizes.items()}
    cards["/book/big.vcf"] += "Y" * 1000  # over MAX_CARD alone

    def multiget(handler):
        asked = [h for h in cards if f"<D:href>{h}</D:href>" in handler.body.decode()]
        handler.send(207, multistatus(*[response(h, etag=f'"{h}"', card=cards[h]) for h in asked]))

    fake.routes["REPORT"] = multiget
    with remote(fake) as dav:
        got = {href: (etag, len(text)) for href, etag, text in dav.fetch(list(cards))}
    assert set(got) == set(cards)
    assert got["/book/big.vcf"] == ('"/book/big.vcf"', 0)  # too big: text ""
    assert got["/book/huge.vcf"] == ("", 0)  # its answer alone over the cap
    assert got["/book/a.vcf"][1] > 7_000
    assert sum(1 for method, _ in fake.seen if method == "REPORT") > 3


def test_a_connection_dropped_mid_body_is_a_remote_error(fake):
    def dropped(handler):
        handler.send(207, multistatus()[:60], Content_Length="5000")
        handler.close_connection = True

    fake.routes[("PROPFIND", "1")] = dropped
    with remote(fake) as dav, pytest.raises(RemoteError, match=r"connection to .* dropped"):
        dav.index()


def test_a_server_that_does_not_answer_times_out(fake):
    fake.routes[("PROPFIND", "0")] = lambda h: fake.release.wait(10)
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"within 0\.3 s"):
        remote(fake, timeout=0.3)
    assert time.monotonic() - started < 5


def test_what_is_not_a_vcard_is_left_out_of_the_index_or_given_to_the_caller(fake):
    fake.routes[("PROPFIND", "1")] = lambda h: h.send(
        207,
        multistatus(
            response("/book/", etag='"book"'),
            response("/book/a.vcf", etag='"a"', kind="text/vcard; charset=utf-8"),
            response("/book/b.vcf", etag='"b"'),
            response("/book/page.html", etag='"p"', kind="text/html"),
            response("/book/sub/", etag='"s"', resourcetype="<d:collection/>"),
            response("/book/gone.vcf", status=404, etag='"g"'),
        ),
    )
    fake.routes["REPORT"] = lambda h: h.send(
        207,
        multistatus(
            response("/book/a.vcf", etag='"a"', card="no card here"),
            response("/book/b.vcf", etag='"b"', card="BEGIN:VCARD\nUID:b\nEND:VCARD\n"),
        ),
    )
    with remote(fake) as dav:
        assert dav.index() == {"/book/a.vcf": '"a"', "/book/b.vcf": '"b"'}
        assert list(dav.fetch(["/book/a.vcf", "/book/b.vcf"])) == [
            ("/book/a.vcf", '"a"', "no card here"),  # the caller reports it and skips it
            ("/book/b.vcf", '"b"', "BEGIN:VCARD\r\nUID:b\r\nEND:VCARD\r\n"),
        ]
        # a control character makes the XML malformed: the batch is asked for card by card,
        # and only the bad card is given as ""
        fake.routes["REPORT"] = lambda h: h.send(
            207,
            multistatus(
                *[
                    response(f"/book/{n}.vcf", etag=f'"{n}"', card=f"{n}\x1b" if n == "a" else n)
                    for n in "ab"
                    if f"/book/{n}.vcf" in h.body.decode()
                ]
            ),
        )
        assert list(dav.fetch(["/book/a.vcf", "/book/b.vcf"])) == [
            ("/book/a.vcf", "", ""),
            ("/book/b.vcf", '"b"', "b"),
        ]


def test_redirects_are_followed_a_few_times_never_in_a_loop(fake):
    fake.routes[("PROPFIND", "0")] = lambda h: (
        h.send(207, BOOK) if h.path == "/book/" else h.send(308, "", Location="/book/")
    )
    with carddav.connect(fake.url + "old/", user="ann", password="x") as dav:
        assert dav.url == fake.url + "book/"
    fake.routes[("PROPFIND", "0")] = lambda h: h.send(301, "", Location=h.path)
    with pytest.raises(RemoteError, match="in a loop"):
        remote(fake)


def test_server_errors_and_non_webdav_answers_are_one_line(fake):
    fake.routes[("PROPFIND", "1")] = lambda h: h.send(503, "down \x1b[2J\nfor maintenance")
    with remote(fake) as dav, pytest.raises(RemoteError) as failed:
        dav.index()
    assert (
        failed.value.message
        == f"127.0.0.1:{fake.server_address[1]} failed: 503 Service Unavailable on PROPFIND /book/"
    )
    fake.routes[("PROPFIND", "1")] = lambda h: h.send(207, "<html>hello</html>")
    with remote(fake) as dav, pytest.raises(RemoteError, match="no WebDAV multistatus"):
        dav.index()
    fake.routes[("PROPFIND", "0")] = lambda h: h.send(
        200, "<html>hello</html>", Content_Type="text/html"
    )
    with pytest.raises(RemoteError, match="no CardDAV service at http://127"):
        remote(fake)


def test_a_truncated_sync_report_is_asked_for_again_from_its_token(fake):
    pages = {
        "<D:sync-token/>": multistatus(
            response("/book/a.vcf", etag='"a1"'),
            response("/book/b.vcf", etag='"b1"'),
            "<d:response><d:href>/book/</d:href><d:status>HTTP/1.1 507 X</d:status></d:response>",
            tail="<d:sync-token>t1</d:sync-token>",
        ),
        "<D:sync-token>t1</D:sync-token>": multistatus(
            "<d:response><d:href>/book/b.vcf</d:href>"
            "<d:status>HTTP/1.1 404 X</d:status></d:response>",
            response("/book/c.vcf", etag='"c1"'),
            tail="<d:sync-token>t2</d:sync-token>",
        ),
    }
    fake.routes["REPORT"] = lambda h: h.send(
        207, next(page for token, page in pages.items() if token in h.body.decode())
    )
    with remote(fake) as dav:
        changes = dav.changes(None)
    assert changes.token == "t2"
    assert changes.changed == {"/book/a.vcf": '"a1"', "/book/c.vcf": '"c1"'}
    assert changes.deleted == {"/book/b.vcf"}


def test_what_began_over_https_never_goes_on_over_plain_http():
    http = carddav._Http("ann", "secret", 1.0, secure=True)
    with pytest.raises(RemoteError, match="from https to plain http"):
        http.request("PROPFIND", "http://127.0.0.1:9/ann/")  # a home-set href, a redirect
    http.close()


def test_plain_http_loads_no_tls_and_an_https_redirect_is_verified(fake, monkeypatch):
    """No CA bundle for a plain http remote (a tenth of a second of each sync); once
    redirected to https, a verifying client."""
    import ssl

    def verifies(http) -> bool:
        return http.client._transport._pool._ssl_context.verify_mode == ssl.CERT_REQUIRED

    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    http = carddav._Http("ann", "secret", 1.0, secure=False)
    assert not http.tls and not verifies(http)
    port = fake.server_address[1]
    with pytest.raises(RemoteError, match="TLS failed"):
        http.request("PROPFIND", f"https://127.0.0.1:{port}/ann/")
    assert http.tls and verifies(http)
    http.close()
    monkeypatch.setenv("HTTP_PROXY", "https://proxy.example:3128")
    assert verifies(carddav._Http(None, None, 1.0, secure=False))


def test_tls_dns_and_refused_connections_are_one_line(fake, monkeypatch):
    port = fake.server_address[1]
    with pytest.raises(RemoteError, match=f"TLS failed with 127.0.0.1:{port}"):
        carddav.connect(f"https://127.0.0.1:{port}/book/")
    closed = free_port()
    with pytest.raises(
        RemoteError, match=f"cannot connect to 127.0.0.1:{closed}: connection refused"
    ):
        carddav.connect(f"http://127.0.0.1:{closed}/")

    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(RemoteError, match=r"cannot find the host dav\.example\.invalid: Name or"):
        carddav.connect("http://dav.example.invalid/")


def test_plain_commands_do_not_import_the_http_and_xml_libraries(tmp_path):
    code = (
        "import sys\nfrom crmcli.cli import main\n"
        "for args in (['--help'], ['list']):\n"
        f"    sys.argv = ['crm', '--db', {str(tmp_path / 'crm.db')!r}, *args]\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print(sorted({'httpx', 'defusedxml'} & set(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.splitlines()[-1] == "[]", result.stderr
    assert isinstance(httpx.URL, type)  # the check means something: httpx is importable


def test_httpx_loads_without_its_command_line_tool():
    """crm never runs `httpx` the command: its click, rich.progress and pygments stay
    out of a sync's start-up, and httpx._main is importable afterwards all the same."""
    code = (
        "import sys\nimport crmcli.sync.carddav as c\n"
        "print(sorted({'httpx._main', 'click', 'pygments'} & set(sys.modules)))\n"
        "c.httpx.Client().close()\nimport httpx._main\nprint('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines() == ["[]", "ok"], result.stderr
