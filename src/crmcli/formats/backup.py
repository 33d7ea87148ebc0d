"""crm's own JSON backup and JSONL, read a record at a time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import NoReturn

from crmcli.errors import Refused
from crmcli.formats import KINDS, PLURAL, Source


def read_json(text: str | Source, kind: str) -> Iterator[tuple[str, str, dict]]:
    """Our backup ({"accounts": [...], ...}) or a plain list of one kind, decoded a
    record at a time: as one document, a million-contact backup takes gigabytes.

    A backup's kinds must come in the order `crm export` writes them (accounts,
    contacts, deals, activities, tasks), since links name records read before.
    The file is read a chunk at a time: memory follows the largest record.
    """
    document = _Json(text)
    opening = document.peek()
    if opening == "[":
        yield from _records(document.elements(), kind)
    elif opening == "{":
        yield from _backup(document)
    else:
        document.value()  # not JSON: says where; a bare value: refused below
        raise Refused("the JSON must be a crm export or a list of records")
    document.end()


def _backup(document: _Json) -> Iterator[tuple[str, str, dict]]:
    document.expect("{")
    read: list[str] = []
    more = not document.take("}")
    while more:
        if document.peek() != '"':
            document.fail("a name in double quotes")
        name = document.value()
        document.expect(":")
        if name not in KINDS:
            document.value()  # the header (crmcli, version, exported_at) or another key
        elif read and KINDS.index(name) <= KINDS.index(read[-1]):
            raise Refused(
                f"the backup lists {name} after {read[-1]}: crm reads accounts, contacts,"
                " deals, activities and tasks in that order, each once"
            )
        elif document.peek() != "[":
            raise Refused(f"{name} must be a list of records")
        else:
            read.append(name)
            yield from _records(document.elements(), name)
        more = document.take(",")
        if not more:
            document.expect("}")
    if not read:
        raise Refused("the JSON holds no accounts, contacts, deals, activities or tasks")


def _records(elements: Iterator, name: str) -> Iterator[tuple[str, str, dict]]:
    for index, record in enumerate(elements, start=1):
        if not isinstance(record, dict):
            raise Refused(f"{name} #{index} is not a record (an object)")
        yield f"{name} #{index}", name, record


class _Json:
    """A place in JSON text read a chunk at a time, whose values are decoded one at
    a time (the standard decoder does each; this only walks the outer object and
    arrays).  Only the value being read and one chunk are held, whatever the
    file's size; messages say the line and column in the whole file."""

    _SPACE = re.compile(r"[ \t\n\r]*")
    _DECODER = json.JSONDecoder()
    _NEAR_END = 16  # an error this close to the text's end may be a value cut off

    def __init__(self, text: str | Source):
        self._chunks = Source.of(text).chunks()
        self.text, self.at = "", 0
        # What was read and let go before self.text: characters, lines, and the
        # column its last line had reached.
        self._dropped, self._line, self._column = 0, 1, 0
        self._more = True

    def _fill(self) -> bool:
        """More of the file after self.text (what was read let go); False at its end."""
        if not self._more:
            return False
        kept = len(self.text) - self.at
        pieces, size = [], 0
        while size <= kept:  # as much again as is held: a long value is decoded
            chunk = next(self._chunks, None)  # a few times, not once a chunk
            if chunk is None:
                self._more = False
                break
            pieces.append(chunk)
            size += len(chunk)
        if not pieces:
            return False
        done = self.text[: self.at]
        newlines = done.count("\n")
        self._line += newlines
        self._column = len(done) - done.rfind("\n") - 1 if newlines else self._column + len(done)
        self._dropped += self.at
        self.text, self.at = self.text[self.at :] + "".join(pieces), 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            self.at = self._SPACE.match(self.text, self.at).end()
            if self.at < len(self.text) or not self._fill():
                return self.text[self.at : self.at + 1]

    def take(self, char: str) -> bool:
        if self.peek() != char:
            return False
        self.at += 1
        return True

    def expect(self, char: str) -> None:
        if not self.take(char):
            self.fail(repr(char))

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self._DECODER.raw_decode(self.text, self.at)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - self._NEAR_END or exc.msg.startswith(
                    "Unterminated string"
                )
                if cut and self._fill():
                    continue  # perhaps the value goes on in the next chunk
                where = f"{self.where(exc.pos)} (char {self._dropped + exc.pos})"
                raise Refused(f"not valid JSON: {exc.msg}: {where}") from None
            except RecursionError:
                raise Refused(f"not valid JSON: {_TOO_DEEP} ({self.where()})") from None
            except ValueError:  # a number of over 4,300 digits
                raise Refused(f"not valid JSON: {_too_long()} ({self.where()})") from None
            if end == len(self.text) and self._fill():
                continue  # a number or a literal may go on in the next chunk
            self.at = end
            return value

    def elements(self) -> Iterator:
        """The values of the array that starts here, one by one."""
        self.expect("[")
        if self.take("]"):
            return
        while True:
            yield self.value()
            if not self.take(","):
                self.expect("]")
                return

    def end(self) -> None:
        if self.peek():
            self.fail("the end of the file")

    def where(self, at: int | None = None) -> str:
        at = self.at if at is None else at
        newlines = self.text.count("\n", 0, at)
        column = at - self.text.rfind("\n", 0, at) if newlines else self._column + at + 1
        return f"line {self._line + newlines} column {column}"

    def fail(self, expected: str) -> NoReturn:
        raise Refused(f"not valid JSON: expected {expected}: {self.where()}")


# The decoder recurses for each array or object inside another: Python allows
# some 1,000 levels, far beyond any record of ours.
_TOO_DEEP = "arrays or objects nested too deeply (over some 900 levels)"


def _too_long() -> str:
    """What Python's int() refuses (its own message tells a programmer what to set)."""
    import sys

    return f"a number of more than {sys.get_int_max_str_digits():,} digits"


def read_jsonl(text: str | Source, kind: str) -> Iterator[tuple[str, str, dict]]:
    """One object a line; `record` (account, contact ...) names its kind, else --kind.

    Lines end at \n only (JSON may hold a raw U+2028 or \x85, which splitlines()
    would cut at), and are read one at a time as the file comes.
    """
    for number, line in enumerate(Source.of(text).lines("lf"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise Refused(f"line {number}: not valid JSON: {exc}") from None
        except ValueError:
            raise Refused(f"line {number}: not valid JSON: {_too_long()}") from None
        except RecursionError:
            raise Refused(f"line {number}: not valid JSON: {_TOO_DEEP}") from None
        if not isinstance(record, dict):
            raise Refused(f"line {number}: not a record (an object)")
        name = PLURAL.get(record.pop("record", None) or "", kind)
        yield f"line {number}", name, record
