"""crm mail query|log and crm open (issue 16): crm beside mutt, aerc and the desktop."""

from __future__ import annotations

import json
import mailbox
import os
import shutil

import pytest

from crmcli import config


@pytest.fixture(scope="module")
def book_file(tmp_path_factory):
    """Acme with Zoë (two addresses) and Jane; Bob at no account: built once, copied."""
    from conftest import built_once

    return built_once(
        tmp_path_factory,
        "book",
        (
            ("account", "new", "Acme Corp", "--website", "acme.example", "--city", "Lyon",
             "--country", "France"),
            ("contact", "add", "Zoë Durand", "--account", "Acme Corp", "--nickname", "Zo",
             "--email", "zoe@acme.example", "--email", "home:zoe@durand.example",
             "--title", "Engineer", "--every", "1w"),
            ("contact", "add", "Jane Doe", "--account", "Acme Corp", "--email",
             "jane@acme.example", "--phone", "+1 (555) 0100"),
            ("contact", "add", "Bob Stone", "--email", "bob@stone.example"),
        ),
    )  # fmt: skip


@pytest.fixture
def book(crm, tmp_path, book_file, db_path):
    """A copy of book_file as this test's database; me = me@example.com, Me@Work.example."""
    shutil.copy(book_file, db_path)
    (tmp_path / "config.toml").write_text('me = ["me@example.com", "Me@Work.example"]\n')
    config.load.cache_clear()
    return crm


def message(
    subject="Hello",
    sender="Zoë Durand <zoe@acme.example>",
    to="Me <me@example.com>",
    body="Hi there.",
    message_id="<m1@acme.example>",
    headers="",
) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}",
             "Date: Tue, 01 Dec 2026 10:00:00 +0100"]  # fmt: skip
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    return ("\n".join(lines) + headers + "\n\n" + body + "\n").encode()


def activities(crm) -> list[dict]:
    return crm.json("list", "activities")


# -- mail query ----------------------------------------------------------------------


def test_mutt_format_byte_for_byte(book):
    book.ok("log", "met", "--kind", "meeting", "--contact", "jane@acme.example")
    result = book.ok("mail", "query", "acme")
    assert result.stdout == (
        "crm: 3 addresses for 'acme'\n"
        "jane@acme.example\tJane Doe\tAcme Corp\n"  # in touch recently: first
        "zoe@acme.example\tZoë Durand\tAcme Corp\n"
        "zoe@durand.example\tZoë Durand\tAcme Corp\n"
    )
    assert result.stderr == ""


def test_aerc_and_plain_formats_byte_for_byte(book):
    assert book.ok("mail", "query", "ZOE dur", "-f", "aerc").stdout == (
        "zoe@acme.example\tZoë Durand\nzoe@durand.example\tZoë Durand\n"
    )
    assert book.ok("mail", "query", "bob", "--format", "plain").stdout == (
        "Bob Stone <bob@stone.example>\n"
    )


def test_query_matches_name_nickname_email_and_account_words_by_prefix(book):
    def names(query):
        lines = book("mail", "query", query, "-f", "aerc").stdout.splitlines()
        return sorted({line.split("\t")[1] for line in lines})

    assert names("zo") == ["Zoë Durand"]  # nickname and first name
    assert names("durand.ex") == ["Zoë Durand"]  # an address's words
    assert names("acme jane") == ["Jane Doe"]  # one word in the account, one in the name
    assert names("engineer") == []  # a title is no address-book word
    assert names("") == ["Bob Stone", "Jane Doe", "Zoë Durand"]


def test_no_match_is_exit_1_and_silent(book):
    result = book("mail", "query", "nobody")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")


def test_query_lines_survive_tabs_newlines_and_control_characters(crm, db_path):
    from crmcli import db
    from crmcli.store import contacts

    with db.session(db_path, write=True) as conn:
        contacts.add_contact(conn, full_name="Evil\tName\nX\x1b[31m", emails=["evil@x.example"])
    out = crm.ok("mail", "query", "evil").stdout
    assert out == "crm: 1 address for 'evil'\nevil@x.example\tEvil Name X [31m\t\n"
    assert crm.ok("mail", "query", "evil", "-f", "plain").stdout == (
        '"Evil Name X [31m" <evil@x.example>\n'
    )


