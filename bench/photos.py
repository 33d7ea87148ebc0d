"""Photos benchmark (issue 12): listings with a photo on every contact, and the JSON
backup of many photos, measured in one run.

    .venv/bin/python bench/photos.py [--contacts 100000] [--photo-bytes 8000]
                                     [--backup-contacts 4000] [--backup-photo-bytes 60000]

1. Listing: one database of N contacts (e-mail, phone, city) through crm's schema
   and triggers, and a copy of it in which every contact has a photo.  `crm list`
   (a table), `crm list -f json` and `crm list -f csv` (every contact) run on both
   in turn, A B A B ..., and the median of the ratio pair by pair is printed: with
   photos / without (goal: 1.0, within noise).  Use --contacts 1000000 for issue
   12's million.
2. Backup: databases of M/4 and M contacts with a photo each; `crm export` to a
   JSON backup and `crm import` of it into an empty database, with each one's time
   and peak memory (the largest process: import checks a big file in a second
   one), against a bare `python -c` that reads and decodes the same file.  Import
   reads the file whole, like every format; what it holds beyond that should
   follow a few photos, not the file: the same at M/4 and at M (goal), and export's
   peak should not grow with the file at all.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crmcli import db

HERE = Path(__file__).resolve().parent
CRM = str(Path(sys.executable).parent / "crm")
STAMP = "2026-01-01T00:00:00Z"


def build(path: Path, contacts: int) -> None:
    """N contacts with an e-mail and a phone each, through crm's triggers."""
    with db.session(path, write=True) as conn:
        conn.executemany(
            "INSERT INTO contacts (id, first_name, last_name, name, name_key, city, tags,"
            " fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '[]', '{}', ?, ?)",
            (
                (i, "Person", str(i), f"Person {i}", f"person {i}", "Lyon", STAMP, STAMP)
                for i in range(1, contacts + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO contact_emails (contact_id, position, value, value_key)"
            " VALUES (?, 0, ?, ?)",
            ((i, f"p{i}@x.example", f"p{i}@x.example") for i in range(1, contacts + 1)),
        )
        conn.executemany(
            "INSERT INTO contact_phones (contact_id, position, value) VALUES (?, 0, ?)",
            ((i, f"+1 555 {i:07}") for i in range(1, contacts + 1)),
        )


def add_photos(path: Path, size: int) -> None:
    """A JPEG-headed photo of `size` random bytes for every contact (the triggers keep
    each contact's {media_type, size} on its row)."""
    with db.session(path, write=True) as conn:
        conn.execute(
            "INSERT INTO contact_photos (id, media_type, data) SELECT id, 'image/jpeg',"
            " CAST(X'FFD8FFE0' || randomblob(?) AS BLOB) FROM contacts",
            (size - 4,),
        )


def run(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak MB of the largest process) of one command, output thrown away."""
    code = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        f"done = subprocess.run({argv!r}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE);"
        "wall = time.perf_counter() - start;"
        "sys.stderr.write(done.stderr.decode()[-300:]) if done.returncode else None;"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    wall, peak, returncode = out.stdout.split()
    if returncode != "0":
        raise SystemExit(f"{' '.join(argv)} failed: {out.stderr}")
    return float(wall), int(peak) / 1024


def listing(folder: Path, contacts: int, photo_bytes: int, runs: int) -> None:
    plain, photos = folder / "plain.db", folder / "photos.db"
    started = time.perf_counter()
    build(plain, contacts)
    shutil.copy(plain, photos)
    add_photos(photos, photo_bytes)
    print(
        f"{contacts:,} contacts; with a {photo_bytes:,}-byte photo each: database"
        f" {photos.stat().st_size / 2**20:,.0f} MB against {plain.stat().st_size / 2**20:,.0f} MB"
        f" (built in {time.perf_counter() - started:.0f} s)"
    )
    for args in (["list"], ["list", "-f", "json"], ["list", "-f", "csv"]):
        envs = {name: {**os.environ, "CRM_DB": str(path)}
                for name, path in (("without", plain), ("with", photos))}  # fmt: skip
        for env in envs.values():
            run([CRM, *args], env)  # warm-up: the page cache
        times: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(runs):
            for name, env in envs.items():
                times[name].append(run([CRM, *args], env)[0])
        ratios = [a / b for a, b in zip(times["with"], times["without"], strict=True)]
        print(
            f"  crm {' '.join(args)}: {statistics.median(times['without']):.2f} s without photos,"
            f" {statistics.median(times['with']):.2f} s with; ratio with/without: median"
            f" {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})"
        )


def backup(folder: Path, contacts: int, photo_bytes: int) -> None:
    for count in (contacts // 4, contacts):
        source, target = folder / f"source-{count}.db", folder / f"target-{count}.db"
        build(source, count)
        add_photos(source, photo_bytes)
        path = folder / f"backup-{count}.json"
        env = {**os.environ, "CRM_DB": str(source)}
        export_time, export_peak = run([CRM, "export", "-o", str(path)], env)
        size = path.stat().st_size / 2**20
        read = f"open({str(path)!r}, 'rb').read().decode('utf-8')"
        _, bare = run([sys.executable, "-c", read], dict(os.environ))
        env = {**os.environ, "CRM_DB": str(target)}
        import_time, import_peak = run([CRM, "import", str(path)], env)
        with db.session(target, write=False) as conn:
            stored = conn.execute("SELECT count(*), sum(length(data)) FROM contact_photos")
            if stored.fetchone() != (count, count * photo_bytes):
                raise SystemExit("the import did not bring every photo back")
        print(
            f"{count:,} photos of {photo_bytes:,} bytes, a {size:,.0f} MB backup: export"
            f" {export_time:.1f} s, peak {export_peak:.0f} MB; import {import_time:.1f} s"
            f" ({count / import_time:,.0f} records/s), peak {import_peak:.0f} MB = bare read"
            f" {bare:.0f} MB + {import_peak - bare:.0f} MB"
        )
        for name in (source, target, path):
            name.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--photo-bytes", type=int, default=8_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backup-contacts", type=int, default=4_000)
    parser.add_argument("--backup-photo-bytes", type=int, default=60_000)
    parser.add_argument("--skip-listing", action="store_true")
    parser.add_argument("--skip-backup", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=HERE) as tmp:
        if not options.skip_listing:
            listing(Path(tmp), options.contacts, options.photo_bytes, options.runs)
        if not options.skip_backup:
            backup(Path(tmp), options.backup_contacts, options.backup_photo_bytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
