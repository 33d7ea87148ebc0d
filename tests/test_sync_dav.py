"""`crm sync` end to end against a real CardDAV server (Radicale, one for the session).

Each test has its own Radicale user (dav_user) and address book; a third party (a phone)
writes by plain HTTP through `radicale.client(user)`.
"""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from crmcli.sync import carddav

pytest.importorskip("radicale")


def phone_card(uid: str, name: str, extra: str = "") -> str:
    given, _, family = name.partition(" ")
    return (
        "BEGIN:VCARD\r\nVERSION:3.0\r\n"
        f"UID:{uid}\r\nFN:{name}\r\nN:{family};{given};;;\r\n{extra}END:VCARD\r\n"
    )


class Phone:
    """The third party: plain HTTP on the address book, as a phone's CardDAV app."""

    def __init__(self, radicale, user: str, book: str):
        self.client, self.book = radicale.client(user), book

    def put(self, uid: str, text: str, etag: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "text/vcard"} | ({"If-Match": etag} if etag else {})
        answer = self.client.put(f"{self.book}{uid}.vcf", content=text.encode(), headers=headers)
        assert answer.status_code in (201, 204), answer.text
        return answer

    def cards(self) -> dict[str, str]:
        """href -> text of every card in the book."""
        found = {}
        listing = self.client.request(
            "PROPFIND", self.book, headers={"Depth": "1"},
            content=b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>',
        )  # fmt: skip
        for href in sorted(set(_hrefs(listing.text))):
            if href.endswith(".vcf"):
                found[href] = self.client.get(httpx.URL(self.book).join(href)).text
        return found

    def get(self, href: str) -> httpx.Response:
        return self.client.get(httpx.URL(self.book).join(href))

    def retitle(self, href: str, title: str) -> None:
        """Edit a card as a phone does: its TITLE set, guarded by the card's ETag."""
        card = self.get(href)
        lines = [line for line in card.text.split("\r\n") if not line.startswith("TITLE")]
        lines.insert(lines.index("END:VCARD"), f"TITLE:{title}")
        self.put(href.rsplit("/", 1)[1].removesuffix(".vcf"), "\r\n".join(lines),
                 card.headers["ETag"])  # fmt: skip

    def delete(self, href: str) -> None:
        assert self.client.delete(httpx.URL(self.book).join(href)).status_code in (200, 204)


def _hrefs(xml: str) -> list[str]:
    import re

    return re.findall(r"<href>([^<]+)</href>", xml)


@pytest.fixture
def book(radicale, dav_user) -> str:
    return radicale.make_book(dav_user, "contacts")


@pytest.fixture
def phone(radicale, dav_user, book) -> Phone:
    found = Phone(radicale, dav_user, book)
    yield found
    found.client.close()


class Machine:
    """One crm database syncing with the test's address book (in-process, CliRunner)."""

    def __init__(self, crm, path, radicale, user, monkeypatch):
        self.crm, self.path = crm, str(path)
        monkeypatch.setenv("DAV_PASSWORD", radicale.users[user])
        self.crm.ok("--db", self.path, "remote", "add", "dav", radicale.url, "--user", user,
                    "--password-env", "DAV_PASSWORD")  # fmt: skip

    def __call__(self, *args, **kwargs):
        return self.crm("--db", self.path, *args, **kwargs)

    def ok(self, *args, **kwargs):
        return self.crm.ok("--db", self.path, *args, **kwargs)

    def sync(self, *args, code: int = 0) -> dict:
        result = self("sync", "--format", "json", *args)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)[0]

    def sql(self, query: str, *params) -> list[tuple]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(query, params).fetchall()

    def names(self) -> list[str]:
        return sorted(row[0] for row in self.sql("SELECT name FROM contacts"))


@pytest.fixture
def machine(crm, tmp_path, radicale, dav_user, book, monkeypatch):
    def make(name: str = "a") -> Machine:
        return Machine(crm, tmp_path / f"{name}.db", radicale, dav_user, monkeypatch)

    return make


@pytest.fixture
def requests(monkeypatch) -> list[tuple[str, str]]:
    """Every HTTP request crm sends in this process: (method, body's first 200 bytes)."""
    sent = []
    send = httpx.Client.send

    def counting(self, request, **kwargs):
        sent.append((request.method, (request.content or b"")[:200].decode("utf-8", "replace")))
        return send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", counting)
    return sent


def counts(summary: dict) -> tuple[dict, dict]:
    return summary["pulled"], summary["pushed"]


