"""The rule parser never executes its input (docs/rules.md, "Validation").

Random text and random hostile YAML go through ``parse_pack`` with ``eval``, ``exec``,
``compile``, ``os.system`` and ``subprocess.Popen`` replaced by recorders: the parser must
return a pack or raise ``InvalidInput``, call none of them, and leave the sentinel file the
hostile documents try to create uncreated. The patches are context managers inside the test
body, because Hypothesis runs many examples per call of a function-scoped fixture.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnradar.errors import InvalidInput
from churnradar.warning import RulePack, default_pack, parse_pack

SAFETY = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FORBIDDEN = (
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "os.system",
    "subprocess.Popen",
)


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file the hostile documents try to create; the parser is warmed up first, so any
    lazy import it makes happens before ``compile`` is watched."""
    parse_or_refusal("rules: []\n")
    parse_or_refusal("rules: [\n")
    return tmp_path_factory.mktemp("hostile") / "pwned"


@contextmanager
def forbidden_calls() -> Iterator[list[str]]:
    calls: list[str] = []

    def recorder(name: str) -> Any:
        def record(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"the parser called {name}")

        return record

    with ExitStack() as stack:
        for target in FORBIDDEN:
            stack.enter_context(mock.patch(target, new=recorder(target)))
        yield calls


def parse_or_refusal(text: str) -> RulePack | InvalidInput:
    try:
        return parse_pack(text, defaults=default_pack())
    except InvalidInput as error:
        return error


def check_parse(text: str, sentinel: Path) -> RulePack | InvalidInput:
    """Parse ``text`` under watch; any other exception is re-raised after the checks that
    nothing ran, so a crash is reported as the wrong exception type."""
    crash: BaseException | None = None
    with forbidden_calls() as calls:
        try:
            outcome = parse_or_refusal(text)
        except Exception as error:
            crash = error
    assert calls == []
    assert not sentinel.exists()
    if crash is not None:
        raise AssertionError(
            f"parse_pack raised {type(crash).__name__} (not InvalidInput): {crash}"
        ) from crash
    assert isinstance(outcome, RulePack | InvalidInput)
    return outcome


# ---- random documents

YAML_CHARACTERS = list("{}[]:-,&*!%|>'\"#?@`~=<\n\t abcxyz019._/")


def hostile_tokens(sentinel: Path) -> list[str]:
    return [
        "{",
        "}",
        "{orders_90d.__class__}",
        "{orders_90d.__class__.__mro__[1].__subclasses__()}",
        "__class__",
        "__import__('os').system('touch " + str(sentinel) + "')",
        f'!!python/object/apply:os.system ["touch {sentinel}"]',
        f"!!python/object/apply:subprocess.Popen [[touch, {sentinel}]]",
        f"!!python/object/new:os.system [touch {sentinel}]",
        "!!python/name:os.system",
        "!!python/module:os",
        "!python/object/apply:os.system",
        "!!str",
        "!!binary aGVsbG8=",
        "!local",
        "!",
        "&a",
        "*a",
        "&a [1, 2]",
        "%YAML 1.1",
        "%TAG !x! tag:yaml.org,2002:python/object/apply:",
        "!x!os.system",
        "<<",
        "=",
        "~",
        "---",
        "...",
        "{x!r}",
        "{x:>10}",
        "%s%s%n",
    ]


FIELDS = [
    "rules",
    "conditions",
    "playbooks",
    "health",
    "key",
    "title",
    "severity",
    "reason",
    "when",
    "all",
    "any",
    "not",
    "use",
    "missing",
    "feature",
    "op",
    "value",
    "ref",
    "factor",
    "evidence",
    "sentence",
    "playbook",
    "zh",
    "en",
    "segments",
    "default",
    "segment",
    "business_model",
]
SAFE_SCALARS = [
    "quiet",
    "medium",
    "engagement",
    "re_engage",
    "days_since_last_follow_up",
    "key_contact_changed_90d",
    "latest_nps",
    '">"',
    '"=="',
    "45",
    "0.6",
    "true",
    "null",
    "大客户",
    "contract",
]


@cache
def documents(sentinel: Path) -> st.SearchStrategy[str]:
    """Random nested mappings and lists written out as YAML by hand, so the hostile tokens
    land in the text as syntax (tags, anchors, aliases, directives), not as quoted strings.
    Safe words outnumber them, so that many documents get past the YAML stage and into the
    validation of rules."""
    hostile = hostile_tokens(sentinel)
    scalars = st.sampled_from(SAFE_SCALARS * 3 + hostile)
    keys = st.sampled_from(FIELDS * 3 + hostile)
    trees = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
        ),
        max_leaves=25,
    )
    rules = st.lists(st.dictionaries(st.sampled_from(FIELDS), trees, max_size=8), max_size=3)
    top = st.fixed_dictionaries({"rules": rules}) | trees
    return st.tuples(top, st.booleans()).map(lambda pair: write(*pair))


