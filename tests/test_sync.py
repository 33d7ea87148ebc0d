"""crm sync (issue 14) above the Remote interface: the engine against an in-memory
remote and a vdir folder, crm remote add/list/remove, conflicts, faults, undo."""

import json
import os
from collections import Counter

import pytest

from crmcli.sync import Changes, Conflict, RemoteError, access
from crmcli.sync.vdir import Vdir, file_name
from test_vcard_read import JPEG


def card(uid: str, name: str, *lines: str, version: str = "3.0") -> str:
    last, _, first = name.rpartition(" ")[::-1] if " " in name else ("", "", name)
    body = [f"VERSION:{version}", f"UID:{uid}", f"FN:{name}", f"N:{last};{first};;;", *lines]
    return "BEGIN:VCARD\r\n" + "".join(f"{line}\r\n" for line in body) + "END:VCARD\r\n"


class FakeRemote:
    """A CardDAV address book in memory, counting what crm asks of it."""

    def __init__(self):
        self.cards: dict[str, tuple[str, str]] = {}  # href -> (etag, text)
        self.calls: Counter = Counter()
        self.serial = 0
        self.fail_on: tuple[str, int] | None = None  # (verb, nth call): RemoteError
        self.interrupt_on: tuple[str, int] | None = None  # (verb, nth call): Ctrl-C
        self.race: set[str] = set()  # hrefs another client changes just before crm writes

    def _call(self, verb: str) -> None:
        self.calls[verb] += 1
        if self.fail_on and self.fail_on[0] == verb and self.calls[verb] >= self.fail_on[1]:
            raise RemoteError("the connection dropped")
        if self.interrupt_on and self.interrupt_on == (verb, self.calls[verb]):
            raise KeyboardInterrupt

    def put(self, href: str, text: str) -> str:
        """A third party's write (a phone)."""
        self.serial += 1
        self.cards[href] = (f'"{self.serial}"', text)
        return self.cards[href][0]

    def _raced(self, href: str) -> None:
        if href in self.race:
            self.race.discard(href)
            text = self.cards[href][1].replace("END:VCARD", "NOTE:from the phone\r\nEND:VCARD")
            self.put(href, text)

    def index(self):
        self._call("index")
        return {href: etag for href, (etag, _) in self.cards.items()}

    def changes(self, token):
        self._call("changes")
        return None

    def fetch(self, hrefs):
        self._call("fetch")
        for href in hrefs:
            if href in self.cards:
                yield href, *self.cards[href]

    def create(self, uid, text):
        self._call("create")
        href = f"/book/{uid}.vcf"
        if href in self.cards:
            raise Conflict(href)
        return href, self.put(href, text)

    def update(self, href, etag, text):
        self._call("update")
        self._raced(href)
        if href not in self.cards or self.cards[href][0] != etag:
            raise Conflict(href)
        return self.put(href, text)

    def delete(self, href, etag):
        self._call("delete")
        self._raced(href)
        if href in self.cards and self.cards[href][0] != etag:
            raise Conflict(href)
        self.cards.pop(href, None)

    def close(self):
        pass


class SyncingRemote(FakeRemote):
    """One that offers sync-collection: changes since a token."""

    def __init__(self):
        super().__init__()
        self.log: list[tuple[int, str]] = []  # (serial, href) of every write and delete

    def put(self, href, text):
        etag = super().put(href, text)
        self.log.append((self.serial, href))
        return etag

    def delete(self, href, etag):
        super().delete(href, etag)
        self.serial += 1
        self.log.append((self.serial, href))

    def changes(self, token):
        self._call("changes")
        since = int(token or 0)
        touched = {href for serial, href in self.log if serial > since}
        return Changes(str(self.serial),
                       {href: self.cards[href][0] for href in touched if href in self.cards},
                       {href for href in touched if href not in self.cards})  # fmt: skip


@pytest.fixture
def fake(crm, tmp_path, monkeypatch) -> FakeRemote:
    """A remote `phone` that is a FakeRemote."""
    crm.ok("remote", "add", "phone", str(tmp_path / "unused"))
    remote = FakeRemote()
    monkeypatch.setattr(access, "open_remote", lambda row: remote)
    return remote