def test_two_machines_and_a_phone_through_the_installed_crm(run, radicale, dav_user, book,
                                                            phone, tmp_path):  # fmt: skip
    """Discovery from the server's root, both password sources, adds, edits and deletes
    from two crms and a phone all arriving everywhere."""
    password = radicale.users[dav_user]
    env_a = {**run.env, "CRM_DB": str(tmp_path / "a.db"), "DAV_SECRET": password}
    env_b = {**run.env, "CRM_DB": str(tmp_path / "b.db")}
    run("remote", "add", "dav", radicale.url, "--user", dav_user, "--password-env", "DAV_SECRET",
        env=env_a)  # fmt: skip
    secret = tmp_path / "secret"
    secret.write_text(password + "\nsecond line\n")
    added = run("remote", "add", "dav", radicale.url, "--user", dav_user,
                "--password-command", f"cat {secret}", env=env_b)  # fmt: skip
    assert book in added.stderr  # the address book discovered from the root
    listed = run("remote", "list", "--format", "json", env=env_b).stdout
    assert password not in listed and json.loads(listed)[0]["url"] == book

    run("contact", "add", "Ann Lee", "--email", "ann@x.example", env=env_a)
    run("contact", "add", "Bob Ray", "--email", "bob@x.example", env=env_a)
    assert '"created": 2' in run("sync", "--format", "json", env=env_a).stdout
    run("sync", env=env_b)
    names = run("list", "contacts", "--format", "json", env=env_b).stdout
    assert {row["name"] for row in json.loads(names)} == {"Ann Lee", "Bob Ray"}

    run("contact", "edit", "Ann Lee", "--phone", "+1 555 0100", env=env_b)
    run("contact", "delete", "Bob Ray", "--yes", env=env_b)
    phone.put("phone-1", phone_card("phone-1", "Cy Phone", "EMAIL:cy@x.example\r\n"))
    run("sync", env=env_b)
    run("sync", env=env_a)
    shown = json.loads(run("list", "contacts", "--format", "json", env=env_a).stdout)
    assert {row["name"] for row in shown} == {"Ann Lee", "Cy Phone"}
    ann = run("contact", "show", "Ann Lee", "--format", "json", env=env_a).stdout
    assert "+1 555 0100" in ann
    texts = phone.cards()
    assert len(texts) == 2 and not any("Bob Ray" in text for text in texts.values())


def test_a_phone_writes_edits_and_deletes_and_they_arrive(machine, phone):
    a = machine()
    phone.put("p1", phone_card("p1", "Dee Phone", "EMAIL:dee@x.example\r\n"))
    phone.put("p2", phone_card("p2", "Eve Phone"))
    assert counts(a.sync()) == ({"created": 2, "updated": 0, "deleted": 0},
                                {"created": 0, "updated": 0, "deleted": 0})  # fmt: skip
    etag = phone.get("p1.vcf").headers["ETag"]
    phone.put("p1", phone_card("p1", "Dee Phone", "EMAIL:dee@new.example\r\n"), etag)
    phone.delete("p2.vcf")
    assert counts(a.sync())[0] == {"created": 0, "updated": 1, "deleted": 1}
    assert a.names() == ["Dee Phone"]
    assert a.sql("SELECT email FROM contacts") == [("dee@new.example",)]


def test_a_sync_with_nothing_new_sends_no_put_and_writes_nothing(machine, phone, requests):
    a = machine()
    a.ok("contact", "add", "Ann Lee", "--email", "ann@x.example")
    phone.put("p1", phone_card("p1", "Dee Phone", "PHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgo=\r\n"))
    a.sync()
    a.sync()  # the token of the first, the state of both

    def written():
        return [a.sql(query) for query in ("SELECT id, updated_at FROM contacts ORDER BY id",
                "SELECT count(*) FROM operations", "SELECT * FROM sync_cards")]  # fmt: skip

    before = written()
    requests.clear()
    summary = a.sync()
    assert counts(summary) == ({"created": 0, "updated": 0, "deleted": 0},) * 2
    # one request: the sync-collection since the stored token (no discovery, no listing)
    assert [method for method, _ in requests] == ["REPORT"], requests
    assert "sync-collection" in requests[0][1]
    assert written() == before


