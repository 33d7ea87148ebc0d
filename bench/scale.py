"""Scale benchmark (issues 4, 17): crm at up to a million contacts, against the floor.

    .venv/bin/python bench/scale.py [--sizes 1000,10000,100000,1000000] [--runs 5]
        [--work DIR] [--rebuild]
    .venv/bin/python bench/scale.py --listing DB [--crm OTHER/bin/crm] [--runs 3]

Generates (once per size, cached in --work, default bench/_work/; put a million
in /tmp: it is 2 GB) a database of N contacts, N/10 accounts (account 1 holding
N/10 of the contacts), N/5 deals, N/2 activities and N/100 tasks (20 due), 20
contacts to keep in touch with (all due), through crm's own schema and
triggers.  For each size it prints median wall times of the interactive
commands as ratios to a bare Typer app that runs one query and prints a 20-row
Rich table (bench/bare_app.py), the two alternating; then how each command's
own work (run in-process after one untimed run, so start-up is left out;
processor time) grows from size to size beside how its output grows;
then, at the largest size, the full CSV/TSV listing's and CSV export's rows
per second (wall and processor time) and peak memory; --listing times only
those, on a database it only reads, against other installs (--crm) in the
same run.  --cpu compares processor time (user + system) instead of wall time,
for a machine loaded by other work.  Goals: interactive <= 1.2x the floor,
none growing faster than its output; CSV >= 250,000 rows/s with peak memory
under 100 MB.  (`crm due` reads the index contacts_every, m017; `crm pipeline`
the totals m018 keeps, `account show` the index m018 makes; a database cached
by an older crm is brought up to the schema first, untimed: copy a database
before pointing a branch that adds a migration at it.)
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import crmcli
from crmcli import db

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Zoë",
    "Émile",
    "Søren",
    "Aoife",
    "Mateo",
    "Yuki",
    "Chen",
    "Priya",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Ångström",
    "Müller",
    "Nakamura",
    "O'Brien",
]
WORDS = [
    "quarterly",
    "review",
    "pricing",
    "renewal",
    "demo",
    "onboarding",
    "invoice",
    "contract",
    "follow-up",
    "budget",
    "proposal",
    "meeting",
    "support",
    "upgrade",
]
RARE = "zyxomorph"  # a word placed in exactly 3 records


def build(path: Path, contacts: int) -> None:
    """Fill a fresh database through crm's schema (so its triggers index everything)."""
    rnd = random.Random(42)
    stamp = "2026-01-01T00:00:00Z"
    with db.session(path, write=True) as conn:
        accounts = contacts // 10
        conn.executemany(
            "INSERT INTO accounts (id, name, name_key, name_order, city, tags, fields, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, '[]', '{}', ?, ?)",
            (
                (
                    i,
                    f"Company {i}",
                    f"company {i}",
                    crmcli.models.natural_key(f"company {i}"),
                    rnd.choice(["Berlin", "Austin", "Lyon"]),
                    stamp,
                    stamp,
                )
                for i in range(1, accounts + 1)
            ),
        )
        rows = []
        for i in range(1, contacts + 1):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            name = f"{first} {last}"
            rows.append(
                (
                    i,
                    first,
                    last,
                    name,
                    crmcli.models.fold(name),
                    crmcli.models.natural_key(crmcli.models.fold(name)),
                    1 if i % 10 == 0 else rnd.randint(1, accounts),
                    stamp,
                    stamp,
                )
            )
        conn.executemany(
            "INSERT INTO contacts (id, first_name, last_name, name, name_key, name_order,"
            " account_id, tags, fields, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, '[]', '{}', ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO contact_emails (contact_id, position, value, value_key, label)"
            " VALUES (?, 0, ?, ?, 'work')",
            (
                (i, f"person{i}@example.com", f"person{i}@example.com")
                for i in range(1, contacts + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO contact_phones (contact_id, position, value, label)"
            " VALUES (?, 0, ?, NULL)",
            ((i, f"+1 555 {i:07}") for i in range(1, contacts + 1)),
        )
        conn.executemany(
            "INSERT INTO deals (name, name_key, name_order, account_id, amount, currency, stage,"
            " probability, status, tags, fields, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'USD', 'proposal', 50, 'open', '[]', '{}', ?, ?)",
            (
                (
                    f"Deal {i}",
                    f"deal {i}",
                    crmcli.models.natural_key(f"deal {i}"),
                    rnd.randint(1, accounts),
                    str(rnd.randint(100, 99999)),
                    stamp,
                    stamp,
                )
                for i in range(1, contacts // 5 + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO activities (kind, subject, body, at, contact_id, tags, fields,"
            " created_at, updated_at) VALUES ('call', ?, ?, ?, ?, '[]', '{}', ?, ?)",
            (
                (
                    rnd.choice(WORDS).title(),
                    " ".join(rnd.choices(WORDS, k=12))
                    + (f" {RARE}" if i % (contacts // 6) == 0 else ""),
                    stamp,
                    rnd.randint(1, contacts),
                    stamp,
                    stamp,
                )
                for i in range(1, contacts // 2 + 1)
            ),
        )


def extras(path: Path, contacts: int) -> None:
    """Tasks (20 due, the rest next century) and 20 contacts to keep in touch
    with (never contacted, so due): what `crm due` reads.  Once per database."""
    stamp = "2026-01-01T00:00:00Z"
    with db.session(path, write=True) as conn:
        if conn.execute("SELECT 1 FROM tasks LIMIT 1").fetchone():
            return
        conn.executemany(
            "INSERT INTO tasks (title, due, contact_id, tags, fields, created_at, updated_at)"
            " VALUES (?, ?, ?, '[]', '{}', ?, ?)",
            (
                (f"Task {i}", "2026-01-01" if i <= 20 else "2099-01-01", i, stamp, stamp)
                for i in range(1, max(contacts // 100, 40) + 1)
            ),
        )
        conn.execute("UPDATE contacts SET every = '30d' WHERE id <= 20")


def time_ms(argv: list[str], env: dict, cpu: bool = False, timeout: float | None = None) -> float:
    """Wall time of a run; with `cpu`, the child's processor time (user + system)
    instead, which a machine shared by other work inflates far less.  Its stdin is
    /dev/null (never a prompt to wait on); past `timeout` seconds it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True, timeout=timeout)  # fmt: skip
    if not cpu:
        return (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def median_pair(
    floor: list[str], crm: list[str], runs: int, env: dict, cpu: bool = False
) -> tuple[float, float]:
    floor_times, crm_times = [], []
    for _ in range(runs):  # alternating, so load drift hits both alike
        floor_times.append(time_ms(floor, env, cpu))
        crm_times.append(time_ms(crm, env, cpu))
    return statistics.median(floor_times), statistics.median(crm_times)


def csv_listing(
    crm: str, env: dict, rows: int, fmt: str = "csv", command: tuple[str, ...] = ("list",)
) -> tuple[float, float, float]:
    """rows/s (wall, and by processor time) and peak memory (MB) of
    `crm list --format csv > /dev/null` (or tsv, or `export`)."""
    code = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        f"subprocess.run([{crm!r}, *{command!r}, '--format', {fmt!r}],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True);"
        "elapsed = time.perf_counter() - start;"
        "used = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(elapsed, used.ru_utime + used.ru_stime, used.ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return rows / float(out[0]), rows / float(out[1]), int(out[2]) / 1024


def listings(crms: list[str], env: dict, rows: int, runs: int) -> None:
    """The streaming figures: each install's CSV/TSV listing and CSV export, best of
    `runs` (alternating installs, so load drift hits them alike)."""
    print(f"\n{rows:,} contacts, best of {runs}: rows/s by wall / by processor time, peak MB")
    for label, fmt, command in (
        ("list --format csv", "csv", ("list",)),
        ("list --format tsv", "tsv", ("list",)),
        ("export --format csv", "csv", ("export",)),
    ):
        best: dict[str, tuple[float, float, float]] = {}
        for _ in range(runs):
            for crm in crms:
                got = csv_listing(crm, env, rows, fmt, command)
                old = best.get(crm, (0.0, 0.0, 0.0))
                best[crm] = (max(old[0], got[0]), max(old[1], got[1]), max(old[2], got[2]))
        for crm in crms:
            wall, cpu, peak = best[crm]
            name = label if len(crms) == 1 else f"{label} ({crm})"
            print(f"{name:<38}{wall:>12,.0f}{cpu:>12,.0f}{peak:>10,.1f}  goal >= 250,000, < 100 MB")
        if len(crms) > 1:
            first, last = best[crms[0]][1], best[crms[-1]][1]
            print(f"{'  processor-time rate, last / first':<38}{last / first:>12.2f}x")


def cases(contacts: int) -> list[tuple[str, list[str]]]:
    email = f"person{contacts // 2}@example.com"
    return [
        ("search, rare word", ["search", RARE]),
        ("search, word in every e-mail", ["search", "example"]),
        ("search, a last name", ["search", "nakamura"]),
        ("contact list --where email=", ["contact", "list", "--where", f"email={email}"]),
        ("contact list --sort name --limit 50", ["contact", "list", "--sort", "name", "-n", "50"]),
        ("contact show ID", ["contact", "show", str(contacts // 2)]),
        (f"account show (holds {contacts // 10:,})", ["account", "show", "1"]),
        ("due", ["due"]),
        (f"pipeline ({contacts // 5:,} deals)", ["pipeline"]),
    ]


def database(work: Path, contacts: int, rebuild: bool) -> Path:
    path = work / f"scale-v2-{contacts}.db"
    if rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        build(path, contacts)
        print(f"built {path.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    extras(path, contacts)
    return path


def output_size(argv: list[str], env: dict) -> int:
    """Bytes a command prints (its output's size, for the growth table)."""
    return len(subprocess.run(argv, env=env, capture_output=True, check=True).stdout)


def work_ms(args: list[str], env: dict, runs: int) -> float:
    """Median processor time (ms) of a command's own work: run in one process, once
    untimed (imports, typer's first adapter: start-up, paid once), then `runs` times.
    What is left grows with the database, if anything does; a loaded machine
    inflates it far less than whole runs, whose start-up dwarfs it."""
    code = (
        "import os, statistics, sys, time\n"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 1)\n"
        "from crmcli.cli import main\n"
        "def once():\n"
        f"    sys.argv = ['crm', *{args!r}]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "once()\n"
        "spent = []\n"
        f"for _ in range({runs}):\n"
        "    start = time.process_time()\n"
        "    once()\n"
        "    spent.append(time.process_time() - start)\n"
        "print(statistics.median(spent) * 1000, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stderr.split()[-1])


def growth(sizes: list[int], results: dict) -> None:
    """Each command's own work (start-up left out), size to size, beside its output's growth."""
    print("\ngrowth: the command's own work (cpu ms, start-up excluded), and x from the"
          " previous size (output x)")  # fmt: skip
    for label in results[sizes[0]]:
        cells, previous = [], None
        for size in sizes:
            work, out = results[size][label]
            work = max(work, 0.1)  # below a tenth of a millisecond is noise
            cell = f"{work:7.1f}"
            if previous is not None:
                cell += f" {work / previous[0]:5.1f}x ({max(out, 1) / max(previous[1], 1):.1f}x)"
            cells.append(cell)
            previous = (work, out)
        print(f"{label:<38}" + " |".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000,1000000",
        help="contacts, comma-separated (a quick run: --sizes 1000,10000)",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=WORK, help="where the databases are kept")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--cpu", action="store_true", help="processor time, not wall time (a loaded machine)"
    )
    parser.add_argument(
        "--listing",
        type=Path,
        metavar="DB",
        help="only the streaming figures (CSV/TSV listing, CSV export) of this database,"
        " which is only read (its size: its contacts)",
    )
    parser.add_argument(
        "--crm", action="append", default=[], metavar="PATH",
        help="with --listing: another install to time in the same run (old vs new)",
    )  # fmt: skip
    options = parser.parse_args()
    sizes = sorted(int(size) for size in options.sizes.split(","))
    options.work.mkdir(parents=True, exist_ok=True)
    compileall.compile_dir(Path(crmcli.__file__).parent, quiet=1)
    python = sys.executable
    crm = str(Path(python).parent / "crm")
    if options.listing:
        with sqlite3.connect(f"file:{options.listing}?mode=ro", uri=True) as conn:
            (contacts,) = conn.execute("SELECT count(*) FROM contacts").fetchone()
        env = {**os.environ, "CRM_DB": str(options.listing), "COLUMNS": "120"}
        listings([*options.crm, crm], env, contacts, options.runs)
        return 0
    results: dict[int, dict] = {}
    for size in sizes:
        path = database(options.work, size, options.rebuild)
        env = {**os.environ, "CRM_DB": str(path), "COLUMNS": "120"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # Once untimed: brings a cached database up to this crm's schema and warms the cache.
        subprocess.run([crm, "db", "info"], env=env, stdout=subprocess.DEVNULL, check=True)
        with db.session(path, write=True) as conn:  # the one --index-every made: m017's now
            conn.execute("DROP INDEX IF EXISTS bench_contacts_every")
        floor = [python, str(HERE / "bare_app.py"), "list", "--db", str(path)]
        print(f"\n{size:,} contacts")
        print(f"{'command':<38}{'floor ms':>10}{'crm ms':>10}{'ratio':>8}  goal <= 1.2")
        results[size] = {}
        for label, args in cases(size):
            out = output_size([crm, *args], env)
            floor_ms, crm_ms = median_pair(floor, [crm, *args], options.runs, env, options.cpu)
            label = label.split(" (")[0]  # one name at every size
            results[size][label] = (work_ms(args, env, options.runs), out)
            print(f"{label:<38}{floor_ms:>10.1f}{crm_ms:>10.1f}{crm_ms / floor_ms:>8.2f}")
    if len(sizes) > 1:
        growth(sizes, results)
    largest = sizes[-1]
    listings([*options.crm, crm], env, largest, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