def write(tree: object, block: bool) -> str:
    return (block_style(tree, 0) if block else flow_style(tree)) + "\n"


def flow_style(tree: object) -> str:
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{key}: {flow_style(value)}" for key, value in tree.items()) + "}"
    if isinstance(tree, list):
        return "[" + ", ".join(flow_style(item) for item in tree) + "]"
    return str(tree)


def block_style(tree: object, indent: int) -> str:
    pad = " " * indent
    if isinstance(tree, dict) and tree:
        return "\n".join(
            f"{pad}{key}:\n{block_style(value, indent + 2)}"
            if isinstance(value, dict | list) and value
            else f"{pad}{key}: {flow_style(value)}"
            for key, value in tree.items()
        )
    if isinstance(tree, list) and tree:
        return "\n".join(
            f"{pad}-\n{block_style(item, indent + 2)}"
            if isinstance(item, dict | list) and item
            else f"{pad}- {flow_style(item)}"
            for item in tree
        )
    return pad + flow_style(tree)


class TestNothingIsExecuted:
    @SAFETY
    @given(text=st.text() | st.text(alphabet=YAML_CHARACTERS))
    def test_arbitrary_text(self, sentinel: Path, text: str) -> None:
        check_parse(text, sentinel)

    @SAFETY
    @given(data=st.data())
    def test_hostile_documents(self, sentinel: Path, data: st.DataObject) -> None:
        text = data.draw(documents(sentinel), label="document")

        check_parse(text, sentinel)


class TestClassicPayloads:
    @pytest.mark.parametrize(
        "payload",
        [
            'rules: !!python/object/apply:os.system ["touch {sentinel}"]\n',
            "rules: !!python/object/apply:subprocess.Popen [[touch, {sentinel}]]\n",
            "rules: !!python/object/new:os.system [touch {sentinel}]\n",
            "rules: !!python/name:os.system\n",
            "rules: !!python/module:os\n",
            'rules:\n  - !python/object/apply:os.system ["touch {sentinel}"]\n',
            "%TAG !x! tag:yaml.org,2002:python/object/apply:\n"
            '---\nrules: !x!os.system ["touch {sentinel}"]\n',
        ],
    )
    def test_python_tags_are_refused(self, sentinel: Path, payload: str) -> None:
        outcome = check_parse(payload.format(sentinel=sentinel), sentinel)

        assert isinstance(outcome, InvalidInput)
        assert "rules.tag_refused" in {p.code for p in outcome.problems}

    def test_billion_laughs_is_refused_without_expanding(self, sentinel: Path) -> None:
        # nine levels: `a` holds nine strings, every later level nine aliases of the one before,
        # 9**9 (387 million) strings if expanded; refused as 9 anchors + 8 * 9 aliases
        levels = "abcdefghi"
        lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [
            f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]"
            for before, name in itertools.pairwise(levels)
        ]
        text = "\n".join(lines) + "\nrules: [*i]\n"

        outcome = check_parse(text, sentinel)

        assert isinstance(outcome, InvalidInput)
        assert {p.code for p in outcome.problems} == {"rules.alias_refused"}
        # 9 anchors, 8 * 9 aliases in the levels and the one in `rules`
        assert len(outcome.problems) == 9 + 8 * 9 + 1


class TestOnlyInvalidInput:
    """Malformed documents that once escaped as other exceptions: each is a problem with a
    line, never a crash."""

    def test_deep_nesting(self, sentinel: Path) -> None:
        text = "rules: " + "[" * 1000 + "]" * 1000 + "\n"

        outcome = check_parse(text, sentinel)

        assert isinstance(outcome, InvalidInput)

    @pytest.mark.parametrize("text", ["rules: =\n", "rules:\n  - <<: {key: quiet}\n"])
    def test_value_and_merge_keys(self, sentinel: Path, text: str) -> None:
        outcome = check_parse(text, sentinel)

        assert isinstance(outcome, InvalidInput)

    def test_a_number_too_large_for_a_float(self, sentinel: Path) -> None:
        # 10**400 is a valid YAML integer but no float: a problem on line 9
        text = (
            "rules:\n"
            "  - key: quiet\n"
            "    title: {zh: 安静, en: Quiet}\n"
            "    severity: medium\n"
            "    reason: engagement\n"
            "    evidence: []\n"
            "    sentence: {zh: 安静, en: Quiet}\n"
            "    playbook: re_engage\n"
            f'    when: {{feature: days_since_last_follow_up, op: ">", value: 1{"0" * 400}}}\n'
        )

        outcome = check_parse(text, sentinel)

        assert isinstance(outcome, InvalidInput)
        assert [p.row for p in outcome.problems] == [9]

    def test_an_integer_with_more_digits_than_python_converts(self, sentinel: Path) -> None:
        text = f"rules: {'1' * 5000}\n"

        outcome = check_parse(text, sentinel)

        assert isinstance(outcome, InvalidInput)
