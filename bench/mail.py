"""Mail benchmark (issue 16): `crm mail query` and `crm mail log` against their floors.

    .venv/bin/python bench/mail.py [--contacts 10000,1000000] [--messages 10000] [--runs 5]

1. `crm mail query Q` (the whole command, start-up included, as aerc runs it on
   every keystroke) against the same SQL through the sqlite3 module in a bare
   Python process that prints the same lines, at each database size (bench/scale.py's
   database, built once and cached in bench/_work/: a million contacts take
   minutes).  Median wall times, alternating runs, and the ratio.
2. `crm mail log big.mbox` of --messages messages to the contacts of the smallest
   database, against parsing the same mbox with `mailbox` and `email` (policy
   default) alone; the ratio.  `--contacts 10000` alone is the quick run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # the database builder
from crmcli.store import search

QUERIES = ["mary smi", "person4242", "jo"]

# The floor: the query crm runs (search.mail_candidates), the first 100 rows' e-mails
# fetched, mutt's lines printed; no check of the words in Python.
FLOOR = """
import sqlite3, sys
path, sql, words, account = sys.argv[1:5]
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
rows = conn.execute(sql, {"words": words, "account": account}).fetchmany(100)
ids = [row[0] for row in rows]
marks = ", ".join("?" for _ in ids)
emails = {}
for contact_id, value in conn.execute(
        f"SELECT contact_id, value FROM contact_emails WHERE contact_id IN ({marks})", ids):
    emails.setdefault(contact_id, []).append(value)
lines = ["crm: matches"]
for row in rows:
    for value in emails.get(row[0], []):
        lines.append(f"{value}\\t{row[1]}\\t{row[3] or ''}")
sys.stdout.write("\\n".join(lines) + "\\n")
"""

PARSE_ONLY = """
import mailbox, sys
from email import policy
from email.parser import BytesParser
parser = BytesParser(policy=policy.default)
box = mailbox.mbox(sys.argv[1], factory=None, create=False)
count = 0
for key in box.keys():
    message = parser.parsebytes(box.get_bytes(key))
    message.get_body(preferencelist=("plain", "html"))
    count += 1
print(count)
"""


def database(contacts: int) -> Path:
    scale.WORK.mkdir(exist_ok=True)
    path = scale.WORK / f"scale-{contacts}.db"
    if not path.exists():
        start = time.perf_counter()
        scale.build(path, contacts)
        print(f"built {path.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def mbox(path: Path, messages: int, contacts: int) -> None:
    """An mbox of `messages` replies, each from one of the database's contacts."""
    with open(path, "w", encoding="utf-8") as file:
        for i in range(messages):
            person = i * 7919 % contacts + 1
            file.write(
                f"From person{person}@example.com Tue Dec  1 10:00:00 2026\n"
                f"From: Person {person} <person{person}@example.com>\n"
                "To: Me <me@example.com>\n"
                f"Subject: =?utf-8?q?R=C3=A9=3A_order_{i}?=\n"
                f"Date: Tue, 01 Dec 2026 10:{i % 60:02d}:00 +0100\n"
                f"Message-ID: <bench-{i}@example.com>\n"
                "MIME-Version: 1.0\n"
                'Content-Type: multipart/alternative; boundary="b"\n\n'
                "--b\nContent-Type: text/plain; charset=utf-8\n\n"
                f"Thanks for order {i}, we ship on Friday.\n\n> Your earlier message\n"
                "> with two lines\n\n-- \nPerson\n"
                "--b\nContent-Type: text/html; charset=utf-8\n\n"
                f"<p>Thanks for order {i}, we ship on <b>Friday</b>.</p>\n--b--\n\n"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", default="10000,1000000")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    sizes = [int(size) for size in options.contacts.split(",")]
    python = sys.executable
    crm = str(Path(python).parent / "crm")
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    print(f"{'mail query':<34}{'contacts':>10}{'floor ms':>10}{'crm ms':>10}{'ratio':>8}")
    for size in sizes:
        path = database(size)
        env = {**base, "CRM_DB": str(path)}
        subprocess.run([crm, "db", "info"], env=env, stdout=subprocess.DEVNULL, check=True)
        for query in QUERIES:
            sql, params = search.mail_candidates(query)
            floor = [python, "-c", FLOOR, str(path), sql, params["words"], params["account"]]
            floor_ms, crm_ms = scale.median_pair(
                floor, [crm, "mail", "query", query], options.runs, env
            )
            print(
                f"{query!r:<34}{size:>10,}{floor_ms:>10.1f}{crm_ms:>10.1f}{crm_ms / floor_ms:>8.2f}"
            )
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        copy = work / "crm.db"
        shutil.copy(database(sizes[0]), copy)
        box = work / "big.mbox"
        mbox(box, options.messages, sizes[0])
        config = work / "config.toml"
        config.write_text('me = ["me@example.com"]\n')
        env = {**base, "CRM_DB": str(copy), "CRM_CONFIG": str(config)}
        subprocess.run([crm, "db", "info"], env=env, stdout=subprocess.DEVNULL, check=True)
        floor_ms = min(scale.time_ms([python, "-c", PARSE_ONLY, str(box)], env) for _ in range(2))
        start = time.perf_counter()
        result = subprocess.run([crm, "mail", "log", str(box)], env=env, capture_output=True,
                                text=True)  # fmt: skip
        crm_ms = (time.perf_counter() - start) * 1000
        print(result.stderr.strip().splitlines()[0] if result.stderr else result.returncode)
        print(
            f"mail log, mbox of {options.messages:,}: parse only {floor_ms / 1000:.1f} s,"
            f" crm {crm_ms / 1000:.1f} s, ratio {crm_ms / floor_ms:.2f}"
            f" ({options.messages / (crm_ms / 1000):,.0f} messages/s)"
        )
        again = scale.time_ms([crm, "mail", "log", str(box)], env)
        print(f"mail log again (all already logged): {again / 1000:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
