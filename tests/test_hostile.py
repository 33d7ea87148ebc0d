"""Hostile text anywhere user text goes: stored exactly, shown literally, never
interpreted, and round-tripped through export and import."""

import json
import re
import unicodedata
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli import db, models
from crmcli.store import accounts, contacts

# Any Unicode text but surrogates (which are not text), biased towards the nasty.
NASTY = st.sampled_from(
    ["[bold]x[/]", "[/]", ":smile:", "\x1b[31m", "\x1b]0;title\x07", "\u202e", "\x00",
     "C:\\temp\\", "\r", "\x9b2J", "%s%n", "'; DROP TABLE contacts; --", "😀", "𝕏", "\U0010fffd"]
)  # fmt: skip
TEXT = st.lists(st.one_of(NASTY, st.text(st.characters(blacklist_categories=("Cs",)))),
                min_size=1, max_size=4).map("".join)  # fmt: skip
UNSAFE = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066)]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(name=TEXT, note=TEXT)
def test_hostile_text_round_trips_and_never_reaches_the_terminal(crm, tmp_path, name, note):
    if not models.fold(unicodedata.normalize("NFC", name)).strip():
        return  # an empty name (or one of invisible characters) is refused, as it should be
    path = tmp_path / f"{uuid.uuid4().hex}.db"  # hypothesis reruns examples: a new file each
    tag = re.sub(r"[;\x00-\x1f\x7f-\x9f]", "", name)  # what a tag cannot hold (models.tags)
    with db.session(path, write=True) as conn:
        account = accounts.add_account(conn, {"name": name, "description": note})
        contact = contacts.add_contact(conn, first=name, values={"description": note},
                                       tags=[tag] if tag.strip() else [],
                                       fields={"note": note[:500]})  # fmt: skip
    env = {"CRM_DB": str(path)}
    shown = crm.json("account", "show", str(account["id"]), env=env)
    assert shown["name"] == unicodedata.normalize("NFC", name).strip()
    assert shown["description"] == (unicodedata.normalize("NFC", note) if note.strip() else None)
    for args in (["account", "show", "1"], ["contact", "list"]):
        out = crm.ok(*args, env={**env, "COLUMNS": "200"}).stdout
        assert not any(char in out for char in UNSAFE if char != "\n")
    backup = crm.ok("export", env=env).stdout
    assert not any(char in backup for char in UNSAFE if char != "\n")
    copy = {"CRM_DB": str(path) + ".copy"}
    crm.ok("import", "-", "-f", "json", input=backup, env=copy)
    again = crm.ok("export", env=copy).stdout
    assert json.loads(again)["contacts"] == json.loads(backup)["contacts"]
    assert contact["id"] == 1


def test_100_kb_strings_and_every_plane(crm):
    big = "".join(chr(code) for code in range(0x20, 0x7F)) * 1050  # ~100 kB, one argument
    planes = "".join(chr(plane * 0x10000 + 0x100) for plane in range(17) if plane not in (14,))
    crm.ok("account", "new", "Big", "--description", big + planes, "--set", f"k={planes}")
    shown = crm.json("account", "show", "Big")
    assert shown["description"] == big + planes and shown["fields"] == {"k": planes}
    assert "Big" in crm.ok("account", "show", "Big").stdout
