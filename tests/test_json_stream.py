"""The JSON backup is read a chunk at a time (issue 17: a 635 MB backup held as
text twice peaked at 1.3 GB): records, errors and their places as from the whole text."""

import json

import pytest

from crmcli import formats
from crmcli.errors import Refused
from crmcli.formats import Source, backup


def read(source, kind="contacts"):
    try:
        return list(backup.read_json(source, kind))
    except Refused as exc:
        return exc.message


BACKUP = json.dumps(
    {
        "crmcli": 1,
        "version": 12345,
        "accounts": [{"name": 'Ünïcode \\u00e9 "q" ' + "x" * 40, "n": 1.5e3}],
        "contacts": [{"name": f"P{n}", "mails": [f"p{n}@x.example"], "ok": True} for n in range(9)],
        "tasks": [],
    },
    indent=1,
    ensure_ascii=False,
)
BROKEN = [
    BACKUP[:-3],  # cut off
    BACKUP.replace('"P4"', '"P4'),  # a quote lost
    BACKUP.replace("true", "tru", 3),
    BACKUP.replace("1500.0", "15e"),
    BACKUP.replace('"P7"', '"\\u12"'),
    BACKUP.replace('"mails"', "mails"),
    BACKUP + " [",
    '[{"name": "A"}, {"name": "B"}\n  \n\n ,, ]',
    '{"contacts": [{"name": "A"}], "version": 123',
]


@pytest.mark.parametrize("chunk", [1, 3, 8, 61])
@pytest.mark.parametrize("text", [BACKUP, '[{"name": "A"} , {"name": "B"}]', *BROKEN])
def test_read_in_chunks_as_from_the_whole_text(tmp_path, monkeypatch, chunk, text):
    path = tmp_path / "in.json"
    path.write_text(text, encoding="utf-8")
    whole = read(text)  # one chunk: the whole text
    monkeypatch.setattr(formats, "CHUNK", chunk)
    with Source.open(str(path), None) as source:
        assert read(source) == whole
    assert isinstance(whole, list) == (text not in BROKEN)


def test_memory_follows_a_record_not_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CHUNK", 4096)
    records = [{"name": f"Person {n}", "note": "n" * 100} for n in range(20_000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"contacts": records}), encoding="utf-8")
    with Source.open(str(path), None) as source:
        items = backup.read_json(source, "contacts")
        assert next(items)[2] == records[0]
        assert source.position < 3 * 4096 < source.size  # not the whole file read first
        assert sum(1 for _ in items) == len(records) - 1
