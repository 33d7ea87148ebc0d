"""Start-up: what a command imports and defines before it runs (bench/startup.py times it)."""

import pytest

from crmcli.records import REQUIRED, FrozenRecord, Record
from crmcli.store.common import TagEdit
from crmcli.store.query import Query


class _Point(Record, fields={"x": REQUIRED, "tags": list, "label": None}):
    pass


def test_records_are_made_compared_and_shown_as_dataclasses_would_be():
    point = _Point(1, label="a")
    assert (point.x, point.tags, point.label) == (1, [], "a")
    assert point == _Point(x=1, tags=[], label="a") and point != _Point(2, label="a")
    assert repr(point) == "_Point(x=1, tags=[], label='a')"
    assert _Point(1).tags is not _Point(1).tags  # a new list for each record
    assert point.replace(x=3) == _Point(3, label="a") and point.x == 1
    point.x = 5  # a Record may change
    assert point.x == 5
    with pytest.raises(TypeError, match="missing the field 'x'"):
        _Point()
    with pytest.raises(TypeError, match="'y'"):
        _Point(1, y=2)
    with pytest.raises(TypeError, match="repeated field 'x'"):
        _Point(1, x=2)
    with pytest.raises(TypeError, match="takes 3 fields"):
        _Point(1, [], None, 4)
    with pytest.raises(TypeError):
        hash(point)


def test_frozen_records_cannot_change_and_hash_by_their_fields():
    query = Query(limit=5)
    assert query == Query(where=[], tags=[], sort=[], limit=5, offset=0)
    assert query != Query(limit=6) and query != TagEdit()
    assert repr(query) == "Query(where=[], tags=[], sort=[], limit=5, offset=0)"
    with pytest.raises(AttributeError):
        query.limit = 6
    with pytest.raises(AttributeError):
        del query.limit
    assert query.replace(offset=2).offset == 2 and query.offset == 0
    assert not TagEdit() and TagEdit(add_tags=["vip"])

    class Pair(FrozenRecord, fields={"a": 1, "b": 2}):
        pass

    assert hash(Pair()) == hash(Pair(1, 2)) and {Pair(), Pair(1, 2)} == {Pair()}