@pytest.fixture
def folder(crm, tmp_path):
    """A vdir remote `box`."""
    path = tmp_path / "vdir"
    crm.ok("remote", "add", "box", str(path))
    return path


def contacts(crm) -> dict[str, dict]:
    return {contact["name"]: contact for contact in crm.json("contact", "list")}


def sync(crm, *args: str):
    return crm.json("sync", *args)[0]


def counts(summary: dict) -> tuple:
    return tuple(summary[side][what] for side in ("pulled", "pushed")
                 for what in ("created", "updated", "deleted"))  # fmt: skip


# -- nothing new, nothing written ------------------------------------------------------
def test_a_sync_with_nothing_new_makes_no_put_and_no_local_write(crm, fake, monkeypatch):
    crm.ok("contact", "add", "Ann Lee", "--email", "ann@lee.example")
    fake.put("/book/bob.vcf", card("bob", "Bob Stone", "EMAIL:bob@stone.example"))
    assert counts(sync(crm)) == (1, 0, 0, 1, 0, 0)
    history, stored = crm.json("history"), contacts(crm)
    fake.calls.clear()
    from crmcli.formats import vcard

    written = Counter()
    real = vcard.card
    monkeypatch.setattr(vcard, "card", lambda *a, **k: written.update(["card"]) or real(*a, **k))
    assert counts(sync(crm)) == (0, 0, 0, 0, 0, 0)
    assert fake.calls == Counter(index=1, changes=1)  # no fetch, no PUT, no DELETE
    assert written["card"] == 0  # no contact's stamp moved: none rendered
    assert crm.json("history") == history and contacts(crm) == stored


def test_an_edit_that_changes_nothing_in_the_card_is_not_sent(crm, fake):
    crm.ok("contact", "add", "Ann Lee", "--email", "ann@lee.example")
    sync(crm)
    crm.ok("contact", "edit", "Ann Lee", "--every", "30d")  # keep in touch: not in a card
    fake.calls.clear()
    assert counts(sync(crm)) == (0, 0, 0, 0, 0, 0)
    assert fake.calls["update"] == 0


def test_a_sync_token_is_used_where_the_remote_offers_one(crm, tmp_path, monkeypatch):
    crm.ok("remote", "add", "phone", str(tmp_path / "unused"))
    remote = SyncingRemote()
    monkeypatch.setattr(access, "open_remote", lambda row: remote)
    crm.ok("contact", "add", "Ann Lee")
    remote.put("/book/bob.vcf", card("bob", "Bob Stone"))
    assert counts(sync(crm)) == (1, 0, 0, 1, 0, 0)
    remote.put("/book/bob.vcf", card("bob", "Bob Stone", "TITLE:Boss"))
    remote.delete("/book/bob.vcf", remote.cards["/book/bob.vcf"][0])  # a phone's delete
    remote.put("/book/cy.vcf", card("cy", "Cy Dee"))
    assert counts(sync(crm)) == (1, 0, 1, 0, 0, 0)
    assert remote.calls["index"] == 0 and set(contacts(crm)) == {"Ann Lee", "Cy Dee"}
    remote.calls.clear()
    assert counts(sync(crm)) == (0, 0, 0, 0, 0, 0) and remote.calls["fetch"] == 0


def test_a_whole_listing_without_a_token_finds_what_was_deleted(crm, tmp_path, monkeypatch):
    """A sync cut short stores no token; the next one's initial sync-collection lists
    only the cards there (RFC 6578: no removed members): those missing are gone."""
    crm.ok("remote", "add", "phone", str(tmp_path / "unused"))
    remote = SyncingRemote()
    monkeypatch.setattr(access, "open_remote", lambda row: remote)
    for name in ("Ann Lee", "Bob Stone", "Cy Dee"):
        crm.ok("contact", "add", name)
    remote.fail_on = ("create", 3)
    cut = crm("sync", "--json")
    assert cut.exit_code == 1 and json.loads(cut.stdout)[0]["pushed"]["created"] == 2
    remote.fail_on = None
    (href, (etag, _)), *_ = remote.cards.items()
    remote.delete(href, etag)
    remote.log = [(serial, h) for serial, h in remote.log if h in remote.cards]  # no tombstone
    assert counts(sync(crm)) == (0, 0, 1, 1, 0, 0)
    assert len(contacts(crm)) == 2 and len(remote.cards) == 2


