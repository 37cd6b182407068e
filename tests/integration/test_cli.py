"""The operator commands: ``flask --app wsgi loyalty init`` and ``loyalty check-ledger``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import Result
from sqlalchemy import delete, select, update

from loyalty.db import session_scope
from loyalty.ledger.operations import adjust_points
from loyalty.ledger.models import QualifyingMonth
from loyalty.members.models import Member
from loyalty.engagement.models import EngagementAction
from loyalty.program.models import EarningRule, ProgramSettings
from loyalty.tiers.models import Tier, TierChange
from rewards.catalog.models import Reward
from rewards.thresholds.models import PointThreshold
from tests.conftest import DEFAULT_PROGRAM, NOW


def run(app, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["loyalty", *args])


def test_check_ledger_passes_when_every_balance_matches_its_entries(app, make_member, make_purchase):
    make_purchase(member_id=make_member()["id"])
    result = run(app, "check-ledger")
    assert result.exit_code == 0, result.output
    assert "ledger consistent" in result.stdout


def test_check_ledger_fails_and_names_a_member_whose_balance_drifted(app, sessions, make_member):
    member = make_member()
    with session_scope(sessions) as session:
        adjust_points(session, member_id=member["id"], points=45, reason="welcome", actor="test", now=NOW)
        session.execute(update(Member).where(Member.id == member["id"]).values(points_balance=50))
    result = run(app, "check-ledger")
    assert result.exit_code == 1
    assert f"member {member['id']}: balance 50, ledger sum 45" in result.stdout


def test_check_ledger_fails_and_names_a_qualifying_month_that_drifted(app, sessions, make_member, make_purchase):
    member = make_member()
    make_purchase(member_id=member["id"])
    with session_scope(sessions) as session:
        session.execute(update(QualifyingMonth).where(QualifyingMonth.member_id == member["id"]).values(points=1))
    result = run(app, "check-ledger")
    assert result.exit_code == 1
    assert f"member {member['id']}: qualifying points of {NOW:%Y-%m} kept 1, ledger sum 45" in result.stdout


def test_check_ledger_counts_a_balance_without_any_entry_as_drift(app, sessions, make_member):
    member = make_member()
    with session_scope(sessions) as session:
        session.execute(update(Member).where(Member.id == member["id"]).values(points_balance=7))
    result = run(app, "check-ledger")
    assert (result.exit_code, result.stdout.splitlines()) == (
        1,
        [f"member {member['id']}: balance 7, ledger sum 0", f"member {member['id']}: balance 7, points in lots 0"],
    )


def empty_program(sessions) -> None:
    """Remove the whole program the test started with (its tables are loaded only when empty)."""
    with session_scope(sessions) as session:
        for model in (PointThreshold, Reward, EngagementAction, TierChange, Member, Tier, EarningRule, ProgramSettings):
            session.execute(delete(model))


def test_init_loads_the_default_program_into_an_empty_database(app, sessions):
    empty_program(sessions)
    result = run(app, "init")
    assert result.exit_code == 0, result.output
    assert "program loaded" in result.stderr
    with sessions() as session:
        settings = session.get_one(ProgramSettings, 1)
        assert (settings.currency, settings.points_per_unit, settings.claim_window_days) == ("EUR", Decimal("1"), 30)
        rules = session.scalars(select(EarningRule).order_by(EarningRule.id))
        assert [(rule.category, rule.multiplier) for rule in rules] == [("beauty", Decimal("2"))]


@pytest.mark.parametrize("program", [DEFAULT_PROGRAM])
def test_init_leaves_an_existing_program_as_it_was_changed(app, client, admin):
    client.patch("/api/v1/admin/program", json={"points_per_unit": "3"}, headers=admin)
    result = run(app, "init")
    assert result.exit_code == 0, result.output
    assert "already present" in result.stderr
    assert client.get("/api/v1/admin/program", headers=admin).json["points_per_unit"] == "3.0000"


def test_init_loads_a_program_file_given_by_the_operator(app, sessions, tmp_path):
    with session_scope(sessions) as session:
        session.execute(delete(EarningRule))
        session.execute(delete(ProgramSettings))
    program = tmp_path / "program.yaml"
    program.write_text(
        "program:\n  name: Club\n  currency: CHF\n  points_per_unit: 2\n  claim_window_days: 14\n"
        "earning_rules:\n  - {kind: promotion, name: App week, channel: app, multiplier: 3}\n",
        encoding="utf-8",
    )
    result = run(app, "init", "--program", str(program))
    assert result.exit_code == 0, result.output
    with sessions() as session:
        settings = session.get_one(ProgramSettings, 1)
        assert (settings.name, settings.currency, settings.points_per_unit, settings.claim_window_days) == (
            "Club",
            "CHF",
            Decimal("2"),
            14,
        )
        rule = session.scalars(select(EarningRule)).one()
        assert (rule.kind, rule.channel, rule.multiplier) == ("promotion", "app", Decimal("3"))
