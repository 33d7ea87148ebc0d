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
