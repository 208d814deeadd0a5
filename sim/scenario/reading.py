"""YAML text -> plain data, strictly and within limits: the one reader of every YAML input.

Scenario files, experiment and targets files and `--set` values all pass here, so they
obey the same rules:

- before anything is built, one pass over the parser's events measures the document:
  nesting depth, values once aliases are expanded (a 350-byte "billion laughs" file
  would expand to gigabytes), lengths of text values; each has a limit (sim.limits);
- a key written twice in one mapping is an error naming both lines (YAML would keep
  the last silently, e.g. two `extends:` lines);
- an impossible unquoted date (2018-02-30) stays text, so validation names the field
  that expected a date; an integer too long to be meant, or a value that does not fit
  its explicit tag (`!!int abc`), is an error naming its line;
- python tags never execute (libyaml's safe loader, as before).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)

from sim import limits
from sim.errors import InputError, problem

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where available (10x faster)
_MERGE = "tag:yaml.org,2002:merge"


class Unexpected(ConstructorError):
    """A value YAML can read but this project does not accept; `problem` is the expectation."""


class StrictLoader(_BASE):
    """The safe loader, made strict (duplicate keys, dates, integer sizes, tags)."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except ConstructorError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # a value that does not fit its tag, e.g. `!!int abc` or `!!bool maybe`
            raise Unexpected(None, None, f"a value that fits its tag {node.tag!r} "
                                   f"({type(exc).__name__})", node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, str] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node)
                where = _where(key_node.start_mark)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable: the base constructor says so
                    continue
                if first is not None:
                    raise Unexpected(
                        None, None, f"each key once per mapping, but {key_node.value[:40]!r} "
                        f"is at {first} and again at {where}", key_node.start_mark)
                seen[key] = where
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        digits = sum(ch.isdigit() for ch in str(node.value))
        allowed = limits.current().integer_digits
        if digits > allowed:
            raise Unexpected(None, None, f"an integer of at most {allowed} digits "
                                   f"(found {digits}; limit `integer_digits`)",
                                   node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, AttributeError, OverflowError):
            return self.construct_scalar(node)  # validation names the field that wanted a date


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)


def measure(text: str, source: str) -> None:
    """Check depth, expanded size and text lengths from the parser's events alone.

    Nothing is built: an anchored collection is counted once when it ends, and each
    alias to it adds that count, so an alias bomb is stopped after a few events.
    """
    bounds = limits.current()
    loader = _BASE(text)
    stack: list[list] = []  # [anchor, values counted so far] per open collection
    sizes: dict[str, int] = {}
    total = 0

    def add(count: int, mark) -> None:
        nonlocal total
        if stack:
            stack[-1][1] += count
            reached = stack[-1][1]
        else:
            total += count
            reached = total
        if reached > bounds.nodes:
            _too_much(source, mark, f"at most {bounds.nodes:,} values once aliases are "
                      "expanded (limit `nodes`)")

    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, CollectionStartEvent):
                if len(stack) >= bounds.depth:
                    _too_much(source, event.start_mark, f"mappings and lists nested at most "
                              f"{bounds.depth} deep (limit `depth`)")
                stack.append([event.anchor, 1])
            elif isinstance(event, CollectionEndEvent):
                anchor, count = stack.pop()
                if anchor is not None:
                    sizes[anchor] = count
                add(count, event.start_mark)
            elif isinstance(event, ScalarEvent):
                if len(event.value) > bounds.string_chars:
                    _too_much(source, event.start_mark, f"text values of at most "
                              f"{bounds.string_chars:,} characters (limit `string_chars`)")
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                add(1, event.start_mark)
            elif isinstance(event, AliasEvent):
                if event.anchor not in sizes:
                    open_ = {entry[0] for entry in stack}
                    expected = ("no alias inside the value it refers to" if event.anchor
                                in open_ else "an alias to an anchor defined before it")
                    _too_much(source, event.start_mark, expected)
                add(sizes[event.anchor], event.start_mark)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    finally:
        loader.dispose()


def _too_much(source: str, mark, expected: str):
    raise InputError(problem(source, _where(mark), expected))


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _syntax_error(exc: yaml.YAMLError, source: str) -> InputError:
    if isinstance(exc, yaml.MarkedYAMLError):
        what = exc.problem or "valid YAML"
        expected = what if isinstance(exc, Unexpected) else f"valid YAML ({what})"
        return InputError(problem(source, _where(exc.problem_mark), expected))
    # reader errors name the position but never quote the text around it
    reason = getattr(exc, "reason", None) or type(exc).__name__
    position = getattr(exc, "position", None)
    where = f"position {position}" if position is not None else ""
    return InputError(problem(source, where, f"valid YAML text ({reason})"))


def parse(text: str, source: str) -> Any:
    """One YAML document as plain data; every problem is an InputError naming `source`."""
    measure(text, source)
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None


def read(path, what: str = "YAML file") -> Any:
    """A YAML file's data: size limit, UTF-8, then `parse`."""
    data = limits.read_file(path, what)
    return parse(limits.decode(data, path, what=what), str(path))


__all__ = ["StrictLoader", "Unexpected", "measure", "parse", "read"]