# -- both ways -------------------------------------------------------------------------
def test_adds_edits_and_deletes_go_both_ways(crm, folder):
    crm.ok("contact", "add", "Ann Lee", "--email", "ann@lee.example")
    crm.ok("contact", "add", "Cy Dee")
    (folder / "bob.vcf").write_text(card("bob", "Bob Stone", "TEL:+1 555 0100"))
    assert counts(sync(crm)) == (1, 0, 0, 2, 0, 0)
    assert len(list(folder.glob("*.vcf"))) == 3
    crm.ok("contact", "edit", "Ann Lee", "--title", "CTO")
    crm.ok("contact", "delete", "Cy Dee", "--yes")
    (folder / "bob.vcf").write_text(card("bob", "Bob Stone", "TEL:+1 555 0199"))
    assert counts(sync(crm)) == (0, 1, 0, 0, 1, 1)
    assert contacts(crm)["Bob Stone"]["phone"] == "+1 555 0199"
    (ann,) = [path for path in folder.glob("*.vcf") if "Ann Lee" in path.read_text()]
    assert "TITLE:CTO" in ann.read_text()
    assert len(list(folder.glob("*.vcf"))) == 2
    (folder / "bob.vcf").rename(folder / "robert.vcf")  # renamed: the same card
    assert counts(sync(crm)) == (0, 0, 0, 0, 0, 0)
    (folder / "robert.vcf").unlink()
    assert counts(sync(crm)) == (0, 0, 1, 0, 0, 0)
    assert set(contacts(crm)) == {"Ann Lee"}


def test_generated_uids_are_stored_and_name_the_files(crm, folder):
    ann = crm.new_id("contact", "add", "Ann Lee")
    sync(crm)
    uid = crm.json("contact", "show", str(ann))["fields"]["uid"]
    assert uid.startswith("urn:uuid:")
    assert [path.name for path in folder.glob("*.vcf")] == [file_name(uid)]


def test_the_remotes_uid_and_version_are_kept(crm, folder):
    (folder / "x.vcf").write_text(card("weird:uid/1", "Kim Park", version="4.0"))
    sync(crm)
    crm.ok("contact", "edit", "Kim Park", "--title", "Boss")
    sync(crm)
    text = (folder / "x.vcf").read_text()
    assert "UID:weird:uid/1" in text and "VERSION:4.0" in text and "TITLE:Boss" in text
    assert crm.json("remote", "list")[0]["version"] == "4.0"


def test_a_rich_card_round_trips_exactly(crm, folder, tmp_path):
    """Photo, three addresses and properties crm has no field for: what another
    program wrote comes back from crm as it was, with crm's edit."""
    lines = [
        f"PHOTO;ENCODING=b;TYPE=JPEG:{JPEG}",
        "ADR;TYPE=work:;;1 Road;Springfield;IL;62701;USA",
        "ADR;TYPE=home:;;2 Lane;Shelbyville;IL;62565;USA",
        "item1.ADR:;;3 Lake Rd;Lake;;;",
        "item1.X-ABLabel:cabin",
        "X-FOO;X-PARAM=1:bar",
        "X-PHONETIC-FIRST-NAME:Dzhejn",
    ]
    (folder / "jane.vcf").write_text(card("jane-1", "Jane Doe", *lines))
    sync(crm)
    jane = contacts(crm)["Jane Doe"]
    assert len(jane["addresses"]) == 3 and jane["photo"]["media_type"] == "image/jpeg"
    crm.ok("contact", "edit", "Jane Doe", "--description", "met in Lake")
    assert counts(sync(crm)) == (0, 0, 0, 0, 1, 0)
    text = (folder / "jane.vcf").read_text()
    for line in lines[1:]:
        assert line in text.replace("\n ", "").splitlines()
    assert JPEG in text.replace("\n ", "") and "NOTE:met in Lake" in text
    # A second crm reads the same contact from it.
    other = str(tmp_path / "other.db")
    crm.ok("--db", other, "remote", "add", "box", str(folder))
    crm.ok("--db", other, "sync")
    mine = crm.json("--db", other, "contact", "show", "Jane Doe")
    theirs = crm.json("contact", "show", "Jane Doe")
    drop = ("id", "created_at", "updated_at")
    assert {k: v for k, v in mine.items() if k not in drop} == {
        k: v for k, v in theirs.items() if k not in drop}  # fmt: skip


