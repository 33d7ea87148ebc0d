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

The person searched for and shown is one whose name and surname no other
card holds: khard's search finds a term anywhere in a card's text (`Søren
Ethneyeth` is in `Søren Ethneyethsol` too), and with two hits `khard show`
asks which one and, stdin closed, asks again forever.  So every command runs
with stdin from /dev/null under a timeout, and each one's output is checked
once (khard shows one card, crm the same person, both searches find them)
before anything is timed.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shlex
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


def unique_person(people: list[tuple[str, str]]) -> tuple[str, str]:
    """The person nearest the middle whose full name and surname are in no other
    person's name (khard finds a search term anywhere in a card's text)."""
    names = [f"{first} {last}".lower() for first, last in people]
    middle = len(people) // 2
    for index in sorted(range(len(people)), key=lambda i: (abs(i - middle), i)):
        others = "\n".join(names[:index] + names[index + 1 :])
        if names[index] not in others and people[index][1].lower() not in others:
            return people[index]
    raise SystemExit("no person with a name of their own: use more --contacts")


def run(argv: list[str], env: dict, timeout: float) -> str:
    """`argv`'s output; stdin is /dev/null (never a prompt to wait on), and a run
    past `timeout` seconds fails loudly rather than spinning."""
    try:
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=True)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SystemExit(f"timed out after {timeout:.0f} s: {shlex.join(argv)}") from None
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"exit {exc.returncode}: {shlex.join(argv)}\n{exc.stderr}") from None
    return done.stdout


def check(label: str, output: str, wanted: bool, what: str) -> None:
    if not wanted:
        raise SystemExit(f"{label}: {what}; it printed:\n{output[:2000]}")


def khard_rows(output: str) -> list[str]:
    """The contacts of a `khard list` table: its lines that start with an index."""
    return [line for line in output.splitlines() if line.split(" ", 1)[0].isdigit()]


def check_outputs(pairs, outputs: dict, name: str, email: str, contacts: int) -> None:
    """Each command prints what it is timed for (a wrong argument would time an error)."""
    (list_ours, list_theirs), (search_ours, search_theirs), (show_ours, show_theirs) = (
        (outputs[tuple(ours)], outputs[tuple(theirs)]) for _, ours, theirs in pairs
    )
    crm_rows = [line for line in list_ours.splitlines() if line.startswith("│")]
    check("crm list", list_ours, len(crm_rows) == contacts, f"not {contacts:,} rows")
    check("khard list", list_theirs, len(khard_rows(list_theirs)) == contacts,
          f"not {contacts:,} rows")  # fmt: skip
    found = [line for line in search_ours.splitlines() if name in line]
    check("crm search", search_ours, len(found) == 1, f"{name} not found once")
    hits = khard_rows(search_theirs)
    check("khard list SURNAME", search_theirs, len(hits) == 1 and name in hits[0],
          f"not {name} alone")  # fmt: skip
    check("crm contact show", show_ours, show_ours.startswith(f"{name} #") and email in show_ours,
          f"not the card of {name}")  # fmt: skip
    check("khard show", show_theirs, f"Name: {name}\n" in show_theirs
          and show_theirs.count("Name: ") == 1 and email in show_theirs,
          f"not the one card of {name}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cpu", action="store_true", help="processor time, not wall time (a loaded machine)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds one run may take (default 600)"
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
        first, last = unique_person(people)
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
        outputs = {  # once untimed: the page cache, and what each prints is checked
            tuple(argv): run(argv, env, options.timeout)
            for _, ours, theirs in pairs
            for argv in (ours, theirs)
        }
        check_outputs(pairs, outputs, name, f"{first}.{last}@example.com".lower(), cards)
        for label, ours, theirs in pairs:
            crm_times, khard_times = [], []
            for _ in range(options.runs):
                crm_times.append(time_ms(ours, env, options.cpu, options.timeout))
                khard_times.append(time_ms(theirs, env, options.cpu, options.timeout))
            ours_ms, theirs_ms = statistics.median(crm_times), statistics.median(khard_times)
            print(f"{label:<40}{ours_ms:>9.0f}{theirs_ms:>10.0f}{theirs_ms / ours_ms:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