# -- mail log ------------------------------------------------------------------------

ALTERNATIVE = b"""From: =?iso-8859-1?q?Zo=EB?= Durand <zoe@acme.example>
To: Me <me@example.com>
Cc: Jane Doe <JANE@acme.example>, stranger@else.example
Subject: =?utf-8?b?UsOpdW5pb24=?= =?koi8-r?b?IPDSydfF1CA=?= =?iso-2022-jp?b?GyRCRnxLXBsoQg==?=
Date: Tue, 01 Dec 2026 10:00:00 +0100
Message-ID: <alt@acme.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Voil=E0 the quote.

On Mon, 30 Nov 2026 at 09:00, Me <me@example.com> wrote:
> Could you send the quote?
> Thanks

--=20
Zo=EB, Acme Corp
--alt
Content-Type: text/html; charset=utf-8

<p>Voil\xc3\xa0 the quote.</p>
--alt--
--outer
Content-Type: application/pdf; name="quote.pdf"
Content-Disposition: attachment; filename="quote.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
"""


def test_multipart_message_logged_for_each_known_contact(book):
    result = book.ok("mail", "log", "-", input=ALTERNATIVE)
    assert "Logged e-mail" in result.stderr and "stranger@else.example" in result.stderr
    logged = activities(book)
    assert sorted(item["contact"] for item in logged) == ["Jane Doe", "Zoë Durand"]
    for item in logged:
        assert item["kind"] == "email" and item["account"] == "Acme Corp"
        assert item["subject"] == "Réunion Привет 日本"
        assert item["at"] == "2026-12-01T09:00:00Z"
        assert item["fields"] == {"message_id": "<alt@acme.example>", "direction": "received"}
        assert item["body"] == (
            "Voilà the quote.\n[… 2 quoted lines]\n\n"
            "Attachments (not kept):\n- quote.pdf (application/pdf)"
        )
    zoe = book.json("contact", "show", "zoe@acme.example")
    assert zoe["last_contacted"] == "2026-12-01T09:00:00Z"  # as crm log --kind email sets it


def test_logged_email_counts_for_crm_due(book):
    assert [c["name"] for c in book.json("due")["contacts"]] == ["Zoë Durand"]
    recent = message(body="Fresh").replace(b"Tue, 01 Dec 2026", b"Tue, 01 Dec 2099")
    book.ok("mail", "log", input=recent)
    assert book.json("due")["contacts"] == []


def test_same_message_twice_is_logged_once(book):
    book.ok("mail", "log", input=message())
    again = book.ok("mail", "log", input=message())
    assert "Already logged" in again.stderr and "nothing was done" in again.stderr
    assert len(activities(book)) == 1
    assert len(book.json("history")) == 5  # 4 for the book, 1 for the message


def test_html_only_message_is_made_readable(book):
    html = (
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head><body>"
        "<p>Dear Me,</p><p>see <a href='https://acme.example/q'>the quote</a>.</p>"
        "<ul><li>one</li><li>two &amp; three</li></ul></body></html>"
    )
    raw = message(body=html, headers="\nContent-Type: text/html; charset=utf-8")
    book.ok("mail", "log", input=raw)
    (item,) = activities(book)
    assert item["body"] == (
        "Dear Me,\n\nsee the quote <https://acme.example/q>.\n\n- one\n\n- two & three"
    )


def test_message_sent_by_me_is_sent_and_linked_to_the_recipients(book):
    raw = message(sender="Me <me@work.example>", to="Zoë <zoe@durand.example>, bob@stone.example")
    book.ok("mail", "log", input=raw)
    logged = activities(book)
    assert sorted(item["contact"] for item in logged) == ["Bob Stone", "Zoë Durand"]
    assert {item["fields"]["direction"] for item in logged} == {"sent"}