def test_two_machines_through_one_vdir(crm, folder, tmp_path):
    other = ("--db", str(tmp_path / "laptop.db"))
    crm.ok(*other, "remote", "add", "box", str(folder))
    crm.ok("account", "add", "Acme")
    crm.ok("contact", "add", "Ann Lee", "--email", "ann@lee.example", "--account", "Acme")
    sync(crm)
    crm.ok(*other, "sync")
    laptop = {c["name"]: c for c in crm.json(*other, "contact", "list")}
    assert laptop["Ann Lee"]["account"] == "Acme"  # accounts travel as ORG
    crm.ok(*other, "contact", "edit", "Ann Lee", "--phone", "+1 555 0100")
    crm.ok(*other, "sync")
    assert counts(sync(crm)) == (0, 1, 0, 0, 0, 0)
    assert contacts(crm)["Ann Lee"]["phone"] == "+1 555 0100"
    crm.ok("contact", "delete", "Ann Lee", "--yes")
    sync(crm)
    crm.ok(*other, "sync")
    assert crm.json(*other, "contact", "list") == []
    assert crm.json(*other, "remote", "list")[0]["cards"] == 0


# -- conflicts -------------------------------------------------------------------------
def _both_changed(crm, fake) -> str:
    crm.ok("contact", "add", "Ann Lee", "--email", "ann@lee.example")
    fake.put("/book/bob.vcf", card("bob", "Bob Stone"))
    sync(crm)
    (href,) = [href for href, (_, text) in fake.cards.items() if "Ann Lee" in text]
    crm.ok("contact", "edit", "Ann Lee", "--title", "here")
    fake.put(href, fake.cards[href][1].replace("END:VCARD", "TITLE:there\r\nEND:VCARD"))
    fake.put("/book/bob.vcf", card("bob", "Bob Stone", "TITLE:Boss"))
    return href


def test_a_conflict_is_left_alone_and_listed_and_the_rest_syncs(crm, fake):
    href = _both_changed(crm, fake)
    remote_text = fake.cards[href][1]
    result = crm("sync", "--json")
    assert result.exit_code == 1
    (summary,) = json.loads(result.stdout)
    assert summary["conflicts"] == [{"contact": 1, "name": "Ann Lee", "href": href,
                                     "why": "changed on both sides"}]  # fmt: skip
    assert "conflict: contact 1 'Ann Lee'" in result.stderr
    assert counts(summary) == (0, 1, 0, 0, 0, 0)  # Bob came in
    assert contacts(crm)["Ann Lee"]["title"] == "here" and fake.cards[href][1] == remote_text
    assert crm("sync").exit_code == 1  # still there


def test_conflict_remote_wins_and_undo_brings_the_local_version_back(crm, fake):
    href = _both_changed(crm, fake)
    assert counts(sync(crm, "--conflict", "remote")) == (0, 2, 0, 0, 0, 0)
    assert contacts(crm)["Ann Lee"]["title"] == "there"
    crm.ok("undo")
    assert contacts(crm)["Ann Lee"]["title"] == "here"
    assert counts(sync(crm, "--conflict", "local")) == (0, 0, 0, 0, 2, 0)  # the reversal
    assert "TITLE:here" in fake.cards[href][1]


def test_conflict_local_wins(crm, fake):
    href = _both_changed(crm, fake)
    sync(crm, "--conflict", "local")
    assert "TITLE:here" in fake.cards[href][1] and contacts(crm)["Ann Lee"]["title"] == "here"
    assert contacts(crm)["Bob Stone"]["title"] == "Boss"
    assert counts(sync(crm)) == (0, 0, 0, 0, 0, 0)
    assert "the remote's side of 1 conflict(s)" in crm.json("history")[1]["summary"]
    crm.ok("undo")  # the sync: the remote's side, which lost, is back here
    assert contacts(crm)["Ann Lee"]["title"] == "there"
    assert counts(sync(crm)) == (0, 0, 0, 0, 2, 0)  # Ann's and Bob's reversals
    assert "TITLE:there" in fake.cards[href][1]


