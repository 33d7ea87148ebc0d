"""Photos of contacts and logos of accounts (issue 12): stored as bytes beside the
row, shown as {media_type, size}, written out exactly, undone like any change."""

import base64
import json
import struct
import subprocess
import zlib

import pytest

from crmcli import db
from crmcli.errors import InvalidValue, Refused
from crmcli.store import care, contacts, photos


def png(pixels: int = 1) -> bytes:
    """A real PNG of `pixels` x 1 red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", pixels, 1, 8, 2, 0, 0, 0)
    raw = b"\x00" + b"\xff\x00\x00" * pixels
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


def jpeg(size: int) -> bytes:
    return (JPEG * (size // len(JPEG) + 1))[:size]


@pytest.mark.parametrize(
    "data, media_type",
    [
        (JPEG, "image/jpeg"),
        (png(), "image/png"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"BM" + bytes(12) + (40).to_bytes(4, "little") + bytes(8), "image/bmp"),
        (b"II*\x00\x08\x00\x00\x00" + bytes(6), "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08" + bytes(6), "image/tiff"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "image/avif"),
    ],
)
def test_the_media_type_is_what_the_bytes_say(data, media_type):
    assert photos.checked(data).media_type == media_type
    assert photos.checked(data, "image/gif" if media_type != "image/gif" else "image/png") == (
        media_type,
        data,
    )  # a declared type that disagrees loses


def test_a_declared_type_never_makes_unknown_bytes_an_image():
    """What a file declares (image/svg+xml, any image/*) does not make bytes an
    image: only the kinds photos.sniffed knows, as on the command line."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    assert photos.checked(JPEG, "JPEG").media_type == "image/jpeg"
    assert photos.declared_type("jpg") == photos.declared_type("image/JPEG; q=1") == "image/jpeg"
    for declared in (None, "image/svg+xml", "image/x-anything", "text/plain", "image/<b>"):
        with pytest.raises(Refused, match="not an image crm recognises"):
            photos.checked(svg, declared)
    for signature in (b"GIF89a", b"\x89PNG\r\n\x1a\n" + bytes(30), b"\xff\xd8\xff\xe0"):
        with pytest.raises(Refused, match="not an image crm recognises"):
            photos.checked(signature, "image/gif")  # a signature alone is no image


def test_empty_and_oversized_images_are_refused():
    with pytest.raises(Refused, match="the photo is empty"):
        photos.checked(b"")
    assert len(photos.checked(jpeg(photos.LIMIT)).data) == 2_000_000
    with pytest.raises(Refused, match="2,000,001 bytes: at most 2,000,000"):
        photos.checked(jpeg(photos.LIMIT + 1))


def test_a_record_value_is_base64_and_without_data_leaves_the_photo_alone():
    encoded = base64.b64encode(JPEG).decode()
    assert photos.from_record({"media_type": "image/jpeg", "data": encoded}) == ("image/jpeg", JPEG)
    folded = "\n ".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    assert photos.from_record({"data": folded}).data == JPEG  # line breaks in base64
    assert photos.from_record(json.dumps({"data": encoded})).data == JPEG  # a CSV cell's JSON
    for alone in (None, "", {"media_type": "image/png", "size": 12}, '{"size": 3}'):
        assert photos.from_record(alone) is None
    with pytest.raises(InvalidValue, match="not valid base64"):
        photos.from_record({"data": "not base64!"})
    with pytest.raises(InvalidValue, match="a logo is"):
        photos.from_record("https://example.com/logo.png", what="logo")
    with pytest.raises(Refused, match="at most 2,000,000"):
        photos.from_record({"data": base64.b64encode(jpeg(photos.LIMIT + 1)).decode()})
    with pytest.raises(Refused, match="about 2,250,000 bytes"):  # refused before decoding
        photos.from_record({"data": "A" * 3_000_000})


def test_stored_beside_the_row_and_removed_with_its_owner(conn):
    jane = contacts.add_contact(conn, full_name="Jane Doe")["id"]
    bob = contacts.add_contact(conn, full_name="Bob Roe")["id"]
    assert photos.get(conn, "contacts", jane) is None
    photos.put(conn, "contacts", jane, photos.checked(JPEG))
    photos.put(conn, "contacts", bob, photos.checked(png()))
    photos.put(conn, "contacts", jane, photos.checked(png(2)))  # replaced
    assert photos.get(conn, "contacts", jane) == ("image/png", png(2))
    assert contacts.get_contact(conn, jane)["photo"] == {
        "media_type": "image/png",
        "size": len(png(2)),
    }
    listed = {c["id"]: c["photo"] for c in contacts.list_contacts(conn)}
    assert listed == {jane: {"media_type": "image/png", "size": len(png(2))},
                      bob: {"media_type": "image/png", "size": 69}}  # fmt: skip
    assert [owner for owner, _ in photos.in_order(conn, "contacts")] == [jane, bob]
    records = photos.attach(conn, "contacts", [{"id": jane}, {"id": 99}])
    assert list(records) == [{"id": jane, "photo": photos.Picture("image/png", png(2)).exported()},
                             {"id": 99}]  # fmt: skip
    assert photos.remove(conn, "contacts", bob) and not photos.remove(conn, "contacts", bob)
    assert contacts.get_contact(conn, bob)["photo"] is None
    contacts.delete_contact(conn, str(jane))
    assert conn.execute("SELECT count(*) FROM contact_photos").fetchone()[0] == 0
    assert care.check(conn) == []


def test_a_listing_reads_no_photo_bytes(conn):
    """The listing's query never names the photos' table: the size is on the row."""
    jane = contacts.add_contact(conn, full_name="Jane Doe")["id"]
    photos.put(conn, "contacts", jane, photos.checked(JPEG))
    statements = []
    conn.set_trace_callback(statements.append)
    list(contacts.list_contacts(conn))
    conn.set_trace_callback(None)
    assert statements and not any("contact_photos" in sql for sql in statements)


# -- the command line -------------------------------------------------------------
@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    made = {"png": png(), "jpg": JPEG, "max": jpeg(2_000_000), "over": jpeg(2_000_001),
            "txt": b"hello", "empty": b""}  # fmt: skip
    for name, data in made.items():
        (folder / f"{name}.bin").write_bytes(data)
    return {name: folder / f"{name}.bin" for name in made}


def test_photo_on_add_edit_show_and_out(crm, files, tmp_path):
    jane = crm.new_id("contact", "add", "Jane Doe", "--photo", str(files["png"]))
    shown = crm.json("contact", "show", str(jane))
    assert shown["photo"] == {"media_type": "image/png", "size": len(png())}
    assert "image/png" in crm.ok("contact", "show", str(jane)).stdout
    assert crm.ok("contact", "photo", str(jane)).stdout_bytes == png()
    crm.ok("contact", "edit", str(jane), "--photo", str(files["max"]))
    out = tmp_path / "out.jpg"
    out.write_bytes(b"old")
    result = crm.ok("contact", "photo", "Jane Doe", "-o", str(out))
    assert out.read_bytes() == jpeg(2_000_000) and result.stdout == ""
    assert "image/jpeg, 2,000,000 bytes" in result.stderr
    assert [c["photo"]["size"] for c in crm.json("contact", "list")] == [2_000_000]
    assert crm.ok("list", "--columns", "id,photo", "-f", "csv").stdout.splitlines()[1] == (
        '1,"{""media_type"":""image/jpeg"",""size"":2000000}"'
    )
    crm.ok("contact", "edit", str(jane), "--no-photo")
    assert crm.json("contact", "show", str(jane))["photo"] is None
    assert "no photo" in crm.fails(1, "contact", "photo", str(jane)).stderr


def test_bad_photo_files_are_refused_and_nothing_stored(crm, files, tmp_path):
    jane = crm.new_id("contact", "add", "Jane Doe", "--photo", str(files["jpg"]))
    for name, message in [
        ("over", "over.bin is 2,000,001 bytes: a photo may have at most 2,000,000"),
        ("txt", "txt.bin: the photo is not an image crm recognises (JPEG, PNG"),
        ("empty", "empty.bin: the photo is empty"),
    ]:
        result = crm.fails(1, "contact", "edit", str(jane), "--photo", str(files[name]))
        assert message in result.stderr and result.stderr.count("\n") == 1
        crm.fails(1, "contact", "add", "Bob", "--photo", str(files[name]))
    assert "cannot read" in crm.fails(1, "contact", "add", "Bob", "--photo", "nope.jpg").stderr
    both = crm.fails(2, "contact", "edit", str(jane), "--photo", str(files["png"]), "--no-photo")
    assert "--photo and --no-photo cannot be used together" in both.stderr
    assert [c["name"] for c in crm.json("contact", "list")] == ["Jane Doe"]
    assert crm.ok("contact", "photo", str(jane)).stdout_bytes == JPEG


def test_binary_is_not_written_to_a_terminal(crm, files, monkeypatch):
    from crmcli import render

    crm.ok("contact", "add", "Jane Doe", "--photo", str(files["jpg"]))
    monkeypatch.setattr(render, "on_terminal", lambda file=None: True)
    result = crm.fails(1, "contact", "photo", "Jane Doe")
    assert "stdout is a terminal: give -o FILE or redirect (> photo.jpg)" in result.stderr


def test_photo_out_refuses_the_database_and_writes_a_fifo(crm, files, tmp_path, db_path):
    import os
    import threading

    crm.ok("contact", "add", "Jane Doe", "--photo", str(files["png"]))
    crm.fails(1, "contact", "photo", "Jane Doe", "-o", str(db_path))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    crm.ok("contact", "photo", "Jane Doe", "-o", str(fifo))
    reader.join(10)
    assert got == [png()]


def test_account_logo(crm, files, tmp_path):
    acme = crm.new_id("account", "new", "Acme", "--logo", str(files["png"]))
    assert crm.json("account", "show", "Acme")["logo"] == {"media_type": "image/png", "size": 69}
    assert crm.ok("account", "logo", "Acme").stdout_bytes == png()
    crm.ok("account", "edit", str(acme), "--logo", str(files["jpg"]))
    crm.ok("account", "logo", "Acme", "-o", str(tmp_path / "logo.jpg"))
    assert (tmp_path / "logo.jpg").read_bytes() == JPEG
    assert crm.json("account", "list")[0]["logo"]["media_type"] == "image/jpeg"
    crm.fails(2, "account", "edit", "Acme", "--logo", str(files["png"]), "--no-logo")
    crm.fails(1, "account", "edit", "Acme", "--logo", str(files["over"]))
    crm.ok("account", "delete", "Acme", "--yes")
    crm.ok("undo")  # the account and its logo come back
    assert crm.json("account", "show", "Acme")["logo"] == {"media_type": "image/jpeg",
                                                           "size": len(JPEG)}  # fmt: skip
    assert crm.ok("account", "logo", "Acme").stdout_bytes == JPEG
    crm.ok("account", "edit", "Acme", "--no-logo")
    assert "'Acme' has no logo" in crm.fails(1, "account", "logo", "Acme").stderr


# -- undo ---------------------------------------------------------------------------
def photo_of(db_path, contact_id=1):
    with db.session(db_path, write=False) as conn:
        return photos.get(conn, "contacts", contact_id)


def test_undo_puts_back_every_photo_change(crm, files, db_path):
    jane = str(crm.new_id("contact", "add", "Jane Doe"))
    steps = [
        ("--photo", str(files["png"])),  # added
        ("--photo", str(files["max"])),  # replaced by 2 MB
        ("--no-photo",),  # removed
    ]
    states = [photo_of(db_path)]
    for step in steps:
        crm.ok("contact", "edit", jane, *step)
        states.append(photo_of(db_path))
    assert [s and s.media_type for s in states] == [None, "image/png", "image/jpeg", None]
    for operation in (4, 3, 2):  # newest first, each back to the state before it
        crm.ok("undo", str(operation))
        assert photo_of(db_path) == states[operation - 2]
        assert crm.json("contact", "show", jane)["photo"] == (
            states[operation - 2] and states[operation - 2].shown()
        )
    assert "database ok" in crm.ok("db", "check").stderr


def test_undo_of_deleting_a_contact_brings_its_photo_back(crm, files, db_path):
    crm.ok("contact", "add", "Jane Doe", "--photo", str(files["max"]))
    crm.ok("contact", "delete", "Jane Doe", "--yes")
    assert photo_of(db_path) is None
    crm.ok("undo")
    assert photo_of(db_path) == ("image/jpeg", jpeg(2_000_000))
    assert crm.json("contact", "show", "1")["photo"]["size"] == 2_000_000
    crm.ok("undo", "1")  # the add (with its photo), once the delete is undone
    assert photo_of(db_path) is None and crm.json("contact", "list") == []
    assert "database ok" in crm.ok("db", "check").stderr


def test_undoing_the_add_of_a_contact_with_a_later_photo_is_refused(crm, files):
    crm.ok("contact", "add", "Jane Doe")
    crm.ok("contact", "edit", "Jane Doe", "--photo", str(files["png"]))
    crm.ok("account", "new", "Acme")  # the latest, so undo 1 must name it
    result = crm.fails(1, "undo", "1")
    assert "operation 2" in result.stderr
    assert crm.ok("contact", "photo", "Jane Doe").stdout_bytes == png()


def test_db_check_finds_a_photo_size_out_of_step(crm, files, db_path):
    import sqlite3

    crm.ok("contact", "add", "Jane Doe", "--photo", str(files["png"]))
    assert "database ok" in crm.ok("db", "check").stderr
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE contacts SET photo = NULL")  # as another program might
    raw.commit()
    raw.close()
    assert "1 with summary columns out of step" in crm.fails(1, "db", "check").stderr


# -- export and import ---------------------------------------------------------------
def test_backup_and_jsonl_carry_the_bytes_and_bring_them_back(crm, files, tmp_path):
    crm.ok("account", "new", "Acme", "--logo", str(files["jpg"]))
    crm.ok("contact", "add", "Jane Doe", "--photo", str(files["png"]), "--account", "Acme")
    crm.ok("contact", "add", "No Photo")
    crm.ok("contact", "add", "Bob Roe", "--photo", str(files["max"]))
    backup = json.loads(crm.ok("export").stdout)
    assert [c["photo"] and c["photo"]["media_type"] for c in backup["contacts"]] == [
        "image/png", None, "image/jpeg"]  # fmt: skip
    assert base64.b64decode(backup["contacts"][2]["photo"]["data"]) == jpeg(2_000_000)
    assert base64.b64decode(backup["accounts"][0]["logo"]["data"]) == JPEG
    lines = [json.loads(line) for line in crm.ok("export", "-f", "jsonl").stdout.splitlines()]
    assert [r["photo"] for r in lines if r["record"] == "contact"] == [
        c["photo"] for c in backup["contacts"]]  # fmt: skip
    (tmp_path / "b.json").write_text(json.dumps(backup))
    (tmp_path / "b.jsonl").write_text("\n".join(map(json.dumps, lines)))
    for name in ("b.json", "b.jsonl"):  # the second is read in a second process (2 MB)
        env = {"CRM_DB": str(tmp_path / f"{name}.db")}
        crm.ok("import", str(tmp_path / name), env=env)
        assert crm.ok("contact", "photo", "Bob Roe", env=env).stdout_bytes == jpeg(2_000_000)
        assert crm.ok("contact", "photo", "Jane Doe", env=env).stdout_bytes == png()
        assert crm.ok("account", "logo", "Acme", env=env).stdout_bytes == JPEG
        assert crm.json("contact", "show", "No Photo", env=env)["photo"] is None
        assert "database ok" in crm.ok("db", "check", env=env).stderr
        crm.ok("undo", env=env)
        assert crm.json("contact", "list", env=env) == []


def test_import_updates_replace_a_photo_and_show_output_leaves_it(crm, files, tmp_path):
    jane = crm.new_id("contact", "add", "Jane Doe", "-e", "jane@x.example", "--photo",
                      str(files["png"]))  # fmt: skip
    shown = crm.json("contact", "show", str(jane))  # {"media_type", "size"}: no data
    shown["title"] = "CTO"
    path = tmp_path / "in.json"
    path.write_text(json.dumps([shown]))
    crm.ok("import", str(path), "--on-conflict", "update")
    assert crm.json("contact", "show", str(jane))["title"] == "CTO"
    assert crm.ok("contact", "photo", str(jane)).stdout_bytes == png()  # left alone
    new = {"media_type": "image/jpeg", "data": base64.b64encode(JPEG).decode()}
    path.write_text(json.dumps([{**shown, "photo": new}]))
    crm.ok("import", str(path), "--on-conflict", "skip")
    assert crm.ok("contact", "photo", str(jane)).stdout_bytes == png()  # skip keeps it
    crm.ok("import", str(path), "--on-conflict", "update")
    assert crm.ok("contact", "photo", str(jane)).stdout_bytes == JPEG
    crm.ok("undo")
    assert crm.ok("contact", "photo", str(jane)).stdout_bytes == png()


def test_import_refuses_bad_photos_by_record(crm, tmp_path):
    big = base64.b64encode(jpeg(2_000_001)).decode()
    records = [
        {"name": "Good", "photo": {"data": base64.b64encode(JPEG).decode()}},
        {"name": "Big", "photo": {"media_type": "image/jpeg", "data": big}},
        {"name": "Text", "photo": {"data": base64.b64encode(b"hello").decode()}},
        {"name": "Broken", "photo": {"data": "%%%"}},
        {"name": "List", "photo": ["not", "a", "photo"]},
    ]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(records))
    result = crm.fails(1, "import", str(path))
    assert "4 problems" in result.stderr
    assert "#2: the photo is 2,000,001 bytes: at most 2,000,000 are kept" in result.stderr
    assert "#3: the photo is not an image crm recognises" in result.stderr
    assert "#4: the photo's data is not valid base64" in result.stderr
    assert '#5: a photo is {"media_type": "image/jpeg", "data": "BASE64"}' in result.stderr
    assert crm.json("contact", "list") == []


def test_batches_hold_a_few_photos_not_thousands(conn, monkeypatch):
    """Memory follows the photos a batch holds: it is written once they come to
    PICTURE_BYTES, however few records that is."""
    from crmcli.store import bulk, imports
    from crmcli.store.checks import check

    monkeypatch.setattr(bulk, "PICTURE_BYTES", 3 * len(JPEG))
    flushed = []
    original = bulk.Batch._write_all

    def spy(self):
        flushed.append(sum(len(p) for p in self.pictures.values()))
        original(self)

    monkeypatch.setattr(bulk.Batch, "_write_all", spy)
    data = {"data": base64.b64encode(JPEG).decode()}
    items = [(f"#{n}", "contacts", check("contacts", {"name": f"P {n}", "photo": data}, None))
             for n in range(7)]  # fmt: skip
    imports.import_records(conn, items)
    assert flushed[:2] == [3, 3] and sum(flushed) == 7
    assert conn.execute("SELECT count(*) FROM contact_photos").fetchone()[0] == 7


# -- the installed crm -----------------------------------------------------------------
def test_e2e_photo_round_trip_limit_and_undo(run, installed_crm, files, tmp_path):
    jane = run("contact", "add", "Jane Doe", "--photo", str(files["max"]), "-q").stdout.strip()
    out = tmp_path / "jane.jpg"
    run("contact", "photo", jane, "-o", str(out))
    assert out.read_bytes() == jpeg(2_000_000)
    refused = run("contact", "edit", jane, "--photo", str(files["over"]), check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "2,000,001 bytes: a photo may have at most 2,000,000" in refused.stderr
    backup = tmp_path / "backup.json"
    run("export", "-o", str(backup))
    restored = {**run.env, "CRM_DB": str(tmp_path / "restored.db")}
    run("import", str(backup), env=restored)
    again = subprocess.run([installed_crm, "contact", "photo", "Jane Doe"],
                           capture_output=True, env=restored, timeout=60, check=True)  # fmt: skip
    assert again.stdout == jpeg(2_000_000)  # byte-exact through the JSON backup
    run("contact", "delete", jane, "--yes")
    run("undo")
    run("contact", "photo", jane, "-o", str(out))
    assert out.read_bytes() == jpeg(2_000_000)


def test_text_written_into_a_photo_by_another_program_comes_out_as_bytes(conn):
    jane = contacts.add_contact(conn, full_name="Jane Doe")["id"]
    conn.execute("INSERT INTO contact_photos VALUES (?, 'image/jpeg', 'not bytes é')", (jane,))
    assert photos.get(conn, "contacts", jane).data == "not bytes é".encode()
    assert [p.data for _, p in photos.in_order(conn, "contacts")] == ["not bytes é".encode()]


def test_a_merge_keeps_keeps_photo_or_takes_the_others(crm, files, db_path):
    crm.ok("contact", "add", "Jane Doe")  # 1: no photo
    crm.ok("contact", "add", "Jane D.", "--photo", str(files["png"]))  # 2
    crm.ok("contact", "add", "J. Doe", "--photo", str(files["jpg"]))  # 3
    crm.ok("contact", "merge", "Jane Doe", "Jane D.", "J. Doe", "--yes")
    assert photo_of(db_path) == ("image/png", png())  # the first one filled it
    crm.ok("undo")
    assert photo_of(db_path) is None and photo_of(db_path, 3) == ("image/jpeg", JPEG)
    crm.ok("account", "new", "Acme")
    crm.ok("account", "new", "ACME Inc.", "--logo", str(files["png"]))
    crm.ok("account", "merge", "Acme", "ACME Inc.", "--yes")
    assert crm.ok("account", "logo", "Acme").stdout_bytes == png()


def test_a_photo_column_of_links_is_kept_as_a_custom_field(crm, tmp_path):
    """Google's CSV has a Photo column of URLs: a link, not bytes."""
    path = tmp_path / "google.csv"
    path.write_text("First Name,Last Name,Photo,Notes\nJane,Doe,https://lh3.example/p/1,hi\n")
    crm.ok("import", str(path))
    jane = crm.json("contact", "show", "Jane Doe")
    assert jane["photo"] is None and jane["fields"] == {"photo_url": "https://lh3.example/p/1"}