def test_a_refused_sync_token_falls_back_to_the_listing(machine, phone, requests):
    a = machine()
    phone.put("p1", phone_card("p1", "Dee Phone"))
    a.sync()
    token = a.sql("SELECT sync_token FROM remotes")[0][0]
    assert token and token.startswith("http")
    a.sql("UPDATE remotes SET sync_token = ?", token[:-8] + "deadbeef")
    phone.put("p2", phone_card("p2", "Eve Phone"))
    requests.clear()
    assert a.sync()["pulled"]["created"] == 1
    asked = [body for method, body in requests if "sync-collection" in body]
    assert len(asked) == 2 and "deadbeef" in asked[0]  # refused, then a fresh listing
    assert a.names() == ["Dee Phone", "Eve Phone"]
    assert a.sql("SELECT sync_token FROM remotes")[0][0] not in (token, token[:-8] + "deadbeef")


def test_a_conflict_is_listed_then_settled_and_undo_brings_the_loser_back(machine, phone):
    a = machine()
    a.ok("contact", "add", "Ann Lee", "--email", "ann@x.example")
    a.sync()
    (href,) = phone.cards()

    def title() -> str:
        return a.sql("SELECT title FROM contacts")[0][0]

    phone.retitle(href, "Phone")
    a.ok("contact", "edit", "Ann Lee", "--title", "Crm")
    result = a("sync")
    assert result.exit_code == 1
    assert "conflict: contact 1 'Ann Lee'" in result.stderr
    assert title() == "Crm" and "TITLE:Phone" in phone.get(href).text

    assert a.sync("--conflict", "remote")["pulled"]["updated"] == 1
    assert title() == "Phone"
    a.ok("undo")  # crm's side back, and the next sync sends it
    assert title() == "Crm"
    assert a.sync()["pushed"]["updated"] == 1
    assert "TITLE:Crm" in phone.get(href).text

    phone.retitle(href, "Phone 2")
    a.ok("contact", "edit", "Ann Lee", "--title", "Crm 2")
    assert a.sync("--conflict", "local")["pushed"]["updated"] == 1
    assert "TITLE:Crm 2" in phone.get(href).text
    a.ok("undo")  # the phone's side, kept in the history, comes back
    assert title() == "Phone 2"
    assert a.sync()["pushed"]["updated"] == 1


def test_a_412_race_is_a_conflict_and_the_phones_edit_survives(machine, phone, monkeypatch):
    a = machine()
    a.ok("contact", "add", "Ann Lee", "--email", "ann@x.example")
    a.sync()
    (href,) = phone.cards()
    a.ok("contact", "edit", "Ann Lee", "--title", "Crm")
    update = carddav.CardDAV.update

    def raced(self, href_, etag, text):  # the phone writes between crm's read and its PUT
        phone.retitle(href_, "Phone")
        return update(self, href_, etag, text)

    monkeypatch.setattr(carddav.CardDAV, "update", raced)
    summary = a.sync(code=1)
    assert summary["conflicts"][0]["why"] == "changed on the remote meanwhile"
    assert "TITLE:Phone" in phone.get(href).text
    monkeypatch.setattr(carddav.CardDAV, "update", update)
    assert a.sync("--conflict", "local")["pushed"]["updated"] == 1
    assert "TITLE:Crm" in phone.get(href).text


def test_a_wrong_password_is_one_line_and_shows_no_password(machine, monkeypatch, radicale,
                                                            dav_user):  # fmt: skip
    a = machine()
    a.ok("contact", "add", "Ann Lee")
    monkeypatch.setenv("DAV_PASSWORD", "Wr0ngSecret")
    result = a("sync")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: remote dav")
    assert "Wr0ngSecret" not in result.stderr + result.stdout
    assert a.sql("SELECT count(*) FROM sync_cards") == [(0,)]
    monkeypatch.setenv("DAV_PASSWORD", radicale.users[dav_user])
    a.sync()
    monkeypatch.setenv("DAV_PASSWORD", "Wr0ngSecret")  # synced before: no discovery now
    result = a("sync")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "Wr0ngSecret" not in result.stderr and "authentication failed" in result.stderr


