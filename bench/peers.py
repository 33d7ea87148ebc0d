"""crm against khard (issue 17), on the same contacts, ratios in one run.

    .venv/bin/pip install -e '.[bench]'   # khard 0.22
    .venv/bin/python bench/peers.py [--contacts 10000] [--runs 5]

Imports N contacts (unique surnames, e-mails, phones, companies) into crm,
exports them as vCards into a vdir (a card a file) that khard reads, then
times, the two alternating, median of --runs: `crm list` (a table of every
contact) against `khard list`, `crm search SURNAME` against `khard list
SURNAME`, `crm contact show NAME` against `khard show NAME`, and prints how
many times faster crm is (--cpu: processor time, for a loaded machine).
Goal: 30x each.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import time_ms

GOAL = 30
FIRST = ["James", "Mary", "Zoë", "Émile", "Priya", "Chen", "Aoife", "Mateo", "Søren", "Yuki"]
SYLLABLES = ["ka", "lo", "mi", "ren", "sto", "vi", "dar", "eth", "bru", "ney", "sol", "tam"]


def surnames(count: int, rnd: random.Random) -> list[str]:
    """`count` different made-up surnames (Kalomiren, Stoeth ...)."""
    names: dict[str, None] = {}
    while len(names) < count:
        names["".join(rnd.choices(SYLLABLES, k=rnd.randint(3, 5))).title()] = None
    return list(names)


def write_csv(path: Path, contacts: int) -> list[tuple[str, str]]:
    rnd = random.Random(17)
    people = [(rnd.choice(FIRST), last) for last in surnames(contacts, rnd)]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["First Name", "Last Name", "E-mail Address", "Business Phone",
                         "Company", "Job Title", "Business City"])  # fmt: skip
        for i, (first, last) in enumerate(people):
            email = f"{first.lower()}.{last.lower()}@example.com"
            company = f"Company {i % (contacts // 10 or 1)}"
            job, city = rnd.choice(["CTO", "Buyer", ""]), rnd.choice(["Austin", "Lyon"])
            writer.writerow([first, last, email, f"+1 555 {i:07}", company, job, city])
    return people


def vdir(cards: Path, folder: Path) -> int:
    """Each card of `cards` in a file of its own in `folder` (a vdir)."""
    folder.mkdir()
    count, lines = 0, []
    with cards.open(encoding="utf-8", newline="") as file:
        for line in file:
            lines.append(line)
            if line.rstrip("\r\n").upper() == "END:VCARD":
                count += 1
                (folder / f"card-{count:06}.vcf").write_text("".join(lines), encoding="utf-8")
                lines = []
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cpu", action="store_true", help="processor time, not wall time (a loaded machine)"
    )
    options = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    crm, khard = str(bin_dir / "crm"), shutil.which("khard", path=str(bin_dir))
    if khard is None:
        print("khard is not installed: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        people = write_csv(folder / "contacts.csv", options.contacts)
        env = {**os.environ, "CRM_DB": str(folder / "crm.db"), "COLUMNS": "120"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([crm, "import", str(folder / "contacts.csv")], env=env, check=True,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        subprocess.run([crm, "export", "-f", "vcf", "--vcard-version", "3.0",
                        "-o", str(folder / "all.vcf")], env=env, check=True,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        cards = vdir(folder / "all.vcf", folder / "book")
        config = folder / "khard.conf"
        config.write_text(
            "[general]\ndefault_action = list\n[addressbooks]\n[[crm]]\n"
            f"path = {folder / 'book'}\n",
            encoding="utf-8",
        )
        first, last = people[len(people) // 2]
        name = f"{first} {last}"
        kh = [khard, "-c", str(config)]
        pairs = [
            (
                "list (a table of every contact)",
                [crm, "list", "--limit", str(options.contacts)],
                [*kh, "list"],
            ),
            (f"search {last}", [crm, "search", last], [*kh, "list", last]),
            (f"contact show {name!r}", [crm, "contact", "show", name], [*kh, "show", name]),
        ]
        print(f"{cards:,} contacts; khard reads a vdir of crm's vCards")
        print(f"{'command':<40}{'crm ms':>9}{'khard ms':>10}{'faster':>8}  goal >= {GOAL}x")
        for label, ours, theirs in pairs:
            for argv in (ours, theirs):  # once untimed: the page cache, and fails loudly
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
            crm_times, khard_times = [], []
            for _ in range(options.runs):
                crm_times.append(time_ms(ours, env, options.cpu))
                khard_times.append(time_ms(theirs, env, options.cpu))
            ours_ms, theirs_ms = statistics.median(crm_times), statistics.median(khard_times)
            print(f"{label:<40}{ours_ms:>9.0f}{theirs_ms:>10.0f}{theirs_ms / ours_ms:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
