"""The second process that checks a big import shares the checking with the writer."""

import queue

import pytest

from crmcli import config, workers
from crmcli.store import checks

ITEMS = [
    ("line 2", "contacts", {"name": "Ann Lee", "emails": "ann@x.example"}),
    ("line 3", "contacts", {"name": "", "emails": "not an address"}),
]


def test_a_chunk_is_left_to_the_writer_only_while_it_waits():
    settings = config.load()
    waiting = queue.Queue()
    assert workers._shared(ITEMS, waiting, settings) == (False, ITEMS)
    waiting.put(b"a chunk not sent yet")
    done, entries = workers._shared(ITEMS, waiting, settings)
    assert done and entries == list(checks.checked(ITEMS, settings))
    assert isinstance(entries[0][2], checks.Checked) and isinstance(entries[1][2], str)


@pytest.mark.parametrize("share", [True, False], ids=["left to the writer", "checked in the child"])
def test_either_side_checks_to_the_same_import(crm, tmp_path, monkeypatch, share):
    """However the chunks were shared, every record is checked once, in order."""
    monkeypatch.setattr(workers, "ELSEWHERE_FROM", 0)
    monkeypatch.setattr(workers, "_CHUNK", 7)
    monkeypatch.setattr(queue.Queue, "empty", lambda self: share)
    rows = [f"P {n},p{n}@x.example" for n in range(100)] + ["Bad,not-an-address"]
    source = tmp_path / "people.csv"
    source.write_text("name,email\n" + "\n".join(rows) + "\n")
    result = crm.fails(1, "import", str(source))
    assert "line 102: invalid email 'not-an-address'" in result.stderr
    source.write_text("name,email\n" + "\n".join(rows[:-1]) + "\n")
    crm.ok("import", str(source))
    names = [contact["name"] for contact in crm.json("contact", "list", "--sort", "id")]
    assert names == [f"P {n}" for n in range(100)]
