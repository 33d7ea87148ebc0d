"""formats.Source: the file being imported, read a chunk at a time as often as a
reader needs (issue 12: memory follows one card, not the file)."""

from __future__ import annotations

import os
import re
import subprocess
import threading

import pytest

from crmcli import formats
from crmcli.errors import Refused

SPLITS = {
    "any": r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+\Z",
    "lf": r"[^\n]*\n|[^\n]+\Z",
    "cr": r"[^\r]*\r|[^\r]+\Z",
}


def source(tmp_path, data: bytes, encoding: str | None = None) -> formats.Source:
    path = tmp_path / "file"
    path.write_bytes(data)
    return formats.Source.open(str(path), encoding)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8])
@pytest.mark.parametrize(
    "text",
    ["a\r\nb\r\n", "a\rb\rc", "x\r\r\ny\n\r\n", "\r", "é\r\nü\r\r\n\u2028z", "line\n\rlast"],
)
def test_lines_split_where_the_whole_text_splits_whatever_the_chunks(
    tmp_path, monkeypatch, chunk, text
):
    """A CR LF cut by a chunk's end is one ending; a lone CR ends a line (csv),
    or not (a vCard file with LFs); UTF-8's bytes of a character cut too."""
    monkeypatch.setattr(formats, "CHUNK", chunk)
    read = source(tmp_path, text.encode())
    for split, pattern in SPLITS.items():
        assert list(read.lines(split)) == re.findall(pattern, text), split
    assert list(read.lines("splitlines")) == text.splitlines(keepends=True)
    assert read.text() == text and read.size == len(text.encode())


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_utf16_with_its_bom_cut_across_chunks(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(formats, "CHUNK", chunk)
    text = "Name;E-mail\r\nJosé;jo@x.example\r\n"
    for codec in ("utf-16", "utf-16-be", "utf-32"):
        data = text.encode(codec) if codec != "utf-16-be" else b"\xfe\xff" + text.encode(codec)
        assert list(source(tmp_path, data).lines()) == ["Name;E-mail\r\n", "José;jo@x.example\r\n"]
    with pytest.raises(Refused, match="UTF-16 without a byte-order mark"):
        source(tmp_path, text.encode("utf-16-le"))


def test_an_invalid_byte_in_a_later_chunk_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CHUNK", 16)
    data = "".join(f"row {i},é\n" for i in range(40)).encode()
    bad = data.replace(b"row 30", b"row \xe930", 1)
    with pytest.raises(Refused) as expected:
        formats.decode(bad, None)
    assert "(byte 0xe9 on line 31)" in str(expected.value)
    with pytest.raises(Refused) as read:
        list(source(tmp_path, bad).lines())
    assert str(read.value) == str(expected.value)


CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane Roe\r\nUID:jane\r\nORG:Acme Inc.\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:group\r\nFN:Friends\r\nMEMBER:urn:uuid:jane\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:org\r\nFN:Acme Inc.\r\nURL:https://acme.example\r\n"
    "END:VCARD\r\n"
)


def _read_twice(run, how: str, tmp_path):
    """A vCard file read from stdin or a FIFO: the reader's passes (groups, companies,
    people) all see it, so the person is in the company and tagged by the group."""
    path = tmp_path / "cards.vcf"
    path.write_bytes(CARDS.encode())
    if how == "stdin redirected":
        with path.open("rb") as stdin:
            run("import", "-", "--format", "vcf", stdin=stdin)
    elif how == "a pipe":
        subprocess.run(  # bytes through a pipe: run() takes text
            [run.crm, "import", "-", "--format", "vcf"], input=CARDS.encode(), env=run.env,
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    else:
        fifo = tmp_path / "cards.fifo"
        os.mkfifo(fifo)
        writer = threading.Thread(target=lambda: fifo.write_bytes(CARDS.encode()))
        writer.start()
        run("import", str(fifo), "--format", "vcf")
        writer.join()
    (person,) = [c for c in _json(run, "contact", "list") if c["name"] == "Jane Roe"]
    return person, _json(run, "account", "list")


def _json(run, *args):
    import json

    return json.loads(run(*args, "-f", "json").stdout)


@pytest.mark.parametrize("how", ["stdin redirected", "a pipe", "a FIFO"])
def test_stdin_and_a_fifo_are_read_by_the_two_pass_vcard_reader(run, installed_crm, tmp_path, how):
    run.crm = installed_crm
    person, accounts = _read_twice(run, how, tmp_path)
    assert person["account"] == "Acme Inc." and person["tags"] == ["Friends"]
    assert [(a["name"], a["website"]) for a in accounts] == [("Acme Inc.", "https://acme.example")]


def _photo_cards(path, cards: int, photo_bytes: int) -> None:
    """vCards each with a JPEG-looking photo (random bytes: nothing compresses), folded."""
    import base64
    import random

    noise = random.Random(12).randbytes(photo_bytes)
    with path.open("w", encoding="utf-8", newline="") as out:
        for number in range(cards):
            data = base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + noise + b"\xff\xd9")
            photo = f"PHOTO;ENCODING=b;TYPE=JPEG:{data.decode()}"
            folded = "\r\n ".join(photo[at : at + 74] for at in range(0, len(photo), 74))
            out.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {number}\r\n"
                      f"EMAIL:p{number}@x.example\r\n{folded}\r\nEND:VCARD\r\n")  # fmt: skip
            noise = noise[1:] + noise[:1]


def test_reading_a_file_of_photo_cards_takes_memory_of_a_card_not_of_the_file(tmp_path):
    """What `crm import` reads and checks before the store: a 25 MB file of cards
    with 30 kB photos peaks at a few MB of Python memory, as a file of 4 MB does
    (the text alone was twice the file's size: its bytes and its str)."""
    import tracemalloc

    from crmcli import config
    from crmcli.formats import rejects, vcard
    from crmcli.store import checks

    path = tmp_path / "photos.vcf"
    _photo_cards(path, 600, 30_000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with formats.Source.open(str(path), None) as text:
            items = rejects.without_reasons(vcard.read_vcf(text), "vcf", text)
            count = sum(1 for _ in checks.checked(items, config.load()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 600 and size > 24_000_000
    assert peak < size / 2, f"{peak:,} bytes at most for a file of {size:,}"
