"""Small record classes (a query, a schema, an edit) that cost nothing to define.

A @dataclass writes and compiles its methods while its module is imported, about
1 ms each of a command's start-up (bench/startup.py); every command imports a few
of these, so they share one set of methods instead.
"""

from __future__ import annotations

REQUIRED = object()  # a field's default: it must be given


class Record:
    """A record of the fields named by its class, `class Name(Record, fields={...})`:
    each field in order with its default (a callable, such as list or dict, makes a
    new one for each record; REQUIRED: none).

    As a dataclass would be: made from fields by position or name, equal to a record
    of the same class with equal fields, shown as `Name(field=value, ...)`; `replace`
    makes a copy with some fields changed."""

    _fields: tuple[tuple[str, object], ...] = ()
    _names: tuple[str, ...] = ()

    def __init_subclass__(cls, fields: dict[str, object] | None = None, **rest):
        super().__init_subclass__(**rest)
        if fields is not None:
            cls._fields, cls._names = tuple(fields.items()), tuple(fields)

    def __init__(self, *args, **kwargs):
        name = type(self).__name__
        if len(args) > len(self._names):
            raise TypeError(f"{name}() takes {len(self._names)} fields, {len(args)} given")
        values = dict(zip(self._names, args, strict=False))
        for key, value in kwargs.items():
            if key not in self._names or key in values:
                raise TypeError(f"{name}() got an unexpected or repeated field {key!r}")
            values[key] = value
        for key, default in self._fields:
            if key in values:
                value = values[key]
            elif default is REQUIRED:
                raise TypeError(f"{name}() missing the field {key!r}")
            else:
                value = default() if callable(default) else default
            object.__setattr__(self, key, value)

    def _values(self) -> tuple:
        return tuple(getattr(self, key) for key in self._names)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass is

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={getattr(self, key)!r}" for key in self._names)
        return f"{type(self).__name__}({shown})"

    def replace(self, **changes):
        return type(self)(**{**dict(zip(self._names, self._values(), strict=True)), **changes})


class FrozenRecord(Record):
    """A Record whose fields cannot be changed after it is made (hashable if they are)."""

    def __setattr__(self, key, value):
        raise AttributeError(f"cannot assign to field {key!r} of a {type(self).__name__}")

    def __delattr__(self, key):
        raise AttributeError(f"cannot delete field {key!r} of a {type(self).__name__}")

    def __hash__(self) -> int:
        return hash(self._values())
