"""Import memory benchmark (issue 17): peak memory of `crm import` per format.

    .venv/bin/python bench/memory.py [--contacts 200000[,400000...]] [--work DIR] [--crm PATH]

Writes a CSV of N contacts at N/10 companies (bench/transfer.py's), imports it
once, exports that as a JSON backup, JSONL and vCard, then imports each file
(and the CSV) into an empty database and prints its size, contacts per second
and peak memory (the importing process's maximum resident set).  Goal: every
import under 300 MB whatever the file's size (a 635 MB JSON backup peaked at
1.3 GB when its text was held whole), at the speed of issue 5.  Several sizes
(--contacts 200000,400000) print each format's peak at each and how much it
grew from the smallest: memory should stay flat as the file grows.  --crm
times another install (e.g. main's, for a before/after in one run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from transfer import peak_mb, write_csv  # noqa: E402

GOAL_MB = 300
FORMATS = (("json", "backup.json"), ("jsonl", "contacts.jsonl"), ("vcf", "contacts.vcf"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", default="200000", help="N, or sizes: 200000,400000")
    parser.add_argument("--work", type=Path, default=None, help="folder for the files (a tmp)")
    parser.add_argument("--crm", action="append", help="crm to measure (again for several)")
    options = parser.parse_args()
    sizes = [int(size) for size in options.contacts.split(",")]
    crms = options.crm or [str(Path(sys.executable).parent / "crm")]
    print(f"{'import':<8}{'contacts':>10}{'MB':>8}  "
          + "".join(f"{'rows/s':>10}{'peak MB':>9}{'grew':>7}" for _ in crms))  # fmt: skip
    first: dict[tuple[str, int], float] = {}  # (format, crm) -> peak at the smallest size
    for contacts in sizes:
        for fmt, size, figures in _measured(contacts, crms, options.work):
            cells = []
            for number, (seconds, memory) in enumerate(figures):
                grew = memory - first.setdefault((fmt, number), memory)
                cells.append(f"{contacts / seconds:>10,.0f}{memory:>9.0f}{grew:>+7.0f}")
            print(f"{fmt:<8}{contacts:>10,}{size:>8,.0f}  " + "".join(cells), flush=True)
    print(f"goal: peak < {GOAL_MB} MB in every format, flat as the file grows" + (
        "; columns: " + ", ".join(crms) if len(crms) > 1 else ""))  # fmt: skip
    return 0


def _measured(contacts: int, crms: list[str], work: Path | None):
    """(format, file MB, [(seconds, peak MB) for each crm]) for the files of N contacts."""
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        folder = Path(tmp)
        files = {"csv": folder / "contacts.csv"}
        write_csv(files["csv"], contacts)
        env = {**os.environ, "CRM_DB": str(folder / "crm.db")}
        subprocess.run([crms[-1], "import", str(files["csv"])], env=env, check=True,
                       stderr=subprocess.DEVNULL)  # fmt: skip
        for fmt, name in FORMATS:
            files[fmt] = folder / name
            subprocess.run([crms[-1], "export", "-f", fmt, "-o", str(files[fmt])], env=env,
                           check=True, stderr=subprocess.DEVNULL)  # fmt: skip
        for suffix in ("", "-wal", "-shm"):  # room for the imports (1M contacts: ~1 GB)
            Path(f"{folder / 'crm.db'}{suffix}").unlink(missing_ok=True)
        for fmt, path in files.items():
            figures = []
            for number, crm in enumerate(crms):
                target = folder / f"restored-{fmt}-{number}.db"
                figures.append(peak_mb([crm, "import", str(path)], {**env, "CRM_DB": str(target)}))
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
            yield fmt, path.stat().st_size / 2**20, figures


if __name__ == "__main__":
    sys.exit(main())
