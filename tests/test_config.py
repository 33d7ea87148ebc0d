"""config.toml: default currency and pipeline stages."""

import pytest

from crmcli import config
from crmcli.errors import InvalidValue


@pytest.fixture
def write(tmp_path):
    def write(text):
        (tmp_path / "config.toml").write_text(text, encoding="utf-8")
        config.load.cache_clear()
        return config.load()

    return write


def test_defaults_without_a_file():
    settings = config.load()
    assert settings.currency == "USD"
    assert list(settings.stages) == ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
    assert settings.status("won") == "won" and settings.status("proposal") == "open"


def test_currency_and_stages(write):
    settings = write(
        'currency = "eur"\nwon_stage = "Signed"\n[stages]\nnew = 5\ndemo = 40\n'
        "Signed = 100\nlost = 0\n"
    )
    assert settings.currency == "EUR"
    assert settings.stages == {"new": 5, "demo": 40, "signed": 100, "lost": 0}
    assert settings.status("signed") == "won" and settings.status("lost") == "lost"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("currency = 'euros'", "three-letter"),
        ("[stages]\nlead = 150\nwon = 100\nlost = 0", "0-100"),
        ("[stages]\nlead = 10", "won_stage"),
        ("colour = 'red'", "unknown setting"),
        ("this is = not toml [", "config file"),
    ],
)
def test_bad_config_is_a_clear_error(write, text, message):
    with pytest.raises(InvalidValue, match=message):
        write(text)


def test_a_bad_config_stops_deal_commands_with_exit_2(crm, write, tmp_path):
    (tmp_path / "config.toml").write_text("currency = 12")
    config.load.cache_clear()
    crm.ok("account", "new", "Acme")
    result = crm.fails(2, "deal", "new", "Skates", "--account", "Acme")
    assert "config.toml" in result.stderr
