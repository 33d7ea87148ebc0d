"""Import/export benchmark (issue 5), ratios measured in one run.

    .venv/bin/python bench/transfer.py [--contacts 1000000] [--json] [--work DIR]

Writes a CSV of N contacts at N/10 companies (Outlook-style column names), then:
the rows/s of `crm import` into an empty database (search index, contact
summaries and history included) against a plain sqlite3 executemany of the
same rows into the same tables (crm's schema, its indexes and triggers
dropped), both in one run (goal: at least 25%), and the speed and peak memory
of `crm export` of all contacts to CSV and to vCard (goal: under 100 MB);
with --json, also the speed and peak memory of restoring a JSON backup of it.
Its files (2 GB for a million) go in a temporary folder in --work, default
bench/_work/ (ignored by git, so a run killed mid-way leaves nothing to commit).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"
HEADER = [
    "First Name",
    "Last Name",
    "E-mail Address",
    "Business Phone",
    "Company",
    "Job Title",
    "Business City",
]


def write_csv(path: Path, contacts: int) -> None:
    rnd = random.Random(7)
    first = ["James", "Mary", "Zoë", "Émile", "Priya", "Chen", "Aoife", "Mateo"]
    last = ["Smith", "Müller", "Nakamura", "O'Brien", "Garcia", "Ångström"]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for i in range(contacts):
            writer.writerow(
                [
                    rnd.choice(first),
                    rnd.choice(last),
                    f"person{i}@example.com",
                    f"+1 555 {i:07}",
                    f"Company {i % (contacts // 10)}",
                    rnd.choice(["CTO", "Buyer", ""]),
                    rnd.choice(["Austin", "Lyon"]),
                ]
            )


def baseline(path: Path, folder: Path) -> float:
    """Rows/s of the plainest load: the CSV's rows executemany'd into crm's own
    tables (a database crm made, then stripped of its indexes and triggers)."""
    from crmcli import db

    target = folder / "baseline.db"
    db.create(target)  # a session that only drops things would not keep a new file
    with db.session(target, write=True) as conn:
        for kind, name in conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger')"
            " AND sql IS NOT NULL"
        ).fetchall():
            conn.execute(f"DROP {kind} {name}")
    conn = sqlite3.connect(target)
    stamp = "2026-01-01T00:00:00Z"
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))[1:]
    companies: dict[str, int] = {}
    for row in rows:
        companies.setdefault(row[4], len(companies) + 1)
    with conn:
        conn.executemany(
            "INSERT INTO accounts (id, name, name_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((i, name, name.lower(), stamp, stamp) for name, i in companies.items()),
        )
        conn.executemany(
            "INSERT INTO contacts (id, first_name, last_name, name, name_key, title, city,"
            " account_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (i, r[0], r[1], name, name.lower(), r[5], r[6], companies[r[4]], stamp, stamp)
                for i, r in enumerate(rows, start=1)
                for name in (f"{r[0]} {r[1]}",)
            ),
        )
        conn.executemany(
            "INSERT INTO contact_emails (contact_id, position, value, value_key)"
            " VALUES (?, 0, ?, ?)",
            ((i, r[2], r[2].lower()) for i, r in enumerate(rows, start=1)),
        )
        conn.executemany(
            "INSERT INTO contact_phones (contact_id, position, value) VALUES (?, 0, ?)",
            ((i, r[3]) for i, r in enumerate(rows, start=1)),
        )
    conn.close()
    return len(rows) / (time.perf_counter() - start)


def peak_mb(argv: list[str], env: dict) -> tuple[float, float]:
    """Seconds and peak memory (MB) of a command, its output thrown away."""
    code = (
        "import resource, subprocess, sys, time; start = time.perf_counter();"
        f"subprocess.run({argv!r}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,"
        " check=True); print(time.perf_counter() - start,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="also restore a JSON backup")
    parser.add_argument("--import-only", action="store_true", help="no export (nor --json)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the files are made")
    options = parser.parse_args()
    crm = str(Path(sys.executable).parent / "crm")
    options.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=options.work) as tmp:
        folder = Path(tmp)
        source = folder / "contacts.csv"
        write_csv(source, options.contacts)
        plain = baseline(source, folder)
        env = {**os.environ, "CRM_DB": str(folder / "crm.db")}
        seconds, memory = peak_mb([crm, "import", str(source)], env)
        rate = options.contacts / seconds
        print(
            f"import {options.contacts:,} contacts: {rate:,.0f} rows/s; plain executemany "
            f"{plain:,.0f} rows/s; ratio {rate / plain:.2f} (goal >= 0.25); peak {memory:.0f} MB"
        )
        if options.import_only:
            return 0
        for fmt in ("csv", "vcf"):
            seconds, memory = peak_mb([crm, "export", "--format", fmt], env)
            print(
                f"export {fmt}: {options.contacts / seconds:,.0f} rows/s, peak {memory:.1f} MB"
                " (goal < 100 MB)"
            )
        if options.json:
            backup = folder / "backup.json"
            subprocess.run([crm, "export", "-o", str(backup)], env=env, check=True,
                           stderr=subprocess.DEVNULL)  # fmt: skip
            restored = {**env, "CRM_DB": str(folder / "restored.db")}
            seconds, memory = peak_mb([crm, "import", str(backup)], restored)
            size = backup.stat().st_size / 2**20
            print(
                f"import the JSON backup ({size:,.0f} MB): {options.contacts / seconds:,.0f}"
                f" contacts/s, peak {memory:.0f} MB (no goal: for information)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