def test_deleted_on_one_side_changed_on_the_other_is_a_conflict(crm, fake):
    crm.ok("contact", "add", "Ann Lee")
    sync(crm)
    (href,) = fake.cards
    crm.ok("contact", "delete", "Ann Lee", "--yes")
    fake.put(href, fake.cards[href][1].replace("END:VCARD", "TITLE:there\r\nEND:VCARD"))
    assert crm("sync").exit_code == 1
    assert href in fake.cards and contacts(crm) == {}
    sync(crm, "--conflict", "remote")
    assert contacts(crm)["Ann Lee"]["title"] == "there"


def test_a_412_race_is_a_conflict_not_a_crash(crm, fake):
    crm.ok("contact", "add", "Ann Lee")
    sync(crm)
    (href,) = fake.cards
    crm.ok("contact", "edit", "Ann Lee", "--title", "CTO")
    fake.race.add(href)
    result = crm("sync", "--json")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert json.loads(result.stdout)[0]["conflicts"][0]["why"] == "changed on the remote meanwhile"
    assert "from the phone" in fake.cards[href][1]  # not overwritten blindly


# -- faults ----------------------------------------------------------------------------
def test_a_remote_failing_mid_way_keeps_what_was_sent_and_the_next_sync_goes_on(crm, fake):
    for name in ("Ann Lee", "Bob Stone", "Cy Dee"):
        crm.ok("contact", "add", name)
    fake.fail_on = ("create", 3)
    result = crm("sync")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: remote phone: the connection dropped")  # fmt: skip
    assert len(fake.cards) == 2 and crm.json("remote", "list")[0]["cards"] == 2
    fake.fail_on = None
    assert counts(sync(crm)) == (0, 0, 0, 1, 0, 0)
    assert len(fake.cards) == 3 and len(contacts(crm)) == 3


def test_a_sync_cut_short_never_duplicates_contacts(crm, fake):
    """Ctrl-C after the remote took two cards: nothing of the sync is kept here, and
    the next one finds those two cards are these contacts (their UIDs)."""
    for name in ("Ann Lee", "Bob Stone", "Cy Dee"):
        crm.ok("contact", "add", name)
    fake.interrupt_on = ("create", 3)
    assert crm("sync").exit_code != 0
    assert len(fake.cards) == 2 and crm.json("remote", "list")[0]["cards"] == 0
    fake.interrupt_on = None
    assert counts(sync(crm)) == (0, 0, 0, 1, 0, 0)
    assert len(fake.cards) == 3 and len(contacts(crm)) == 3


def test_dry_run_writes_nothing_anywhere(crm, folder):
    crm.ok("contact", "add", "Ann Lee")
    (folder / "bob.vcf").write_text(card("bob", "Bob Stone"))
    history = crm.json("history")
    summary = sync(crm, "--dry-run")
    assert counts(summary) == (1, 0, 0, 1, 0, 0) and summary["dry_run"]
    assert [path.name for path in folder.iterdir()] == ["bob.vcf"]
    assert set(contacts(crm)) == {"Ann Lee"} and crm.json("history") == history
    assert crm.json("remote", "list")[0]["cards"] == 0


def test_a_file_that_is_no_vcard_is_reported_and_left_alone(crm, folder):
    (folder / "junk.vcf").write_text("hello\n")
    (folder / "bin.vcf").write_bytes(b"\xff\xfe\x00")
    result = crm("sync")
    assert result.exit_code == 0
    assert "junk.vcf: not a valid vCard file" in result.stderr
    assert "bin.vcf: not text, or too big: left alone" in result.stderr
    assert (folder / "junk.vcf").read_text() == "hello\n" and contacts(crm) == {}


