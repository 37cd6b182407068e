"""A scenario's definition as text: written out, read back, a path found in it, two versions compared."""

from __future__ import annotations

import pytest

from loyalty.errors import InvalidOperation
from notifications.scenarios.editing import DiffLine, as_yaml, definition_text, diff_definitions, line_of, read_yaml

DEFINITION = {
    "trigger": {"event": "MemberEnrolled"},
    "variants": [{"key": "soon", "params": {"delay": "1h"}}, {"key": "later", "params": {"delay": "2h"}}],
    "goal": {"event": "purchase", "within_days": 7},
    "steps": [{"id": "pause", "wait": "$delay"}, {"id": "hello", "send": "note"}, {"id": "opened", "branch": "opened", "of": "hello", "then": "x"}],
}


def test_the_text_reads_back_as_the_same_definition_in_the_written_order() -> None:
    text = as_yaml(DEFINITION)

    assert read_yaml(text, field="definition") == DEFINITION
    assert text.index("trigger") < text.index("goal") < text.index("steps")


def test_a_definition_reads_trigger_first_and_steps_last_each_step_by_its_id_and_kind() -> None:
    stored = {"steps": [{"then": "x", "of": "hello", "branch": "opened", "id": "opened"}], "goal": {}, "trigger": {}}

    assert definition_text(stored).splitlines() == [
        "trigger: {}", "goal: {}", "steps:", "- id: opened", "  branch: opened", "  then: x", "  of: hello",
    ]  # fmt: skip


def test_json_is_read_as_well() -> None:
    assert read_yaml('{"trigger": {"event": "MemberEnrolled"}, "steps": []}', field="definition") == {
        "trigger": {"event": "MemberEnrolled"},
        "steps": [],
    }


def test_a_broken_text_is_refused_naming_its_line() -> None:
    with pytest.raises(InvalidOperation) as refused:
        read_yaml("trigger:\n  event: MemberEnrolled\nsteps: [\n  {id: a, wait: 1h\n", field="definition")

    assert refused.value.field == "definition"
    assert "on line 5" in refused.value.detail


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("definition.steps[2].then", "  then: x"),
        ("definition.steps[1]", "- id: hello"),
        ("definition.variants[later].params.delay", "    delay: 2h"),
        ("definition.goal.within_days", "  within_days: 7"),
        ("definition.steps[9].then", "steps:"),
        ("definition", "trigger:"),
    ],
)
def test_a_path_is_found_on_its_line(path: str, line: str) -> None:
    text = as_yaml(DEFINITION)

    found = line_of(text, path)

    assert found is not None
    assert text.splitlines()[found - 1] == line


def test_a_text_that_does_not_parse_has_no_lines() -> None:
    assert line_of("steps: [", "definition.steps[0]") is None


def test_the_diff_shows_the_changed_lines_among_their_context() -> None:
    changed = {**DEFINITION, "goal": {"event": "purchase", "within_days": 14}}

    diff = diff_definitions(DEFINITION, changed)

    assert diff[0].kind == "hunk"
    assert [line for line in diff if line.kind in ("added", "removed")] == [
        DiffLine("removed", "  within_days: 7"),
        DiffLine("added", "  within_days: 14"),
    ]
    assert DiffLine("same", "steps:") in diff


def test_identical_versions_have_no_diff() -> None:
    assert diff_definitions(DEFINITION, dict(DEFINITION)) == []
