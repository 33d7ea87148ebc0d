"""Start-up benchmark: crm commands against the floor of this stack, in one run.

    .venv/bin/python bench/startup.py [--runs N] [--cpu | --callgrind] [--crm PATH]

Builds a 1,000-contact database, then times (median of N runs) `crm --help` and
the interactive commands (adding a contact, a deal, an activity; showing and
listing contacts, an account, a search, what is due) beside a bare Typer app
doing the same kind of work (bench/bare_app.py: `list` for what reads, `add` for
what writes), and prints each ratio.  Goal (issue 17): every ratio at most 1.0.
--cpu compares processor time (user + system) instead of wall time: a machine
shared by other work inflates it far less; --callgrind counts the instructions of
one run of each (valgrind), which load does not move at all (though time also
pays for cache misses, which it does not see: the two ratios differ).  --crm
PATH times another install's `crm` (an older branch) in the same run, in a third
column.  Machines are noisy: compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import crmcli
from crmcli import db
from crmcli.store import accounts, contacts
from scale import time_ms

HERE = Path(__file__).resolve().parent
GOAL = 1.0


def build(path: Path, count: int = 1000) -> None:
    with db.session(path, write=True) as conn:
        for i in range(count // 10):
            accounts.add_account(conn, {"name": f"Company {i}", "city": "Springfield"})
        for i in range(count):
            contacts.add_contact(
                conn,
                full_name=f"Person {i:04} Example",
                account=str(i % (count // 10) + 1),
                emails=[f"work:person{i}@example.com"],
                phones=["+1 555 0100"],
            )


def compare(argvs: list[list[str]], runs: int, env: dict, cpu: bool) -> list[float]:
    """Median times of each command line, taking turns so load drift hits all alike."""
    times: list[list[float]] = [[] for _ in argvs]
    for run in range(runs):
        for index, (argv, spent) in enumerate(zip(argvs, times, strict=True)):
            fill = {"{n}": f"{run}-{index}-{os.getpid()}"}  # new names: nothing taken
            spent.append(time_ms([_fill(a, fill) for a in argv], env, cpu))
    return [statistics.median(spent) for spent in times]


def instructions(argv: list[str], env: dict, work: Path) -> float:
    """Millions of instructions one run of `argv` executes (callgrind)."""
    out = work / "callgrind.out"
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, check=True,
    )  # fmt: skip
    out.unlink(missing_ok=True)
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1)) / 1e6


def counted(argvs: list[list[str]], env: dict, work: Path) -> list[float]:
    """Each command line's instructions, one run each (new names: nothing taken)."""
    fill = {"{n}": f"cg-{os.getpid()}"}
    return [instructions([_fill(a, fill) for a in argv], env, work) for argv in argvs]


def _fill(arg: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        arg = arg.replace(key, value)
    return arg


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--cpu", action="store_true", help="processor time, not wall time (a loaded machine)"
    )
    parser.add_argument("--callgrind", action="store_true", help="instructions (valgrind)")
    parser.add_argument("--crm", help="another crm to time beside this one (same database)")
    options = parser.parse_args()
    if options.callgrind and not shutil.which("valgrind"):
        parser.error("--callgrind needs valgrind")
    python = sys.executable
    crm = str(Path(python).parent / "crm")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        build(path)
        # Installed packages run from cached bytecode: make sure ours has it too,
        # even in an editable install under PYTHONDONTWRITEBYTECODE.
        compileall.compile_dir(Path(crmcli.__file__).parent, quiet=1)
        env = {**os.environ, "CRM_DB": str(path), "COLUMNS": "100"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if options.callgrind:
            env["PYTHONHASHSEED"] = "0"  # the same run each time
        bare = [python, str(HERE / "bare_app.py")]
        reads = [*bare, "list", "--db", str(path)]
        writes = [*bare, "add", "--db", str(path), "New {n}"]
        cases = [
            ("--help", [*bare, "--help"], ["--help"]),
            ("contact add", writes, ["contact", "add", "New {n}", "-e", "n{n}@x.test", "-q"]),
            ("contact show", reads, ["contact", "show", "person500@example.com"]),
            ("contact list", reads, ["contact", "list", "--limit", "20"]),
            ("list (1,000 contacts)", reads, ["list"]),
            ("list --format json", reads, ["list", "--format", "json"]),
            ("account show", reads, ["account", "show", "Company 7"]),
            ("search", reads, ["search", "Person 0042"]),
            ("due", reads, ["due"]),
            ("deal add", writes, ["deal", "add", "Deal {n}", "-a", "Company 3", "-q"]),
            ("log", writes, ["log", "Called {n}", "-c", "person7@example.com", "-q"]),
        ]
        other = [options.crm] if options.crm else []
        unit = "M instr" if options.callgrind else "cpu ms" if options.cpu else "ms"
        head = f"{'command':<24}{'floor ' + unit:>13}{'crm':>10}{'ratio':>8}"
        print(head + (f"{'other':>10}{'ratio':>8}" if other else "") + f"  goal <= {GOAL}")
        worst = 0.0
        for label, floor_argv, crm_args in cases:
            crms = [[c, *crm_args] for c in (crm, *other)]
            if options.callgrind:
                floor_ms, *crm_ms = counted([floor_argv, *crms], env, Path(tmp))
            else:
                floor_ms, *crm_ms = compare([floor_argv, *crms], options.runs, env, options.cpu)
            worst = max(worst, crm_ms[0] / floor_ms)
            line = f"{label:<24}{floor_ms:>13.1f}"
            for ms in crm_ms:
                line += f"{ms:>10.1f}{ms / floor_ms:>8.2f}"
            print(line)
        print(f"worst ratio {worst:.2f} ({'meets' if worst <= GOAL else 'misses'} the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
