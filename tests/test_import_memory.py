"""An import's memory stays flat as the file grows (issue 17): what it learns
record by record (file ids remapped, vCard UIDs, where each record came from) is
kept compactly or moved to temporary tables, and finds what a dict of everything did."""

from __future__ import annotations

import gc
import json
import tracemalloc

import pytest

from crmcli import config, db
from crmcli.store import checks, common, imports


def _vcards(first: int, count: int):
    for number in range(first, first + count):
        yield (f"card {number} (line {number * 9 + 1})", "contacts", {
            "first_name": "Ann", "last_name": f"Lee{number}",
            "emails": [f"ann{number}@x.example"],
            "fields": {"uid": f"urn:uuid:7d3f0c1e-1111-4a5b-9c2d-{number:012}"}})  # fmt: skip


def _backup(first: int, count: int):
    if first == 0:  # in place of a contact: each run ends with a full chunk
        yield "accounts #1", "accounts", {"id": 5, "name": "Acme"}
    for number in range(first + (first == 0), first + count):
        yield (f"contacts #{number + 1}", "contacts", {
            "id": 1000 + number, "first_name": "Bo", "last_name": f"Ek{number}",
            "emails": [f"bo{number}@x.example"], "account_id": 5})  # fmt: skip


@pytest.mark.parametrize("records", [_vcards, _backup], ids=["vcard", "json-backup"])
def test_what_an_import_keeps_does_not_grow_with_its_records(records, tmp_path, monkeypatch):
    # Main kept every UID with its id (~150 bytes a card), every card's place as a
    # string (~100) and every file id's remap (~70 bytes a record, though most
    # records keep their id).
    monkeypatch.setattr(imports, "_HELD", 300, raising=False)
    settings, count = config.load(), 1500
    # Checked first: the checks' own caches of values seen (bounded) are not the import's.
    first, then = (list(checks.checked(records(start, count), settings))
                   for start in (0, count))  # fmt: skip
    with db.session(tmp_path / "crm.db", write=True) as conn:
        importer = imports._Importer(conn, "error")
        tracemalloc.start()  # before the first records: what they leave is traced too
        try:
            importer.run(first)
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            importer.run(then)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert sum(importer.report.created.values()) == 2 * count
    assert grown / count < 60, f"{grown / count:.0f} bytes kept a record"  # 24: three arrays


def test_a_places_numbers_give_it_back(tmp_path):
    origins = imports._Origins()
    places = {3: "card 1 (line 1)", 4: "card 2 (line 10)", 9: "card 3 (line 19)",
              10: "card 04 (line 30)", 11: "line 7", 12: "card",
              13: "card 5 (line 99)"}  # fmt: skip
    for row_id, where in places.items():
        origins.add(row_id, where)
    assert {row_id: origins.get(row_id) for row_id in [*places, 5]} == {**places, 5: None}
    assert len(origins.others) == 3  # a leading zero, another shape, no number
    csv = imports._Origins()
    for row_id in range(5):
        csv.add(row_id, f"line {row_id + 2}")
    csv.add(7, "contacts #3")
    assert [csv.get(row_id) for row_id in (0, 4, 7)] == ["line 2", "line 6", "contacts #3"]


def test_a_spilled_map_is_the_dict_it_replaces(tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "_HELD", 2)
    with db.session(tmp_path / "crm.db", write=True) as conn:
        latest, first = imports._Spilled(conn), imports._Spilled(conn, first=True)
        for spilled in (latest, first):
            spilled.set("a", 1)
            spilled.set(7, 2)
            spilled.spill()
            spilled.set("a", 3)
            spilled.set(8, 4)
            spilled.set(7, None)
            spilled.spill()
        assert latest.table is not None and not latest.held
        assert [latest.get(key) for key in ("a", 7, 8, "7", 9)] == [3, None, 4, None, None]
        assert [first.get(key) for key in ("a", 7, 8, "7", 9)] == [1, 2, 4, None, None]
        latest.drop()
        first.drop()
        tables = conn.execute("SELECT count(*) FROM temp.sqlite_master").fetchone()[0]
    assert tables == 0


CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:{uid}\r\nFN:{name}\r\n"
        "N:{name};;;;\r\nEMAIL:{email}\r\nEND:VCARD\r\n")  # fmt: skip


def _outcome(crm, tmp_path, name: str, *args: str) -> list:
    """Each import's exit code and message, then what is stored, on a fresh database."""
    env = {"CRM_DB": str(tmp_path / f"{name}.db")}
    seen = []
    for argv in args:
        result = crm(*argv.split("|"), env=env)
        seen.append((result.exit_code, result.stderr))
    stored = json.loads(crm.ok("export", "-f", "json", env=env).stdout)
    del stored["exported_at"]
    for records in stored.values():
        for record in records if isinstance(records, list) else ():
            for key in ("created_at", "updated_at"):
                record.pop(key, None)
    return [seen, stored]


def test_an_import_spilling_every_record_finds_what_one_in_memory_did(crm, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    cards = "".join(CARD.format(uid=f"u{n % 3}", name=f"Ann {n}", email=f"a{n}@x.example")
                    for n in range(6))  # fmt: skip
    (tmp_path / "cards.vcf").write_text(cards)
    backup = {"accounts": [{"id": 40, "name": "Acme"}, {"id": 41, "name": "Beta"}],
              "contacts": [{"id": 50 + n, "name": f"Bo {n}", "account_id": 40 + n % 2,
                            "emails": [f"b{n}@x.example"]} for n in range(4)]}  # fmt: skip
    (tmp_path / "backup.json").write_text(json.dumps(backup))
    rows = "".join(f"Cy {n % 3},c{n % 3}@x.example,Co{n % 2}\n" for n in range(7))
    (tmp_path / "rows.csv").write_text("Name,Email,Company\n" + rows)
    runs = [
        f"import|{tmp_path / 'cards.vcf'}",  # the same UID as card 1 (line 1)
        f"import|{tmp_path / 'cards.vcf'}|--skip-invalid",
        f"import|{tmp_path / 'cards.vcf'}|--on-conflict|update",
        "account|add|Acme",  # id 3: the file's Acme 40 is remapped to it
        "contact|add|Bo Zero|--email|b0@x.example",  # id 7: the file's contact 50 to it
        f"import|{tmp_path / 'backup.json'}|--on-conflict|skip",  # Acme 40 remapped to ours
        f"import|{tmp_path / 'backup.json'}|--on-conflict|update",
        f"import|{tmp_path / 'rows.csv'}",
        f"import|{tmp_path / 'rows.csv'}|--on-conflict|skip",  # touched, then repeats
        f"import|{tmp_path / 'rows.csv'}|--on-conflict|update",
        "undo",
    ]
    # One second for every stamp: an update then changes (and undo finds) the same in both.
    monkeypatch.setattr(common, "now", lambda: "2026-01-02T03:04:05Z")
    held = _outcome(crm, tmp_path, "held", *runs)
    monkeypatch.setattr(imports, "_HELD", 0)
    monkeypatch.setattr(imports, "_CHUNK", 1)  # every record's look-up after a spill
    monkeypatch.setattr(imports, "_CACHED", 0)  # and with the accounts' names forgotten
    spilled = _outcome(crm, tmp_path, "spilled", *runs)
    assert spilled == held
    codes = [code for code, _ in held[0]]
    assert codes == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], held[0]
    assert "card 4 (line 22): the same UID as card 1 (line 1)" in held[0][0][1]

