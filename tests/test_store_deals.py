"""Deals in the store: exact money, stages, probabilities, the pipeline."""

from decimal import Decimal

import pytest

from crmcli import when
from crmcli.config import Config
from crmcli.errors import InvalidValue, NotFound
from crmcli.store import accounts, deals

CONFIG = Config()


@pytest.fixture
def acme(conn):
    return accounts.add_account(conn, {"name": "Acme"})


def add(conn, name, **kwargs):
    return deals.add_deal(conn, CONFIG, name, account="Acme", **kwargs)


def test_a_new_deal_starts_at_the_first_stage(conn, acme):
    deal = add(conn, "Skates", amount_text="1200.50")
    assert (deal["stage"], deal["probability"], deal["status"]) == ("lead", 10, "open")
    assert deal["amount"] == Decimal("1200.5") and deal["currency"] == "USD"
    assert deal["account"] == "Acme"


@pytest.mark.parametrize(
    ("stage", "probability", "status"),
    [
        ("qualified", 25, "open"),
        ("proposal", 50, "open"),
        ("negotiation", 75, "open"),
        ("won", 100, "won"),
        ("lost", 0, "lost"),
    ],
)
def test_stages_set_probability_and_status(conn, acme, stage, probability, status):
    deal = add(conn, "Skates", stage=stage)
    assert (deal["probability"], deal["status"]) == (probability, status)


def test_explicit_probability_wins_over_the_stage(conn, acme):
    assert add(conn, "Skates", stage="proposal", chance=60)["probability"] == 60
    moved = deals.move_deal(conn, CONFIG, "Skates", "negotiation")
    assert moved["probability"] == 75
    moved = deals.move_deal(conn, CONFIG, "Skates", "negotiation", 80)
    assert moved["probability"] == 80


def test_closing_dates_an_undated_deal(conn, acme):
    add(conn, "Skates")
    won = deals.move_deal(conn, CONFIG, "skates", "won")
    assert won["status"] == "won" and won["close_date"] == when.today().isoformat()
    add(conn, "Anvils", close="2027-01-31")
    lost = deals.move_deal(conn, CONFIG, "Anvils", "LOST")
    assert lost["close_date"] == "2027-01-31" and lost["status"] == "lost"
    reopened = deals.move_deal(conn, CONFIG, "Anvils", "proposal")
    assert reopened["status"] == "open"


def test_money_is_exact(conn, acme):
    for _ in range(3):
        add(conn, "Tenth", amount_text="0.1")
    lead = next(row for row in deals.pipeline(conn, CONFIG) if row["stage"] == "lead")
    assert lead["amount"] == Decimal("0.3") and str(lead["amount"]) == "0.3"
    assert lead["weighted"] == Decimal("0.03")
    assert lead["count"] == 3


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("1200", "1200"),
        ("1_200.50", "1200.5"),
        ("1,200.50", "1200.5"),
        ("0", "0"),
        ("0.0001", "0.0001"),
        ("1.500000", "1.5"),
        ("999999999999999", "999999999999999"),
    ],
)
def test_amount_forms(text, stored):
    assert deals.amount(text) == stored


@pytest.mark.parametrize(
    "text", ["-5", "abc", "1e400", "NaN", "Infinity", "0.00001", "1234567890123456"]
)
def test_bad_amounts(text):
    with pytest.raises(InvalidValue, match="invalid amount"):
        deals.amount(text)


def test_bad_values_are_refused(conn, acme):
    with pytest.raises(InvalidValue, match="unknown stage"):
        add(conn, "X", stage="maybe")
    with pytest.raises(InvalidValue, match="0-100"):
        add(conn, "X", chance=101)
    with pytest.raises(InvalidValue, match="ISO 4217"):
        add(conn, "X", currency_code="EURO")
    with pytest.raises(InvalidValue, match="YYYY-MM-DD"):
        add(conn, "X", close="soonish")
    with pytest.raises(NotFound):
        deals.add_deal(conn, CONFIG, "X", account="Nowhere")
    assert list(deals.list_deals(conn)) == []


def test_pipeline_per_stage_and_currency(conn, acme):
    add(conn, "A", amount_text="1000", stage="proposal")
    add(conn, "B", amount_text="500", stage="proposal", currency_code="eur")
    add(conn, "C", amount_text="2000", stage="proposal")
    add(conn, "D", stage="won", amount_text="700")
    add(conn, "E")  # no amount
    rows = deals.pipeline(conn, CONFIG)
    assert [(r["stage"], r["currency"]) for r in rows] == [
        ("lead", "USD"),
        ("qualified", None),
        ("proposal", "EUR"),
        ("proposal", "USD"),
        ("negotiation", None),
        ("won", "USD"),
        ("lost", None),
    ]
    proposal_usd = rows[3]
    assert proposal_usd["count"] == 2 and proposal_usd["amount"] == Decimal(3000)
    assert proposal_usd["weighted"] == Decimal(1500)
    assert rows[0] == {
        "stage": "lead",
        "currency": "USD",
        "count": 1,
        "amount": Decimal(0),
        "weighted": Decimal(0),
    }


def test_custom_stages(conn, acme):
    config = Config(
        currency="EUR",
        stages={"new": 5, "demo": 40, "closed won": 100, "closed lost": 0},
        won_stage="closed won",
        lost_stage="closed lost",
    )
    deal = deals.add_deal(conn, config, "Skates", account="Acme")
    assert (deal["stage"], deal["probability"], deal["currency"]) == ("new", 5, "EUR")
    assert deals.move_deal(conn, config, "Skates", "Closed Won")["status"] == "won"
    with pytest.raises(InvalidValue, match="new, demo, closed won, closed lost"):
        deals.move_deal(conn, config, "Skates", "won")


def test_edit_and_unlink(conn, acme):
    from crmcli.store import contacts

    contacts.add_contact(conn, full_name="Jane Doe", emails=["jane@acme.example"])
    add(conn, "Skates", contact="jane@acme.example", amount_text="10")
    deal = deals.edit_deal(
        conn,
        CONFIG,
        "Skates",
        name="Skates XL",
        amount_text="",
        no_contact=True,
        close="2027-02-01",
    )
    assert (deal["name"], deal["amount"], deal["contact_id"]) == ("Skates XL", None, None)
    assert deal["close_date"] == "2027-02-01"
    with pytest.raises(InvalidValue, match="cannot be used together"):
        deals.edit_deal(conn, CONFIG, "Skates XL", contact="Jane Doe", no_contact=True)
    deals.delete_deal(conn, "Skates XL")
    assert list(deals.list_deals(conn)) == []