def test_unknown_addresses_refused_created_or_given_a_contact(book):
    raw = message(sender='"Doe, John" <john@new.example>', to="me@example.com")
    failed = book.fails(1, "mail", "log", input=raw)
    assert "john@new.example" in failed.stderr and "nothing was written" in failed.stderr
    assert activities(book) == []
    book.ok("mail", "log", "--contact", "Bob Stone", input=raw)
    assert [item["contact"] for item in activities(book)] == ["Bob Stone"]
    other = message(sender="Ann Lee <ann@new.example>", message_id="<m2@x>")
    created = book.ok("mail", "log", "--create", input=other)
    assert "Added contact 'Ann Lee' <ann@new.example>" in created.stderr
    ann = book.json("contact", "show", "ann@new.example")
    assert (ann["first_name"], ann["last_name"]) == ("Ann", "Lee")


def test_raw_utf8_names_in_address_headers_are_read_as_utf8(book):
    # RFC 6532: headers may hold UTF-8 as such (no encoded words); the parser reads
    # them as ASCII, which had made 'Zoë' 'Zo??'.  Bytes that are no UTF-8: U+FFFD.
    raw = message(sender="Åsa Öberg <åsa@nord.example>", to="#ff Bad <bad@x.example>")
    raw = raw.replace(b"#ff", b"\xff")
    book.ok("mail", "log", "--create", input=raw)
    names = {item["email"]: item["name"] for item in book.json("list", "contacts")}
    assert names["åsa@nord.example"] == "Åsa Öberg"
    assert names["bad@x.example"] == "\ufffd Bad"


def test_mbox_is_one_operation_undone_whole(book, tmp_path):
    box = tmp_path / "in.mbox"
    mbox = mailbox.mbox(box)
    mbox.add(message(message_id="<a@x>"))
    mbox.add(message(message_id="<b@x>", sender="Jane <jane@acme.example>"))
    mbox.add(message(message_id="<a@x>"))  # twice in one mbox
    mbox.add(message(message_id="<c@x>", sender="who@else.example"))
    mbox.add(b"no headers at all")
    mbox.close()
    result = book.ok("mail", "log", str(box), "--json")
    summary = json.loads(result.stdout)
    assert len(summary["logged"]) == 2 and len(summary["already_logged"]) == 1
    assert len(summary["no_known_contact"]) == 1 and len(summary["unreadable"]) == 1
    assert summary["unknown_addresses"] == ["who@else.example"]
    assert result.stderr.startswith("Logged 2 messages (2 activities)")
    before = len(book.json("history"))
    assert len(activities(book)) == 2
    book.ok("undo")
    assert activities(book) == [] and len(book.json("history")) == before + 1
    assert "Already" not in book.ok("mail", "log", str(box)).stderr  # undone: logged again


def test_maildir_is_read(book, tmp_path):
    folder = mailbox.Maildir(tmp_path / "Mail", create=True)
    folder.add(message(message_id="<d1@x>"))
    folder.add(message(message_id="<d2@x>", subject="Second"))
    book.ok("mail", "log", str(tmp_path / "Mail"))
    assert sorted(item["subject"] for item in activities(book)) == ["Hello", "Second"]
    assert "2 already logged" in book.ok("mail", "log", str(tmp_path / "Mail")).stderr
    strangers = mailbox.Maildir(tmp_path / "Other", create=True)
    for n in range(2):
        strangers.add(message(message_id=f"<o{n}@x>", sender="who@else.example"))
    failed = book.fails(1, "mail", "log", str(tmp_path / "Other"))
    assert "no message was logged: 2 with no known contact (addresses: who@else.example" in (
        failed.stderr
    )


def test_an_mbox_on_stdin_and_a_message_from_a_fifo(book, tmp_path):
    import threading

    piped = b"".join(
        b"From someone Tue Dec  1 10:00:00 2026\n" + message(message_id=f"<s{i}@x>") + b"\n"
        for i in range(2)
    )
    assert book.ok("mail", "log", "-", input=piped).stderr.startswith("Logged 2 messages")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(message(message_id="<f@x>"),))
    writer.start()
    assert "Logged e-mail" in book.ok("mail", "log", str(fifo)).stderr
    writer.join()
    assert len(activities(book)) == 3


