"""JSON that the decoder cannot take (nested 100,000 deep, a 5,000-digit number)
is a refused file, exit 1 like any other broken JSON, never an unexpected error."""

import pytest

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5_000


@pytest.fixture(params=["here", "in a child"])
def checked_where(request, monkeypatch):
    """Records read and checked in this process, then in a second one (as a big
    file is)."""
    from crmcli import workers

    if request.param == "in a child":
        monkeypatch.setattr(workers, "ELSEWHERE_FROM", 0)


@pytest.mark.usefixtures("checked_where")
@pytest.mark.parametrize(
    ("fmt", "text", "error"),
    [
        ("json", DEEP, "not valid JSON: arrays or objects nested too deeply"),
        ("json", '{"contacts": [{"name": "A", "x": ' + DEEP + "}]}",
         "nested too deeply (over some 900 levels) (line 1 column 15)"),
        ("json", '[{"name": "A"}, {"name": ' + DEEP + "}]", "(line 1 column 17)"),
        ("jsonl", '{"name": "A"}\n' + DEEP + "\n", "line 2: not valid JSON: arrays or objects"),
        ("json", '[{"name": "A", "amount": ' + HUGE + "}]", "more than 4,300 digits (line 1"),
        ("jsonl", '{"name": "A", "amount": ' + HUGE + "}", "line 1: not valid JSON: a number of"),
    ],
)  # fmt: skip
def test_json_too_deep_or_too_long_is_refused(crm, fmt, text, error):
    result = crm.fails(1, "import", "-", "-f", fmt, input=text)
    assert error in result.stderr and "unexpected" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert crm.json("list") == []
