"""``flask --app wsgi loyalty simulate``: a synthetic population played through the scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from flask import Flask

from loyalty.program.operations import read_program_file

#: The KPI table's columns after the scenario's name and group.
COLUMNS = ("entered", "email", "sms", "push", "in_app", "opened", "clicked", "converted", "revenue")


def simulate(app: Flask, *options: str) -> Result:
    result = app.test_cli_runner().invoke(args=["loyalty", "simulate", *options])
    assert result.exit_code == 0, result.output
    return result


def kpi_rows(output: str) -> dict[tuple[str, str], dict[str, float]]:
    """The table's lines by (scenario, group); a variant's line names the scenario above it."""
    lines = output.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("-----")) + 1
    rows: dict[tuple[str, str], dict[str, float]] = {}
    scenario = ""
    for line in lines[start:]:
        if not line.strip():
            break
        if not line.startswith(" "):
            scenario, *cells = line.split()
        else:
            cells = line.split()
        group, *figures = cells
        rows[scenario, group] = {name: float(value) for name, value in zip(COLUMNS, figures, strict=False)}
    return rows


@pytest.fixture(scope="module")
def sixty_members(_app: Flask) -> Result:
    """60 members over 30 days with the shipped program."""
    return simulate(_app, "--members", "60", "--days", "30", "--seed", "1")


def test_the_report_has_a_line_for_each_built_in_scenario(sixty_members: Result) -> None:
    built_in = {scenario["key"] for scenario in read_program_file(None)["scenarios"]}
    assert {scenario for scenario, group in kpi_rows(sixty_members.stdout)} == built_in


def test_the_figures_are_plausible(sixty_members: Result) -> None:
    rows = kpi_rows(sixty_members.stdout).values()
    sent = [sum(row[channel] for channel in ("email", "sms", "push", "in_app")) for row in rows]

    assert sum(sent) > 0
    assert sum(row["converted"] for row in rows) > 0
    for row, total in zip(rows, sent, strict=True):
        assert row["converted"] <= row["entered"]
        assert row["clicked"] <= row["opened"] <= total
        assert (row["revenue"] > 0) == (row["converted"] > 0)


@pytest.fixture
def ab_program(tmp_path: Path) -> Path:
    """The shipped program whose near-threshold scenario keeps 30% apart and tries two distances."""
    data: dict[str, Any] = read_program_file(None)
    [near] = [scenario for scenario in data["scenarios"] if scenario["key"] == "near_threshold"]
    near["definition"]["holdout_percent"] = 30
    near["definition"]["variants"] = [
        {"key": "d10", "params": {"distance": 10}},
        {"key": "d20", "params": {"distance": 20}},
    ]
    path = tmp_path / "program.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_same_seed_tells_the_same_story_with_a_line_per_variant(_app: Flask, ab_program: Path) -> None:
    options = ("--members", "60", "--days", "7", "--seed", "2", "--program", str(ab_program))

    first, second = simulate(_app, *options), simulate(_app, *options)

    assert first.stdout == second.stdout
    rows = kpi_rows(first.stdout)
    assert rows["near_threshold", "all"]["entered"] == sum(
        rows["near_threshold", variant]["entered"] for variant in ("d10", "d20")
    )


def test_a_database_that_is_not_empty_is_refused(app: Flask, database_url: str) -> None:
    result = app.test_cli_runner().invoke(args=["loyalty", "simulate", "--members", "5", "--database", database_url])

    assert result.exit_code == 2
    assert "empty database" in result.output


def test_the_report_counts_the_messages_sent_in_each_language(sixty_members: Result) -> None:
    prefix = "messages sent by language: "
    [line] = [line for line in sixty_members.stdout.splitlines() if line.startswith(prefix)]
    counts = {locale: int(count) for locale, count in (item.split() for item in line.removeprefix(prefix).split(", "))}

    # French members, and those whose language the program does not have, read French; the others English.
    assert set(counts) == {"en", "fr"} and counts["fr"] > counts["en"] > 0