def test_me_must_list_addresses(crm, tmp_path):
    (tmp_path / "config.toml").write_text("me = 3\n")
    config.load.cache_clear()
    (tmp_path / "x.eml").write_bytes(message())
    failed = crm.fails(2, "mail", "log", str(tmp_path / "x.eml"))
    assert "me must list your e-mail addresses" in failed.stderr


def test_a_message_without_message_id_is_still_logged_once(book):
    book.ok("mail", "log", input=message(message_id=None))
    book.ok("mail", "log", input=message(message_id=None))
    (item,) = activities(book)
    assert item["fields"]["message_id"].startswith("sha256:")


BIG = 2 * 1024 * 1024
MIXED = '\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"'
ATTACHED = (
    "--b\nContent-Type: text/plain\n\nsee attached\n--b\n"
    "Content-Type: application/octet-stream\n"
    'Content-Disposition: attachment; filename="big\x1b.bin"\n'
    "Content-Transfer-Encoding: base64\n\n" + ("A" * 76 + "\n") * (BIG // 57) + "--b--"
)
NESTED = '--b\nContent-Type: multipart/mixed; boundary="b"\n\n' * 3000
HOSTILE = {  # name: (message, exit code, what to check)
    "empty": (b"", 1, "empty"),
    "no-headers": (b"\x00\xff junk with no headers\n\x1b[2J", 1, "not an e-mail"),
    "control-chars": (
        message(subject="\x1b]0;pwned\x07Re:\u202e\tok"),
        0,
        "subject=]0;pwned Re: ok",
    ),
    "bad-charset": (
        message(headers="\nContent-Type: text/plain; charset=x-no-such", body="caf#").replace(
            b"#", b"\xe9"
        ),
        0,
        "body=café",
    ),
    "broken-mime": (
        message(headers=MIXED, body="--b\nContent-Type: text/plain\n\nno end\n--z"),
        0,
        "body=no end\n--z",
    ),
    "attachment": (
        message(headers=MIXED, body=ATTACHED),
        0,
        "body=see attached\n\nAttachments (not kept):\n- big .bin (application/octet-stream)",
    ),
    "huge-body": (message(body="x" * 1_100_000), 0, "cut"),
    "nested": (message(headers=MIXED, body=NESTED), 1, "too many MIME parts"),
    "huge-header": (message(to="a@b.example, " * 30_000), 1, "headers are over 256 kB"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_messages_refused_or_logged_cleanly(book, name):
    raw, code, check = HOSTILE[name]
    result = book("mail", "log", input=raw)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    if code:
        assert result.stderr.startswith("Error: ") and check in result.stderr
        assert activities(book) == []
        return
    (item,) = activities(book)
    if check.startswith("subject="):
        assert item["subject"] == check[len("subject=") :]
    elif check.startswith("body="):
        assert item["body"] == check[len("body=") :]
    else:
        assert len(item["body"].encode()) <= 1_000_000
        assert item["body"].endswith("crm keeps 1,000,000]")


def test_a_huge_body_is_read_only_as_far_as_it_is_kept(monkeypatch):
    # HTML is made text at about a microsecond a character: a 50 MB HTML body took
    # 80 s.  Only the beginning is read (the rest would be cut), the marker says how
    # big the whole was.
    from crmcli.formats import mail as formats

    read = []
    real = formats.html_text
    monkeypatch.setattr(formats, "html_text", lambda html: read.append(len(html)) or real(html))
    html = "<p>" + "word " * 1_000_000 + "</p>"  # 5 MB
    parsed = formats.parse(message(headers="\nContent-Type: text/html", body=html))
    assert read and read[0] <= 2 * 1024 * 1024
    assert parsed.body.startswith("word word")
    assert parsed.body.endswith("]") and "the body was 5,000,00" in parsed.body[-80:]
    assert len(parsed.body.encode()) <= 1_000_000


# -- crm open ------------------------------------------------------------------------


def test_open_prints_urls_off_a_terminal(book):
    assert book.ok("open", "Acme Corp").stdout == "https://acme.example\n"
    assert book.ok("open", "Zoë Durand").stdout == "https://acme.example\n"  # its account's
    assert book.ok("open", "jane@acme.example", "--mail").stdout == "mailto:jane@acme.example\n"
    assert book.ok("open", "Jane Doe", "--call").stdout == "tel:+15550100\n"
    assert book.ok("open", "acme corp", "--map").stdout == (
        "https://www.openstreetmap.org/search?query=Lyon%2C%20France\n"
    )
    assert "has no phone" in book.fails(1, "open", "Bob Stone", "--call").stderr
    book.fails(3, "open", "nobody")
    book.ok("account", "new", "Evil", "--website", "javascript:alert(1)")
    assert "not an http(s) address" in book.fails(1, "open", "Evil", "--web").stderr


def test_open_encodes_what_would_show_another_address(book):
    # A bidi override or zero-width character would make the URL read as another
    # one; quotes and angle brackets are not URL characters: all percent-encoded.
    book.ok("account", "new", "Spoof", "--website", 'https://x.example/\u202egpj.exe\u200b"<b>')
    assert book.ok("open", "Spoof", "--web").stdout == (
        "https://x.example/%E2%80%AEgpj.exe%E2%80%8B%22%3Cb%3E\n"
    )
    book.ok("account", "new", "Evil", "--website", "file:///etc/passwd")
    message = book.fails(1, "open", "Evil", "--web")
    assert "account 'Evil': its website 'file:///etc/passwd' is not" in message.stderr


@pytest.mark.parametrize(
    ("phone", "url"),
    [
        ("+1 555 0100 x23", "tel:+15550100;ext=23"),
        ("+1 (555) 0100 ext. 23", "tel:+15550100;ext=23"),
        ("+1 555 0100,,23", "tel:+15550100;ext=23"),
        ("+33 1 23 45;ext=9", "tel:+3312345;ext=9"),
        ("#31#0123 456", "tel:%2331%230123456"),  # a service code before the number, no extension
    ],
)
def test_open_call_never_dials_an_extension_as_the_number(crm, phone, url):
    crm.ok("contact", "add", "Caller", "--phone", phone)
    assert crm.ok("open", "Caller", "--call").stdout == url + "\n"


def test_open_runs_the_opener_on_a_terminal(crm, tmp_path, monkeypatch):
    from crmcli import render

    crm.ok("account", "new", "Acme", "--website", "https://acme.example/a b")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/opened\n')
    opener.chmod(0o755)
    monkeypatch.setattr(render, "on_terminal", lambda file=None: True)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert crm.ok("open", "Acme").stdout == ""
    assert (tmp_path / "opened").read_text() == "https://acme.example/a%20b\n"
    opener.write_text("#!/bin/sh\nexit 4\n")
    assert "(exit 4)" in crm.fails(1, "open", "Acme").stderr
    opener.unlink()  # no opener: the URL is printed
    assert crm.ok("open", "Acme").stdout == "https://acme.example/a%20b\n"


# -- end to end ----------------------------------------------------------------------


def test_mutt_pipe_and_query_through_the_installed_crm(run, crm, tmp_path):
    crm.ok("contact", "add", "Zoë Durand", "--email", "zoe@acme.example")
    env = {**run.env, "CRM_CONFIG": str(tmp_path / "none.toml")}
    logged = run("mail", "log", input=message().decode(), env=env)
    assert "Logged e-mail 'Hello'" in logged.stderr
    assert "Already logged" in run("mail", "log", "-", input=message().decode(), env=env).stderr
    assert run("mail", "query", "zoe", env=env).stdout == (
        "crm: 1 address for 'zoe'\nzoe@acme.example\tZoë Durand\t\n"
    )


def test_progress_bar_on_a_terminal_only(monkeypatch):
    import io
    import sys

    from crmcli.cli import mail

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    shown = Terminal()
    monkeypatch.setattr(sys, "stderr", shown)
    with mail._progress(3) as advance:
        for _ in range(3):
            advance()
    assert "logging messages" in shown.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with mail._progress(3) as advance:
        assert advance is None
