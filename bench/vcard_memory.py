"""Peak memory of `crm import` of vCard files (issue 11), against a bare Python
reading the same file, measured in one run.

    .venv/bin/python bench/vcard_memory.py [--megabytes 4] [--before SRC]
    .venv/bin/python bench/vcard_memory.py --photos 100000 [--photo-kb 7] [--before SRC]

Writes three vCard files of about N MB each and imports each into an empty
database: one card of many folded lines (a 900 kB note and thousands of
folded X- properties), one card with a single N MB note folded into 75-octet
lines (refused as too large, but only after it is read), and N MB of small
cards.  For each it prints the peak resident memory (the largest process:
`crm import` checks a big file in a second one) over the file's size, and
the same for a bare `python -c` that reads and decodes the file: crm's memory
should follow the biggest card, not the file (goal: within a few times the
bare figure).  --before SRC runs another checkout's crm (`python -m crmcli`
with SRC on the path, e.g. an unpacked `git archive main`) the same way.

--photos N writes instead one file of N cards with a photo each (a JPEG of
--photo-kb kB of random bytes, as incompressible as a real one, base64 and folded;
issue 12: 100,000 of them import with memory proportional to one card, not the
file): the file's size, the bare read's peak and crm's, and the time crm took.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def folded(line: str) -> str:
    """A line folded at 75 characters (ASCII here), CRLF line ends."""
    pieces = [line[:75]] + [line[i : i + 74] for i in range(75, len(line), 74)]
    return "\r\n ".join(pieces) + "\r\n"


def card(number: int, *lines: str) -> str:
    head = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {number}\r\nN:{number};Person;;;\r\n"
    return head + "".join(folded(line) for line in lines) + "END:VCARD\r\n"


def files(folder: Path, size: int) -> dict[str, Path]:
    many_folds = [f"NOTE:{'n' * 900_000}"]
    while sum(map(len, many_folds)) < size:
        many_folds.append(f"X-FIELD-{len(many_folds)}:{'v' * 450}")
    small, total, number = [], 0, 0
    while total < size:
        text = card(number, f"EMAIL:p{number}@x.example", f"NOTE:{'note ' * 30}")
        small.append(text)
        total += len(text)
        number += 1
    texts = {
        "one card, many folded lines": card(0, *many_folds),
        "one card, one long folded note": card(0, f"NOTE:{'n' * size}"),
        f"{number:,} small cards": "".join(small),
    }
    paths = {}
    for index, (name, text) in enumerate(texts.items()):
        paths[name] = folder / f"file{index}.vcf"
        paths[name].write_text(text, encoding="utf-8", newline="")
    return paths


def photo_cards(path: Path, cards: int, photo_bytes: int) -> None:
    import base64
    import random

    noise = random.Random(12).randbytes(photo_bytes)
    with path.open("w", encoding="utf-8", newline="") as out:
        for number in range(cards):
            jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + number.to_bytes(4, "big") + noise
            data = base64.b64encode(jpeg + b"\xff\xd9").decode()
            photo = f"PHOTO;ENCODING=b;TYPE=JPEG:{data}"
            out.write(card(number, f"EMAIL:p{number}@x.example", photo))


def peak_mb(argv: list[str], env: dict) -> float:
    """Peak memory (MB) of a command and the processes it waited for."""
    code = (
        "import resource, subprocess, sys;"
        f"subprocess.run({argv!r}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
        " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    return int(out) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=4)
    parser.add_argument("--before", metavar="SRC", help="also measure the crm in SRC")
    parser.add_argument("--photos", type=int, metavar="N", help="N cards with a photo each")
    parser.add_argument("--photo-kb", type=float, default=7)
    options = parser.parse_args()
    crms = {"crm": [str(Path(sys.executable).parent / "crm")]}
    if options.before:
        crms["before"] = [sys.executable, "-m", "crmcli"]
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        folder = Path(tmp)
        if options.photos:
            path = folder / "photos.vcf"
            photo_cards(path, options.photos, int(options.photo_kb * 1000))
            paths = {f"{options.photos:,} cards with a {options.photo_kb:g} kB photo each": path}
        else:
            paths = files(folder, int(options.megabytes * 2**20))
        for name, path in paths.items():
            size = path.stat().st_size / 2**20
            read = f"open({str(path)!r}, 'rb').read().decode('utf-8')"
            bare = peak_mb([sys.executable, "-c", read], dict(os.environ))
            figures = [f"bare python {bare:.0f} MB ({bare / size:.1f}x)"]
            for label, argv in crms.items():
                env = {**os.environ, "CRM_DB": str(folder / f"{label}-{path.stem}.db")}
                if label == "before":
                    env["PYTHONPATH"] = options.before
                started = time.perf_counter()
                peak = peak_mb([*argv, "import", str(path)], env)
                took = time.perf_counter() - started
                figures.append(
                    f"{label} {peak:.0f} MB ({peak / size:.1f}x, {peak / bare:.1f}x bare,"
                    f" {took:.0f} s)"
                )
                (folder / f"{label}-{path.stem}.db").unlink(missing_ok=True)
            print(f"{name} ({size:.1f} MB): " + "; ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
