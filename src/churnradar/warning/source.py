"""Reading a rule file: YAML composed into plain values that remember their line.

Only the data subset of YAML is accepted: mappings with string keys, sequences and plain
scalars (strings, numbers, booleans, null). Tags, anchors and aliases are refused, so nothing
in a rule file is ever constructed as an object or executed, and an alias cannot blow a small
file up into a huge one. The parser works on these located values, so every problem it finds
names the line it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from churnradar.errors import Problem

MAX_NESTING = 40  # far deeper than any rule file; keeps the recursive composer safe
Plain = dict[str, "Located"] | list["Located"] | str | int | float | bool | None


@dataclass(frozen=True)
class Located:
    """A value from the file and the line it starts on (1-based); a mapping also keeps the
    line of each key, so a problem with a key is reported where the key is."""

    value: Plain
    line: int
    key_lines: dict[str, int] | None = None

    def key_line(self, key: str) -> int:
        return (self.key_lines or {}).get(key, self.line)


class SourceError(Exception):
    """The text is not a rule document; ``problems`` say where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


def read_document(text: str) -> Located:
    """The one YAML document in ``text`` as located plain values."""
    problems = _refused_constructs(text)
    if problems:
        raise SourceError(problems)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise SourceError([_syntax_problem(error)]) from None
    if node is None:
        raise SourceError([Problem("rules.empty_file", row=1)])
    problems = []
    document = _plain(node, problems)
    if problems:
        raise SourceError(problems)
    return document


def _refused_constructs(text: str) -> list[Problem]:
    """Tags, anchors, aliases, a second document and deep nesting, found on the event
    stream (which is flat) before anything recursive is built."""
    problems: list[Problem] = []
    depth = documents = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else None
            tag = getattr(event, "tag", None)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    return [Problem("rules.too_deep", row=line)]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problems.append(Problem("rules.alias_refused", row=line))
            elif tag not in (None, "!"):
                problems.append(Problem("rules.tag_refused", row=line, params={"tag": tag}))
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.append(Problem("rules.several_documents", row=line))
    except yaml.YAMLError as error:
        return [_syntax_problem(error)]
    return problems


def _syntax_problem(error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    reason = getattr(error, "problem", None) or str(error)
    return Problem(
        "rules.yaml_error",
        row=mark.line + 1 if mark is not None else None,
        params={"reason": reason},
    )


_SCALARS = SafeConstructor()


def _plain(node: Node, problems: list[Problem]) -> Located:
    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        mapping: dict[str, Located] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _plain(key_node, problems)
            if not isinstance(key.value, str):
                problems.append(Problem("rules.key_not_text", row=key.line))
                continue
            if key.value in mapping:
                problems.append(
                    Problem("rules.duplicate_key", row=key.line, params={"key": key.value})
                )
                continue
            mapping[key.value] = _plain(value_node, problems)
            key_lines[key.value] = key.line
        return Located(mapping, line, key_lines)
    if isinstance(node, SequenceNode):
        return Located([_plain(item, problems) for item in node.value], line)
    assert isinstance(node, ScalarNode)
    try:
        value: Any = _SCALARS.construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError):
        value = None  # a merge key, "=", a 5000-digit number: kept as its text below
    if not isinstance(value, str | int | float | bool) and (value is not None or node.value):
        # a date, a binary scalar or one that did not convert: keep its text, and the
        # parser says it is the wrong type where it matters
        value = str(node.value)
    return Located(value, line)
