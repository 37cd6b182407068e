"""Bulk imports: members with opening balances, historical purchases and adjustments, from CSV and JSON
lines, through ``loyalty import`` and the admin API's jobs; idempotent rows, bad rows by line."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import chain, count
from pathlib import Path

from click.testing import Result
from sqlalchemy import func, select

from loyalty.ledger.models import LedgerEntry, PointLot
from loyalty.members import codes
from loyalty.members.models import Member
from loyalty.outbox import OutboxEvent
from notifications.journeys.models import Journey
from tests.api.scenario_engine import add_scenario, make_runtime, run_due
from tests.conftest import NOW

MEMBERS_CSV = """external_id,email,first_name,last_name,birth_date,timezone,consent_email,points,points_expire_at
CRM-1,ana@example.com,Ana,Lopez,1990-04-23,Europe/Madrid,yes,120,2027-06-30
CRM-2,ben@example.com,Ben,Okafor,,Europe/London,no,0,
CRM-3,not-an-email,Chloé,Martin,,,,10,
CRM-4,dan@example.com,Dan,Wu,,Mars/Olympus,,5,
,eve@example.com,Eve,Adams,1985-13-01,,,,
CRM-6,fay@example.com,Fay,Kim,,,,75,
CRM-6,gus@example.com,Gus,Lee,,,,3,
CRM-8,hal@example.com,Hal,Berg,,,,-4,
"""


def run(app, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["loyalty", *args])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bad_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("line ")]


def test_a_members_file_imported_twice_imports_its_good_rows_once_and_reports_its_bad_rows(app, sessions, tmp_path):
    path = write(tmp_path, "members.csv", MEMBERS_CSV)
    first = run(app, "import", "members", str(path))
    assert first.exit_code == 1, first.output  # some rows are bad
    assert bad_lines(first.output) == [
        "line 4: email: not an email address",
        "line 5: timezone: not a known IANA time zone (e.g. Europe/Paris)",
        "line 6: birth_date: an ISO date like 1990-04-23",
        "line 8: external_id: the same as line 7",
        "line 9: points: a whole number from 0 to 100000000",
    ]
    assert "8 rows" in first.output and "3 imported, 0 imported before, 5 bad" in first.output
    second = run(app, "import", "members", str(path))
    assert "8 rows" in second.output and "0 imported, 3 imported before, 5 bad" in second.output
    with sessions() as session:
        members = {m.external_id: m for m in session.scalars(select(Member))}
        assert sorted(members) == ["CRM-1", "CRM-2", "CRM-6"]
        ana = members["CRM-1"]
        assert (ana.email, ana.points_balance, ana.timezone, ana.consent_email) == ("ana@example.com", 120, "Europe/Madrid", True)
        entries = session.execute(select(LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.points)).all()
        assert sorted(entries) == [(ana.id, "migration", 120), (members["CRM-6"].id, "migration", 75)]
        lot = session.scalars(select(PointLot).where(PointLot.member_id == ana.id)).one()
        assert (lot.remaining, lot.expires_at.date().isoformat()) == (120, "2027-06-30")
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0  # nobody "enrolled" today
    assert run(app, "check-ledger").exit_code == 0


def card_number(serial: int) -> str:
    body = f"29{serial:013d}"
    return body + codes.luhn_check_digit(body)


def test_drawn_codes_already_held_or_drawn_twice_are_drawn_again_and_every_good_row_is_imported(app, sessions, tmp_path, monkeypatch):
    run(app, "import", "members", str(write(tmp_path, "first.csv", "external_id,email\nCRM-0,zoe@example.com\n")))
    with sessions() as session:
        held_code, held_card = session.execute(select(Member.referral_code, Member.card_number)).one()
    file_card = card_number(7)
    referral_draws = chain([held_code, "TWICE234", "TWICE234"], (f"FRESH{n:03d}" for n in count()))
    card_draws = chain([held_card, file_card, card_number(8), card_number(8)], (card_number(100 + n) for n in count()))
    monkeypatch.setattr(codes, "new_referral_code", lambda: next(referral_draws))
    monkeypatch.setattr(codes, "new_card_number", lambda: next(card_draws))
    members_csv = "external_id,email,card_number,points\n" + "".join(
        f"CRM-{n},m{n}@example.com,{file_card if n == 3 else ''},{n}\n" for n in range(1, 7)
    )
    result = run(app, "import", "members", str(write(tmp_path, "members.csv", members_csv)))
    assert result.exit_code == 0, result.output
    assert bad_lines(result.output) == [] and "6 imported, 0 imported before, 0 bad" in result.output
    with sessions() as session:
        members = session.execute(select(Member.external_id, Member.referral_code, Member.card_number, Member.points_balance)).all()
    assert sorted(external_id for external_id, *_ in members) == ["CRM-0", *(f"CRM-{n}" for n in range(1, 7))]
    referral_codes, cards = [code for _, code, _, _ in members], [card for _, _, card, _ in members]
    assert len(set(referral_codes)) == len(set(cards)) == 7
    assert "TWICE234" in referral_codes and card_number(8) in cards  # the first of a pair drawn twice is kept
    assert {(external_id, card) for external_id, _, card, _ in members if card == file_card} == {("CRM-3", file_card)}
    assert sorted(points for *_, points in members) == [0, 1, 2, 3, 4, 5, 6]
    assert run(app, "check-ledger").exit_code == 0


def test_members_from_json_lines_get_a_card_number_and_their_opening_balance(app, client, admin, sessions, tmp_path):
    rows = [
        {"email": "Ivy@Example.com", "first_name": "Ivy", "points": 40, "card_number": None},
        {"external_id": "CRM-9"},
        "not an object",
    ]
    path = write(tmp_path, "members.jsonl", "\n".join(json.dumps(row) for row in rows) + "\n{broken\n")
    result = run(app, "import", "members", str(path))
    assert bad_lines(result.output) == [
        "line 2: email: required to enrol a member not imported before",
        "line 3: -: not a JSON object",
        "line 4: -: not a JSON object",
    ]
    with sessions() as session:
        ivy_id = session.scalars(select(Member.id)).one()
    ivy = client.get(f"/api/v1/members/{ivy_id}", headers=admin).json
    card = client.get("/api/v1/members/lookup", query_string={"card_number": ivy["card_number"]}, headers=admin).json
    assert (card["email"], card["points_balance"], card["tier_code"]) == ("ivy@example.com", 40, "member")


def test_history_older_than_the_cut_off_fires_no_scenario_and_adjustments_apply_once(app, client, admin, clock, sessions, tmp_path):
    steps = [{"id": "thanks", "send": "note", "channels": ["in_app"]}]
    add_scenario(client, admin, "thanks", steps, trigger={"event": "PurchaseRecorded"})
    run(app, "import", "members", str(write(tmp_path, "m.csv", "external_id,email\nCRM-1,ana@example.com\n")))
    old, recent = (NOW - timedelta(days=40)).isoformat(), (NOW - timedelta(hours=2)).isoformat()
    purchases = (
        "external_id,store_code,receipt_no,occurred_at,total,category\n"
        f"CRM-1,S1,R-1,{old},40.00,shoes\n"
        f"CRM-1,S1,R-2,{recent},20.00,\n"
        f"CRM-404,S1,R-3,{recent},20.00,\n"
        f"CRM-1,S1,R-4,{recent},-5,\n"
    )
    cutoff = (NOW - timedelta(days=1)).isoformat()
    path = write(tmp_path, "p.csv", purchases)
    first = run(app, "import", "purchases", str(path), "--history-before", cutoff)
    assert bad_lines(first.output) == [
        "line 4: external_id: no member has this external id",
        "line 5: total: an amount from 0 to 10000000 with at most two decimals",
    ]
    again = run(app, "import", "purchases", str(path), "--history-before", cutoff)
    assert "0 imported, 2 imported before, 2 bad" in again.output
    run_due(app, make_runtime(app, tmp_path), clock)
    with sessions() as session:
        member = session.scalars(select(Member)).one()
        journeys = session.scalars(select(Journey.context)).all()
        assert member.purchase_count == 2 and member.points_balance == 60
    assert [journey["event"]["total"] for journey in journeys] == ["20.00"]  # only the recent purchase
    adjustments = "external_id,ref,points,reason\nCRM-1,adj-1,15,goodwill\nCRM-1,adj-2,-500,too much\n"
    path = write(tmp_path, "a.csv", adjustments)
    run(app, "import", "adjustments", str(path))
    result = run(app, "import", "adjustments", str(path))
    assert bad_lines(result.output) == ["line 3: points: the member has fewer than 500 points"]
    with sessions() as session:
        assert session.scalars(select(Member.points_balance)).one() == 75
    assert run(app, "check-ledger").exit_code == 0


def test_an_import_posted_to_the_admin_api_is_run_by_the_next_worker_pass(app, client, admin, clock, sessions, tmp_path):
    response = client.post(
        "/api/v1/admin/imports?kind=members&format=csv", data=MEMBERS_CSV.encode(), headers={**admin, "Content-Type": "text/csv"}
    )
    assert response.status_code == 202, response.json
    job_id = response.json["id"]
    assert response.json["status"] == "queued"
    report = run_due(app, make_runtime(app, tmp_path), clock)
    assert report.imports == 1
    job = client.get(f"/api/v1/admin/imports/{job_id}", headers=admin).json
    assert (job["status"], job["rows"], job["imported"], job["skipped"], job["failed"]) == ("done", 8, 3, 0, 5)
    assert [(e["line"], e["column"]) for e in job["errors"]] == [
        (4, "email"), (5, "timezone"), (6, "birth_date"), (8, "external_id"), (9, "points"),
    ]  # fmt: skip
    assert client.get("/api/v1/admin/imports/999999", headers=admin).status_code == 404
