"""An import checks a value its file repeats (a company, a city, a title, a first
and last name) once, and every record that repeats it gets exactly what a check
of its own would have given, errors included."""

import pickle

import pytest

from crmcli import config, formats, models, workers
from crmcli.formats import table
from crmcli.store import checks, contacts, details

HEADER = "First Name,Last Name,E-mail Address,Business Phone,Company,Job Title,Business City\n"


@pytest.fixture
def fresh(monkeypatch):
    """Checks that remember nothing yet (each test its own caches)."""
    for name in ("_SEEN_VALUES", "_SEEN_ADDRESSES", "_SEEN_NAMES", "_SEEN_COMPANIES"):
        monkeypatch.setattr(checks, name, {})
    return config.load()


def _records(text: str) -> list[tuple]:
    return list(table.read_csv(formats.Source.of(HEADER + text), "contacts", None, []))


def _counted(monkeypatch, module, name: str) -> list:
    calls = []
    real = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_a_repeated_city_title_company_and_name_are_checked_once(fresh, monkeypatch):
    rows = "".join(f"Zoë,Ångström,p{n}@x.example,+1 555 {n:04},Acme Inc.,CTO,Lyon\n"
                   for n in range(50))  # fmt: skip
    addresses = _counted(monkeypatch, details, "addresses")
    names = _counted(monkeypatch, contacts, "names")
    cleaned = _counted(monkeypatch, contacts, "clean")
    companies = _counted(monkeypatch, models, "name")
    found = list(checks.checked(_records(rows), fresh))
    assert (len(addresses), len(names), len(cleaned), len(companies)) == (1, 1, 1, 1)
    first, last = found[0][2], found[-1][2]
    assert last.row == first.row and last.account == first.account == ("Acme Inc.", "acme inc.")
    assert (last.emails, last.phones) == ([(None, "p49@x.example")], [("work", "+1 555 0049")])
    assert last.text == "CTO p49@x.example +1 555 0049 15550049 15550049 5550049 Lyon"


def test_what_is_remembered_is_what_a_check_of_its_own_gives(fresh, monkeypatch):
    rows = "".join(f"{first},{last},p{n}@x.example,,{company},{title},{city}\n"
                   for n, (first, last, company, title, city) in enumerate(
                       [("Ann", "Lee", "Acme", "CTO", "Lyon"), ("Zoë", "", "", "", ""),
                        ("Ann", "Lee", " Acme", "CTO ", "Paris"), ("", "", "Acme", "", "Lyon"),
                        ("Ann", "Lee", "Acme", "", "Lyon")] * 3)
                   )  # fmt: skip
    records = _records(rows)
    remembered = list(checks.checked(records, fresh))
    for entry, record in zip(remembered, records, strict=True):
        for name in ("_SEEN_VALUES", "_SEEN_ADDRESSES", "_SEEN_NAMES", "_SEEN_COMPANIES"):
            monkeypatch.setattr(checks, name, {})
        assert repr(entry) == repr(next(checks.checked([record], fresh)))


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"addresses": [{"city": 1}]}, {"addresses": [{"city": True}]}),
        ({"addresses": [{"city": "1"}]}, {"addresses": [{"city": 1.5}]}),
        ({"first_name": "1"}, {"first_name": 1}),
        ({"first_name": 1}, {"first_name": True}),
        ({"first_name": "Ann"}, {"first_name": ["Ann"]}),
        ({"addresses": [{"city": "Lyon"}]}, {"addresses": [{"city": ["Lyon"]}]}),
        ({"account": "1"}, {"account": 1}),
    ],
)
def test_a_value_that_is_not_text_is_not_taken_for_text_seen_before(fresh, first, then):
    """JSON records may give numbers or lists where CSV gives text: 1 and True are
    one key of a dict, but not one value to check."""
    base = {"last_name": "Lee", "emails": [{"value": "a@x.example", "label": None}]}
    for record in (first, then, first, then):
        alone = checks.checked([("#1", "contacts", {**base, **record})], fresh)
        seen = [entry for entry in alone]
        for name in ("_SEEN_VALUES", "_SEEN_ADDRESSES", "_SEEN_NAMES", "_SEEN_COMPANIES"):
            setattr(checks, name, {})
        assert repr(seen) == repr(list(checks.checked([("#1", "contacts", {**base, **record})],
                                                       fresh)))  # fmt: skip
        # and with the caches as the other record left them
        list(checks.checked([("#0", "contacts", {**base, **first})], fresh))


def test_remembered_values_stay_few(fresh, monkeypatch):
    monkeypatch.setattr(checks, "_SEEN_MOST", 8)
    rows = "".join(f"A{n},B{n},p{n}@x.example,,C{n},T{n},City {n}\n" for n in range(40))
    found = list(checks.checked(_records(rows), fresh))
    assert found[39][2].row["city"] == "City 39" and found[39][2].account == ("C39", "c39")
    for name in ("_SEEN_VALUES", "_SEEN_ADDRESSES", "_SEEN_NAMES", "_SEEN_COMPANIES"):
        assert 0 < len(getattr(checks, name)) <= 8


def test_a_checked_chunk_travels_as_plain_tuples_and_arrives_checked(fresh):
    """The child pickles Checked records as tuples (a NamedTuple's pickling runs
    Python code twice a record); the writer gets Checked records back."""
    entries = list(checks.checked(_records("Ann,Lee,a@x.example,,Acme,,\n,,bad,,,,\n"), fresh))
    sent = pickle.loads(workers._pickled((True, entries)))
    assert type(sent[1][0][2]) is tuple and sent[1][1] == entries[1]
    back = list(workers._entries(sent[1]))
    assert back == entries and type(back[0][2]) is checks.Checked
    assert back[0][2].account == ("Acme", "acme") and isinstance(back[1][2], str)
