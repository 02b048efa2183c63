"""The platform team's configuration reference cannot drift from ``shared/config``:
its table lists exactly the keys the parser accepts, its "required" and literal defaults
are what the parser does, and every JSON snippet on the page parses."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from shared.config import ConfigError, GreenlightConfig, config_from_context, context_keys
from shared.config import parse_config as parse
from tests.readme import README, section

DOC = README
TEXT = section("Platform team")
COLUMNS = ["Key", "Type", "Default", "Allowed", "Meaning"]
REFERENCE_HEADING = "### Configuration reference"
SNIPPETS = re.findall(r"```json\n(.*?)```", TEXT, flags=re.DOTALL)

#: A context holding only what the reference marks as required, given that it names no
#: ``modelExecutionRoleArn`` (so ``modelDataBuckets`` is required too).
MINIMAL: dict[str, Any] = {
    "modelGroups": [
        {
            "name": "minimal",
            "description": "Only the required keys",
            "modelDataBuckets": ["minimal-model-artifacts"],
            "stages": [
                {
                    "name": "staging",
                    "endpointName": "minimal-staging",
                    "instanceType": "ml.m5.large",
                    "instanceCount": 1,
                    "rollout": {"type": "ALL_AT_ONCE"},
                    "alarms": {"errorRate5xx": 0.05, "modelLatencyMs": 500},
                    "bakeMinutes": 5,
                    "smokeTest": {"payload": "1,2,3"},
                }
            ],
        }
    ]
}


def _reference_rows() -> list[dict[str, str]]:
    """The rows of the reference table, keyed by column name."""
    section = TEXT.split(REFERENCE_HEADING, 1)[1]
    section = re.split(r"^#{1,3} ", section, flags=re.MULTILINE)[0]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == COLUMNS
    rows = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(COLUMNS), f"a row needs {len(COLUMNS)} cells: {line}"
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


def _key(row: dict[str, str]) -> str:
    match = re.fullmatch(r"`([A-Za-z0-9\[\].]+)`", row["Key"])
    assert match, f"a key is written as `path.to.key`: {row['Key']}"
    return match.group(1)


ROWS = _reference_rows()
REQUIRED = [_key(row) for row in ROWS if row["Default"] == "required"]
#: Keys required unless a sibling key is set: (key, that sibling).
REQUIRED_WITHOUT = [
    (_key(row), match.group(1))
    for row in ROWS
    if (match := re.fullmatch(r"required without `(\w+)`", row["Default"]))
]
LITERAL_DEFAULTS = [
    (_key(row), match.group(1))
    for row in ROWS
    if (match := re.match(r"^`([^`]+)`", row["Default"])) and not match.group(1).startswith("{")
]


def test_reference_lists_exactly_the_keys_the_config_accepts_once_each() -> None:
    keys = [_key(row) for row in ROWS]
    assert len(keys) == len(set(keys)), "a key is listed twice"
    assert set(keys) == set(context_keys())


def test_reference_lists_the_keys_in_the_order_the_config_reads_them_within_each_object() -> None:
    # GIVEN the keys of the reference and of the parser, grouped by the object they are in
    def by_parent(keys: list[str]) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for key in keys:
            parent, _, name = key.rpartition(".")
            grouped.setdefault(parent, []).append(name)
        return grouped

    # THEN within every object the reference follows the parser's order
    assert by_parent([_key(row) for row in ROWS]) == by_parent(list(context_keys()))


def test_every_row_states_type_allowed_values_and_meaning() -> None:
    for row in ROWS:
        for column in ("Type", "Default", "Allowed", "Meaning"):
            assert row[column], f"{_key(row)}: empty {column}"


def _without(document: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of ``document`` with the key at ``path`` removed (first list entries)."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[part[:-2]][0] if part.endswith("[]") else node[part]
    del node[last[:-2] if last.endswith("[]") else last]
    return result


def test_minimal_context_of_the_required_keys_parses() -> None:
    assert parse(MINIMAL).model_groups[0].name == "minimal"


@pytest.mark.parametrize("key", REQUIRED)
def test_a_key_the_reference_marks_required_is_refused_when_missing(key: str) -> None:
    # GIVEN the minimal context without that key
    document = _without(MINIMAL, key)

    # WHEN it is parsed THEN the error names the key as required
    with pytest.raises(ConfigError) as raised:
        parse(document)
    assert raised.value.path.endswith("." + key.rsplit(".", 1)[-1].removesuffix("[]"))
    assert raised.value.problem == "required, but missing"


def test_the_reference_has_keys_required_without_another() -> None:
    assert REQUIRED_WITHOUT


@pytest.mark.parametrize(("key", "sibling"), REQUIRED_WITHOUT)
def test_a_key_required_without_another_is_refused_when_both_are_missing(
    key: str, sibling: str
) -> None:
    # GIVEN the minimal context (which leaves the sibling out) without that key
    assert sibling not in json.dumps(MINIMAL)
    document = _without(MINIMAL, key)

    # WHEN it is parsed THEN the error names the key and the sibling that would replace it
    with pytest.raises(ConfigError) as raised:
        parse(document)
    assert raised.value.path.endswith("." + key.rsplit(".", 1)[-1])
    assert raised.value.problem.startswith(f"required when {sibling} is not set")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z0-9])", "_", name).lower()


def _parsed_value(config: GreenlightConfig, key: str) -> Any:
    """The parsed value at ``key`` (first group, first stage)."""
    node: Any = config
    for part in key.split("."):
        node = getattr(node, _snake(part.removesuffix("[]")))
        if part.endswith("[]"):
            node = node[0]
    return list(node) if isinstance(node, tuple) else node


@pytest.mark.parametrize(("key", "literal"), LITERAL_DEFAULTS)
def test_a_literal_default_in_the_reference_is_what_the_config_fills_in(
    key: str, literal: str
) -> None:
    # GIVEN a context that leaves the key out
    config = parse(MINIMAL)

    # THEN the parser fills in the documented default
    assert _parsed_value(config, key) == json.loads(literal)


def test_the_page_has_json_snippets_to_check() -> None:
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_every_json_snippet_parses_through_the_config(snippet: str) -> None:
    # GIVEN a snippet: a cdk.json fragment, the greenlight context, or one model group
    document = json.loads(snippet)
    assert isinstance(document, dict)

    # WHEN it is parsed the way the app parses cdk.json
    if "context" in document:
        config = config_from_context(document["context"])
    elif "modelGroups" in document:
        config = parse(document)
    elif "stages" in document:
        config = parse({"modelGroups": [document]})
    else:
        raise AssertionError(f"not a context, a greenlight value or a group: {snippet[:80]}")

    # THEN it is a valid configuration
    assert config.model_groups
