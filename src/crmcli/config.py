"""The user's settings: `<user config dir>/crmcli/config.toml` ($CRM_CONFIG overrides).

    currency = "EUR"            # default for new deals (else USD)

    [stages]                    # the pipeline, in order: name = probability
    lead = 10
    qualified = 25
    demo = 40
    proposal = 50
    negotiation = 75
    won = 100
    lost = 0

A `[stages]` table replaces the default list.  A stage named `won` closes a
deal as won and `lost` as lost; to call them something else, say which is
which: `won_stage = "closed won"`, `lost_stage = "closed lost"`.

    me = ["you@example.com", "you@work.example"]   # your addresses (crm mail log)
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from crmcli.errors import InvalidValue
from crmcli.records import FrozenRecord

DEFAULT_STAGES = {
    "lead": 10,
    "qualified": 25,
    "proposal": 50,
    "negotiation": 75,
    "won": 100,
    "lost": 0,
}


class Config(
    FrozenRecord,
    fields={
        "currency": "USD",
        "stages": lambda: dict(DEFAULT_STAGES),
        "won_stage": "won",
        "lost_stage": "lost",
        "me": (),  # your own e-mail addresses: `crm mail log` tells sent mail by them
    },
):
    currency: str
    stages: dict[str, int]
    won_stage: str
    lost_stage: str
    me: tuple[str, ...]

    def status(self, stage: str) -> str:
        """The deal status a stage implies."""
        return {self.won_stage: "won", self.lost_stage: "lost"}.get(stage, "open")

    def check_stage(self, stage: str) -> str:
        value = stage.strip().lower()
        if value not in self.stages:
            raise InvalidValue(f"unknown stage {stage!r}: use one of {', '.join(self.stages)}")
        return value


def path() -> Path:
    if os.environ.get("CRM_CONFIG"):
        return Path(os.environ["CRM_CONFIG"]).expanduser()
    import platformdirs

    return platformdirs.user_config_path("crmcli") / "config.toml"


@cache
def load() -> Config:
    """The settings in force; a missing file means the defaults."""
    file = path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidValue(f"cannot read the config file {file}: {exc}") from None
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidValue(f"config file {file}: {exc}") from None
    return _config(data, file)


def _config(data: dict, file: Path) -> Config:
    def problem(message: str) -> InvalidValue:
        return InvalidValue(f"config file {file}: {message}")

    unknown = set(data) - {"currency", "stages", "won_stage", "lost_stage", "me"}
    if unknown:
        raise problem(f"unknown setting(s) {', '.join(sorted(unknown))}")
    currency = data.get("currency", "USD")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise problem(f"currency must be a three-letter code such as EUR (got {currency!r})")
    stages = data.get("stages", DEFAULT_STAGES)
    if not isinstance(stages, dict) or not stages:
        raise problem("[stages] must list stage = probability pairs")
    cleaned = {}
    for name, probability in stages.items():
        if not isinstance(probability, int) or not 0 <= probability <= 100:
            raise problem(f"stage {name!r}: the probability must be a whole number 0-100")
        cleaned[name.strip().lower()] = probability
    won, lost = data.get("won_stage", "won"), data.get("lost_stage", "lost")
    for role, stage in (("won_stage", won), ("lost_stage", lost)):
        if not isinstance(stage, str) or stage.lower() not in cleaned:
            raise problem(f"{role} {stage!r} is not one of the stages")
    me = data.get("me", [])
    if isinstance(me, str):
        me = [me]
    if not isinstance(me, list) or not all(isinstance(address, str) for address in me):
        raise problem('me must list your e-mail addresses: me = ["you@example.com"]')
    return Config(currency.upper(), cleaned, won.lower(), lost.lower(), tuple(me))