def test_new_cards_come_in_together_and_a_second_of_one_uid_is_left_alone(crm, folder):
    for number in range(5):
        (folder / f"p{number}.vcf").write_text(card(f"p{number}", f"Person {number}"))
    (folder / "again.vcf").write_text(card("p3", "Person Three"))
    (folder / "nouid.vcf").write_text(card("", "No Uid").replace("UID:\r\n", ""))
    result = crm("sync", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["pulled"]["created"] == 6
    assert "left alone" in result.stderr and len(contacts(crm)) == 6
    assert counts(sync(crm)) == (0, 0, 0, 0, 0, 0)


# -- history ---------------------------------------------------------------------------
def test_each_sync_is_one_operation_and_undo_is_pushed_next_time(crm, folder):
    (folder / "a.vcf").write_text(card("a", "Ann Lee"))
    (folder / "b.vcf").write_text(card("b", "Bob Stone"))
    before = len(crm.json("history"))
    sync(crm)
    assert len(crm.json("history")) == before + 1
    assert "box: pulled 2 created; pushed nothing" in crm.json("history")[0]["summary"]
    (folder / "b.vcf").unlink()
    sync(crm)
    crm.ok("undo")  # Bob back here: the next sync sends him again
    assert counts(sync(crm)) == (0, 0, 0, 1, 0, 0)
    assert any("Bob Stone" in path.read_text() for path in folder.glob("*.vcf"))


# -- the vdir --------------------------------------------------------------------------
def test_vdir_writes_are_guarded_by_the_etag(tmp_path):
    vdir = Vdir(tmp_path)
    href, etag = vdir.create("a", card("a", "Ann Lee"))
    assert href == "a.vcf" and vdir.index() == {"a.vcf": etag}
    with pytest.raises(Conflict):
        vdir.create("a", card("a", "Ann Lee"))
    other = tmp_path / "other.tmp"  # another program rewrites it, same size
    other.write_text(card("a", "Ann Lea"))
    os.replace(other, tmp_path / "a.vcf")
    assert vdir.index()["a.vcf"] != etag
    with pytest.raises(Conflict):
        vdir.update("a.vcf", etag, card("a", "Ann Lee"))
    with pytest.raises(Conflict):
        vdir.delete("a.vcf", etag)
    (fetched,) = vdir.fetch(["a.vcf", "gone.vcf"])  # one gone meanwhile is skipped
    assert fetched[2] == card("a", "Ann Lea")
    new = vdir.update("a.vcf", vdir.index()["a.vcf"], card("a", "Ann Lee"))
    vdir.delete("a.vcf", new)
    assert vdir.index() == {} and not list(tmp_path.glob(".crm-*"))


def test_vdir_file_names_are_safe(tmp_path):
    assert file_name("urn:uuid:1234-ab") == "1234-ab.vcf"
    names = {file_name(uid) for uid in ("../etc/passwd", "a/b", ".hidden", "a b", "a_b")}
    assert len(names) == 5 and all("/" not in name and not name.startswith(".")
                                   for name in names)  # fmt: skip


# -- crm remote ------------------------------------------------------------------------
def test_remote_add_carddav_discovers_the_book_and_stores_no_password(crm, monkeypatch):
    import sys
    import types

    seen = {}

    class Book:
        url = "https://dav.example/user/book/"

        def close(self):
            seen["closed"] = True

    def connect(url, **options):
        seen.update(url=url, **options)
        return Book()

    import crmcli.sync

    fake_module = types.SimpleNamespace(connect=connect)
    monkeypatch.setitem(sys.modules, "crmcli.sync.carddav", fake_module)
    monkeypatch.setattr(crmcli.sync, "carddav", fake_module, raising=False)
    monkeypatch.setenv("DAV_PASSWORD", "s3cret-pw")
    crm.ok("remote", "add", "dav", "https://dav.example/", "--user", "ann",
           "--password-env", "DAV_PASSWORD", "--addressbook", "book")  # fmt: skip
    assert seen == {"url": "https://dav.example/", "user": "ann", "password": "s3cret-pw",
                    "addressbook": "book", "closed": True}  # fmt: skip
    (listed,) = crm.json("remote", "list")
    assert listed["url"] == Book.url and listed["password"] == "$DAV_PASSWORD"
    import sqlite3

    dump = "\n".join(sqlite3.connect(os.environ["CRM_DB"]).iterdump())
    assert "s3cret-pw" not in dump and "s3cret-pw" not in crm.ok("remote", "list").stdout
    seen.clear()  # each sync connects to the book kept, with the password got again
    monkeypatch.setenv("DAV_PASSWORD", "new-pw")
    access.open_remote({"name": "dav", "kind": "carddav", "url": Book.url, "user": "ann",
                        "password_env": "DAV_PASSWORD"})  # fmt: skip
    assert seen == {"url": Book.url, "user": "ann", "password": "new-pw", "synced": False}


def test_a_failing_password_command_is_one_clear_error(crm, tmp_path):
    crm.ok("remote", "add", "dav", str(tmp_path / "book"))
    remote = {"name": "dav", "user": "ann", "password_command": "echo nope >&2; exit 3"}
    with pytest.raises(RemoteError, match=r"password command failed \(exit 3\): nope"):
        access.password(remote)
    assert access.password({**remote, "password_command": "printf 'pw\\nmore'"}) == "pw"


def test_remote_add_refuses_a_file_and_a_second_name_and_remove_forgets(crm, tmp_path):
    (tmp_path / "file").write_text("x")
    crm.fails(2, "remote", "add", "box", str(tmp_path / "file"))
    crm.fails(2, "remote", "add", "bad name", str(tmp_path / "v"))
    crm.ok("remote", "add", "box", str(tmp_path / "v"))
    assert (tmp_path / "v").is_dir()
    crm.fails(1, "remote", "add", "box", str(tmp_path / "w"))
    assert crm.ok("remote", "list", "-f", "csv").stdout.startswith("name,kind,url,user,password,")
    crm.fails(2, "remote", "list", "-f", "ids")  # a remote has no id to give
    crm.ok("remote", "remove", "box")
    crm.fails(3, "remote", "remove", "box")
    assert crm.json("remote", "list") == []


# -- khard: the installed crm and khard on one vdir ---------------------------------------
def test_khard_and_crm_share_a_vdir(run, tmp_path):
    """crm's cards listed by khard without complaint; a contact khard makes and an
    edit khard makes come into crm (the installed crm and khard, as a person runs
    them)."""
    import subprocess
    import sys
    from pathlib import Path

    khard = Path(sys.executable).parent / "khard"
    if not khard.exists():
        pytest.skip("khard is not installed (the test extra has it)")
    folder = tmp_path / "contacts"
    config = tmp_path / "xdg"
    (config / "khard").mkdir(parents=True)
    (config / "khard" / "khard.conf").write_text(
        f"[addressbooks]\n[[crm]]\npath = {folder}\n[general]\neditor = /bin/false\n"
        "merge_editor = /bin/false\n[vcard]\npreferred_version = 3.0\n"
    )
    env = {**run.env, "XDG_CONFIG_HOME": str(config)}

    def kh(*args, stdin=None):
        result = subprocess.run([str(khard), *args], capture_output=True, text=True, env=env,
                                input=stdin, timeout=60)  # fmt: skip
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert "rror" not in result.stderr and "arning" not in result.stderr, result.stderr
        return result.stdout

    run("remote", "add", "box", str(folder))
    run("account", "add", "Acme")
    run("contact", "add", "Ann Lee", "--email", "work:ann@lee.example", "--account", "Acme",
        "--phone", "mobile:+1 555 0100", "--birthday", "1990-04-23")  # fmt: skip
    run("sync")
    listed = kh("list", "--parsable")
    assert "Ann Lee" in listed and "ann@lee.example" in kh("email", "--parsable")
    template = tmp_path / "kim.yaml"
    template.write_text("First name : Kim\nLast name : Park\n"
                        "Email :\n    work : kim@park.example\n")  # fmt: skip
    kh("new", "-a", "crm", "--vcard-version", "4.0", "-i", str(template))
    edit = tmp_path / "ann.yaml"
    edit.write_text("First name : Ann\nLast name : Lee\nOrganisation : Acme\n"
                    "Email :\n    work : ann@new.example\nNote : edited in khard\n")  # fmt: skip
    kh("edit", "-i", str(edit), "Ann", stdin="y\n")
    result = run("sync", "--json")
    assert json.loads(result.stdout)[0]["pulled"] == {"created": 1, "updated": 1, "deleted": 0}
    people = {c["name"]: c for c in json.loads(run("contact", "list", "--json").stdout)}
    assert people["Kim Park"]["email"] == "kim@park.example"
    assert people["Ann Lee"]["email"] == "ann@new.example"
    assert people["Ann Lee"]["description"] == "edited in khard"
    assert people["Ann Lee"]["account"] == "Acme"
    nothing = json.loads(run("sync", "--json").stdout)[0]
    assert nothing["pushed"] == nothing["pulled"] == {"created": 0, "updated": 0, "deleted": 0}
