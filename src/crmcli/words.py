"""Counted nouns for messages: "1 e-mail", "2 e-mails", "3 activities"."""

_IRREGULAR = {"child account": "child accounts"}


def counted(count: int, noun: str) -> str:
    """`count` and the noun, plural unless the count is one; thousands separated."""
    if count == 1:
        return f"1 {noun}"
    if noun in _IRREGULAR:
        plural = _IRREGULAR[noun]
    elif noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        plural = noun[:-1] + "ies"
    elif noun.endswith(("s", "x", "ch", "sh")):
        plural = noun + "es"
    else:
        plural = noun + "s"
    return f"{count:,} {plural}"
