"""CSV/TSV cells: TSV escaping (crm's own files round-trip, outside files keep their
backslashes), and list cells (tags, labelled e-mails and phones) that split back
exactly."""

import csv
import io

import pytest

from crmcli import render


@pytest.mark.parametrize("value", ["a\tb", "a\nb", "a\rb", "a\\b", 'a"b', "C:\\temp\\new"])
def test_tsv_escapes_each_special_character_even_alone_in_a_batch(value):
    out: list[str] = []
    rows = [[1, "plain"], [2, value], *([index, "x"] for index in range(3, 2500))]
    render.write_cells(out.append, "tsv", ["id", "v"], render.batches(_Cursor(rows)))
    text = "".join(out)
    assert text.count("\n") == len(rows) + 1  # one line a record
    expected = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    assert next(csv.reader(io.StringIO(text.splitlines()[2]), dialect="excel-tab")) == [
        "2",
        expected.replace("\r", "\\r"),
    ]


class _Cursor:
    def __init__(self, rows):
        self.rows = iter(rows)

    def fetchmany(self, size):
        from itertools import islice

        return list(islice(self.rows, size))


def test_an_outside_tsv_keeps_its_backslashes(crm, tmp_path):
    path = tmp_path / "outside.tsv"
    path.write_text(
        "name\tdescription\tshare\nA\tC:\\temp\\new\\report\t\\\\server\\rates\n",
        encoding="utf-8",
    )
    crm.ok("import", str(path))
    contact = crm.json("contact", "show", "A")
    assert contact["description"] == "C:\\temp\\new\\report"
    assert contact["fields"] == {"share": "\\\\server\\rates"}


def test_crm_own_tsv_round_trips_and_the_options_decide_either_way(crm, tmp_path):
    value = "tab\there, CR\rLF\nend, C:\\temp\\new, \\\\t"
    crm.ok("contact", "add", "A", "--title", "x", "--description", value)
    own = tmp_path / "own.tsv"
    own.write_text(crm.ok("list", "-f", "tsv").stdout, encoding="utf-8")
    crm.ok("--db", str(tmp_path / "b.db"), "import", str(own))
    assert crm.json("--db", str(tmp_path / "b.db"), "contact", "show", "A")["description"] == value
    crm.ok("--db", str(tmp_path / "c.db"), "import", str(own), "--no-tsv-escapes")
    kept = crm.json("--db", str(tmp_path / "c.db"), "contact", "show", "A")["description"]
    assert kept == value.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace(
        "\n", "\\n"
    )
    some = tmp_path / "some.tsv"  # --columns: not crm's whole header, so say it
    some.write_text(crm.ok("list", "-f", "tsv", "--columns", "name,description").stdout)
    crm.ok("--db", str(tmp_path / "d.db"), "import", str(some), "--tsv-escapes")
    assert crm.json("--db", str(tmp_path / "d.db"), "contact", "show", "A")["description"] == value
    assert "for TSV files" in crm.fails(2, "import", str(own), "-f", "csv", "--tsv-escapes").stderr