def test_the_server_stopped_mid_way_then_back_duplicates_nothing(machine, phone, radicale,
                                                                 monkeypatch):  # fmt: skip
    a = machine()
    for number in range(12):
        a.ok("contact", "add", f"Person {number:02}", "--email", f"p{number}@x.example")
    create = carddav.CardDAV.create
    made = []

    def stopping(self, uid, text):
        if len(made) == 5:
            radicale.stop()
        made.append(uid)
        return create(self, uid, text)

    monkeypatch.setattr(carddav.CardDAV, "create", stopping)
    try:
        result = a("sync")
    finally:
        radicale.start()
    monkeypatch.setattr(carddav.CardDAV, "create", create)
    assert result.exit_code == 1 and "Error: remote dav" in result.stderr
    assert a.sql("SELECT count(*) FROM sync_cards") == [(5,)]
    assert a.sql("SELECT sync_token FROM remotes") == [(None,)]
    first = sorted(phone.cards())[0]
    phone.delete(first.rsplit("/", 1)[1])  # while no token is stored: still seen
    summary = a.sync()
    assert summary["pushed"]["created"] == 7 and summary["pulled"]["deleted"] == 1
    assert len(phone.cards()) == 11
    assert a.sql("SELECT count(*) FROM contacts") == [(11,)]
    assert counts(a.sync()) == ({"created": 0, "updated": 0, "deleted": 0},) * 2


PHOTO = "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgK\r\n"


def test_a_rich_card_survives_phone_crm_server(machine, phone):
    extra = (
        "EMAIL;TYPE=WORK:dee@x.example\r\n"
        + PHOTO
        + "ADR;TYPE=HOME:;;1 Home St;Hometown;;11111;Land\r\n"
        "ADR;TYPE=WORK:;;2 Work Rd;Worktown;;22222;Land\r\n"
        "X-PHONE-APP;X-PARAM=kept:opaque value\r\n"
        "X-ANNIVERSARY:2001-02-03\r\n"
    )
    phone.put("Phone-UID-42", phone_card("Phone-UID-42", "Dee Phone", extra))
    a = machine()
    a.sync()
    a.ok("contact", "edit", "Dee Phone", "--phone", "+1 555 0199")
    assert a.sync()["pushed"]["updated"] == 1
    (text,) = phone.cards().values()
    assert "+1 555 0199" in text
    assert "UID:Phone-UID-42" in text
    for part in ("/9j/4AAQSkZJRgABAQAAAQABAAD", "1 Home St", "2 Work Rd", "X-PARAM=kept",
                 "opaque value", "X-ANNIVERSARY:2001-02-03"):  # fmt: skip
        assert part in text.replace("\r\n ", ""), (part, text)
    assert len(phone.cards()) == 1


def test_undo_of_a_sync_is_pushed_by_the_next(machine, phone):
    a = machine()
    phone.put("p1", phone_card("p1", "Dee Phone"))
    a.ok("contact", "add", "Ann Lee")
    a.sync()
    phone.delete("p1.vcf")
    a.ok("contact", "edit", "Ann Lee", "--email", "ann@x.example")
    a.sync()
    assert a.names() == ["Ann Lee"]
    a.ok("undo")  # Dee back here, ann's edit was its own operation
    assert a.names() == ["Ann Lee", "Dee Phone"]
    assert a.sync()["pushed"]["created"] == 1
    assert sorted("Dee Phone" in text for text in phone.cards().values()) == [False, True]
    assert counts(a.sync()) == ({"created": 0, "updated": 0, "deleted": 0},) * 2


def test_a_person_accounts_person_syncs_as_a_normal_card(machine, phone):
    a = machine()
    a.ok("account", "new", "Pat Doe", "--kind", "person", "--email", "pat@x.example")
    assert a.sync()["pushed"]["created"] == 1
    (text,) = phone.cards().values()
    assert "FN:Pat Doe" in text and "pat@x.example" in text and "KIND:org" not in text.upper()
    assert counts(a.sync()) == ({"created": 0, "updated": 0, "deleted": 0},) * 2


def test_a_card_the_server_refuses_is_reported_and_the_rest_syncs(machine, phone, monkeypatch):
    a = machine()
    for name in ("Ann Lee", "Big Card", "Cy Day"):
        a.ok("contact", "add", name)
    put = carddav.CardDAV._put

    def refusing(self, href, text, condition):
        if "Big Card" in text:
            url = httpx.URL(self._url(href))
            return carddav._Answer(413, "Payload Too Large", httpx.Headers(), b"", url)
        return put(self, href, text, condition)

    monkeypatch.setattr(carddav.CardDAV, "_put", refusing)
    result = a("sync", "--format", "json")
    assert result.exit_code == 1, result.stderr
    summary = json.loads(result.stdout)[0]
    assert summary["pushed"]["created"] == 2 and summary["error"] is None
    assert "127.0.0.1" in result.stderr and "413 Payload Too Large" in result.stderr
    assert "Big Card" not in "".join(phone.cards().values())
    monkeypatch.setattr(carddav.CardDAV, "_put", put)
    assert a.sync()["pushed"]["created"] == 1  # tried again next time
    assert len(phone.cards()) == 3

