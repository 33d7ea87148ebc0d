"""Value rules: names, keys, e-mails, phones, dates, tags, custom fields."""

import unicodedata
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcli import models
from crmcli.errors import InvalidValue


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Jane Q. Doe", ("Jane Q.", "Doe")),
        ("Jane Doe", ("Jane", "Doe")),
        ("Cher", ("Cher", None)),
        ("  Jean   de  la Fontaine ", ("Jean de la", "Fontaine")),
        ("", (None, None)),
    ],
)
def test_split_full_name(full, expected):
    assert models.split_full_name(full) == expected


def test_fold_ignores_case_and_composition():
    decomposed = unicodedata.normalize("NFD", "Émile")
    assert decomposed != "Émile"
    assert models.fold("Émile") == models.fold("émile") == models.fold(decomposed)
    assert models.fold("STRASSE") == models.fold("straße")


def test_name_is_trimmed_and_required():
    assert models.name("name", "  Acme  ") == "Acme"
    for bad in ("", "   ", None):
        with pytest.raises(InvalidValue, match="must not be empty"):
            models.name("name", bad)


def test_limits_name_the_limit():
    assert models.name("name", "x" * 500) == "x" * 500
    with pytest.raises(InvalidValue, match="at most 500"):
        models.name("name", "x" * 501)
    assert models.text("description", "é" * 500_000)  # 1,000,000 bytes
    with pytest.raises(InvalidValue, match="1,000,000 bytes"):
        models.text("description", "é" * 500_001)


def test_text_is_stored_as_nfc():
    assert models.line("city", unicodedata.normalize("NFD", "Zürich")) == "Zürich"


def test_invalid_utf8_from_the_command_line_is_refused():
    with pytest.raises(InvalidValue, match="UTF-8"):
        models.name("name", "bad\udcff")


@pytest.mark.parametrize("address", ["jane@acme.example", "Émile@exämple.fr", "a.b+c@x.test"])
def test_valid_emails(address):
    assert models.email(address) == address


@pytest.mark.parametrize("address", ["jane", "jane@", "@acme.example", "a@@b.example", "a b@c.d"])
def test_invalid_emails(address):
    with pytest.raises(InvalidValue, match="invalid email"):
        models.email(address)


def test_email_length_limit():
    with pytest.raises(InvalidValue, match="at most 254"):
        models.email("a" * 250 + "@x.example")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("work:jane@acme.example", ("work", "jane@acme.example")),
        ("jane@acme.example", (None, "jane@acme.example")),
        ("Home Office:+1 555", ("home office", "+1 555")),
        ("+1 555 0100", (None, "+1 555 0100")),
        ("https://x.example", (None, "https://x.example")),
    ],
)
def test_labelled(raw, expected):
    assert models.labelled(raw) == expected


@pytest.mark.parametrize("number", ["+1 555 0100", "(030) 1234-567", "555.0100 ext 12", "0800/123"])
def test_valid_phones(number):
    assert models.phone(number) == number


@pytest.mark.parametrize("number", ["call me", "+", "555-CALL", "1;2"])
def test_invalid_phones(number):
    with pytest.raises(InvalidValue, match="invalid phone"):
        models.phone(number)


def test_dates():
    assert models.date("birthday", "1990-04-23") == "1990-04-23"
    for bad in ("1990-02-30", "23.04.1990", "1990-4-3", "tomorrow"):
        with pytest.raises(InvalidValue, match="YYYY-MM-DD"):
            models.date("birthday", bad)


def test_tags_deduplicate_ignoring_case():
    assert models.tags(["VIP", "vip", " key "]) == ["VIP", "key"]
    with pytest.raises(InvalidValue):
        models.tags([" "])


def test_assignments():
    assert models.assignments(["tier=gold", "note=a=b", "empty="]) == {
        "tier": "gold",
        "note": "a=b",
        "empty": "",
    }
    with pytest.raises(InvalidValue, match="KEY=VALUE"):
        models.assignments(["tier"])
    with pytest.raises(InvalidValue, match="custom field key"):
        models.assignments(["bad key=1"])


@pytest.mark.parametrize(
    "address",
    [
        "o'brien+tag@sub.example.co.uk",
        "用户@例子.广告",
        "x@[192.0.2.1]",
        "x@[IPv6:2001:db8::1]",
        "a-b@xn--bcher-kva.example",
    ],
)
def test_more_valid_emails(address):
    assert models.email(address) == address


@pytest.mark.parametrize(
    ("address", "why"),
    [
        (".jane@x.example", "dot"),
        ("ja..ne@x.example", "dot"),
        ('"jane doe"@x.example', "quoted"),
        ("jane@-x.example", "label"),
        ("jane@x_y.example", "label"),
        ("jane@x.123", "number"),
        ("jane@localhost", "needs a dot"),
        ("jane@[999.1.1.1]", "IP"),
        ("j\x1bane@x.example", "not allowed"),
        ("a" * 65 + "@x.example", "64"),
    ],
)
def test_email_reasons(address, why):
    with pytest.raises(InvalidValue, match=why):
        models.email(address)


@settings(derandomize=True, max_examples=300)
@given(st.from_regex(r"[a-z0-9.\-_+]{0,8}@?[a-z0-9.\-]{0,70}(\.[a-z0-9-]{0,5})?", fullmatch=True))
def test_the_plain_address_shortcut_agrees_with_the_full_rules(address):
    if models._plain(address):
        with mock.patch.object(models, "_plain", return_value=False):
            assert models._email_problem(address) is None
