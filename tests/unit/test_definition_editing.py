"""A scenario's definition as text: written out, read back, and two versions compared."""

from __future__ import annotations

import pytest

from loyalty.errors import InvalidOperation
from notifications.scenarios.editing import DiffLine, definition_text, diff_definitions, read_definition

DEFINITION = {
    "trigger": {"event": "MemberEnrolled"},
    "goal": {"event": "purchase", "within_days": 7},
    "steps": [{"id": "pause", "wait": "1h"}, {"id": "hello", "send": "note"}],
}


def test_the_text_reads_back_as_the_same_definition_in_the_written_order() -> None:
    text = definition_text(DEFINITION)

    assert read_definition(text) == DEFINITION
    assert text.index("trigger") < text.index("goal") < text.index("steps")


def test_json_is_read_as_well() -> None:
    assert read_definition('{"trigger": {"event": "MemberEnrolled"}, "steps": []}') == {
        "trigger": {"event": "MemberEnrolled"},
        "steps": [],
    }


def test_a_broken_text_is_refused_naming_its_line() -> None:
    with pytest.raises(InvalidOperation) as refused:
        read_definition("trigger:\n  event: MemberEnrolled\nsteps: [\n  {id: a, wait: 1h\n")

    assert refused.value.field == "definition"
    assert "line 5" in refused.value.detail


@pytest.mark.parametrize("text", ["", "- a list", "just words"])
def test_a_text_that_is_no_object_is_refused(text: str) -> None:
    with pytest.raises(InvalidOperation) as refused:
        read_definition(text)

    assert refused.value.field == "definition"


def test_the_diff_shows_the_changed_lines_among_their_context() -> None:
    changed = {**DEFINITION, "steps": [{"id": "pause", "wait": "2h"}, {"id": "hello", "send": "note"}]}

    diff = diff_definitions(DEFINITION, changed)

    assert diff[0].kind == "hunk"
    assert [line for line in diff if line.kind in ("added", "removed")] == [
        DiffLine("removed", "  wait: 1h"),
        DiffLine("added", "  wait: 2h"),
    ]
    assert DiffLine("same", "- id: hello") in diff


def test_identical_versions_have_no_diff() -> None:
    assert diff_definitions(DEFINITION, dict(DEFINITION)) == []
