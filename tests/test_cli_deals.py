"""crm deal ... and crm pipeline through CliRunner."""

import json

import pytest


@pytest.fixture
def acme(crm):
    crm.ok("account", "new", "Acme")
    crm.ok("contact", "add", "Jane Doe", "--account", "Acme", "--email", "jane@acme.example")
    return crm


def test_new_with_everything(acme):
    deal = acme.json(
        "deal",
        "new",
        "Skates",
        "--account",
        "acme",
        "--contact",
        "jane@acme.example",
        "--amount",
        "12500.50",
        "--currency",
        "eur",
        "--stage",
        "proposal",
        "--close",
        "2027-03-31",
        "--description",
        "200 pairs",
        "--tag",
        "q1",
        "--set",
        "src=fair",
    )
    assert deal["amount"] == 12500.5 and deal["currency"] == "EUR"
    assert (deal["stage"], deal["probability"], deal["status"]) == ("proposal", 50, "open")
    assert (deal["account"], deal["contact"]) == ("Acme", "Jane Doe")
    assert deal["fields"] == {"src": "fair"} and deal["tags"] == ["q1"]
    assert acme.new_id("deal", "add", "Anvils", "--account", "Acme") == 2


def test_account_is_required(acme):
    assert "--account" in acme.fails(2, "deal", "new", "Skates").stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "-1"], "invalid amount"),
        (["--amount", "lots"], "invalid amount"),
        (["--stage", "maybe"], "unknown stage"),
        (["--probability", "120"], "0-100"),
        (["--close", "31/03/2027"], "YYYY-MM-DD"),
        (["--currency", "dollars"], "ISO 4217"),
    ],
)
def test_bad_values_are_exit_2_and_write_nothing(acme, args, message):
    assert message in acme.fails(2, "deal", "new", "X", "--account", "Acme", *args).stderr
    assert acme.json("deal", "list") == []


def test_amounts_are_exact_in_json_csv_and_sums(acme):
    for _ in range(3):
        acme.ok("deal", "new", "Tenth", "--account", "Acme", "--amount", "0.1")
    raw = acme.ok("pipeline", "--json").stdout
    assert '"amount": 0.3' in raw and '"weighted": 0.03' in raw
    assert ",0.1," in acme.ok("deal", "list", "--format", "csv").stdout


def test_list_filters(acme):
    acme.ok("account", "new", "Globex")
    acme.ok("deal", "new", "A", "--account", "Acme", "--stage", "won")
    acme.ok("deal", "new", "B", "--account", "Globex", "--contact", "Jane Doe")
    acme.ok("deal", "new", "C", "--account", "Globex", "--stage", "proposal")

    def names(*args):
        return [d["name"] for d in acme.json("deal", "list", *args)]

    assert names() == ["A", "B", "C"]
    assert names("--status", "won") == ["A"]
    assert names("--status", "open") == ["B", "C"]
    assert names("--stage", "Proposal") == ["C"]
    assert names("--account", "Globex") == ["B", "C"]
    assert names("--contact", "jane@acme.example") == ["B"]
    acme.fails(2, "deal", "list", "--status", "pending")
    acme.fails(2, "deal", "list", "--stage", "pending")
    acme.fails(3, "deal", "list", "--account", "Nobody")


def test_move_edit_show_delete(acme):
    acme.ok("deal", "new", "Skates", "--account", "Acme", "--amount", "100")
    moved = acme.json("deal", "move", "skates", "negotiation")
    assert (moved["stage"], moved["probability"]) == ("negotiation", 75)
    won = acme.json("deal", "move", "1", "won")
    assert won["status"] == "won" and won["close_date"]
    acme.fails(2, "deal", "move", "Skates", "sideways")
    edited = acme.json(
        "deal",
        "edit",
        "Skates",
        "--name",
        "Skates XL",
        "--amount",
        "150",
        "--stage",
        "proposal",
        "--probability",
        "60",
    )
    assert (edited["name"], edited["amount"], edited["status"]) == ("Skates XL", 150, "open")
    assert edited["probability"] == 60
    acme.fails(2, "deal", "edit", "Skates XL")
    acme.ok("task", "add", "Call about skates", "--deal", "Skates XL")
    acme.ok("log", "Discussed sizes", "--deal", "Skates XL")
    shown = acme.json("deal", "show", "Skates XL")
    assert [t["title"] for t in shown["tasks"]] == ["Call about skates"]
    assert [a["body"] for a in shown["activities"]] == ["Discussed sizes"]
    acme.fails(2, "deal", "delete", "Skates XL")
    acme.ok("deal", "delete", "Skates XL", "--yes")
    assert acme.json("deal", "list") == []
    assert acme.json("task", "list")[0]["deal_id"] is None  # the task stays, unlinked


def test_pipeline_table_has_bars_and_the_weighted_total(acme):
    acme.ok("deal", "new", "Big", "--account", "Acme", "--amount", "1000", "--stage", "proposal")
    acme.ok("deal", "new", "Small", "--account", "Acme", "--amount", "250", "--stage", "lead")
    acme.ok("deal", "new", "Done", "--account", "Acme", "--amount", "5000", "--stage", "won")
    table = acme.ok("pipeline").stdout
    lines = {line.split("│")[1].strip(): line for line in table.splitlines() if "│" in line}
    assert lines["won"].count("█") == 30 and lines["proposal"].count("█") == 6
    assert lines["qualified"].count("█") == 0
    assert table.rstrip().endswith("Open pipeline, weighted: 525 USD")  # 500 + 25; won excluded
    rows = json.loads(acme.ok("pipeline", "--format", "json").stdout)
    assert [r["stage"] for r in rows] == [
        "lead",
        "qualified",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    assert rows[1] == {
        "stage": "qualified",
        "currency": None,
        "count": 0,
        "amount": 0,
        "weighted": 0,
    }


def test_config_renames_stages_and_sets_the_currency(acme, tmp_path):
    from crmcli import config

    (tmp_path / "config.toml").write_text(
        'currency = "EUR"\nwon_stage = "signed"\n[stages]\nnew = 5\nsigned = 100\nlost = 0\n'
    )
    config.load.cache_clear()
    deal = acme.json("deal", "new", "Skates", "--account", "Acme")
    assert (deal["stage"], deal["currency"], deal["probability"]) == ("new", "EUR", 5)
    assert acme.json("deal", "move", "Skates", "signed")["status"] == "won"


def test_formats_a_command_cannot_print_are_usage_errors(acme):
    """pipeline rows are stages, search hits of several kinds share ids: no ids format."""
    acme.ok("deal", "new", "Skates", "--account", "Acme")
    assert "pipeline has no ids" in acme.fails(2, "pipeline", "-f", "ids").stderr
    assert "add --kind" in acme.fails(2, "search", "acme", "-f", "ids").stderr
    assert acme.ok("search", "skates", "-f", "ids", "--kind", "deals").stdout == "1\n"
