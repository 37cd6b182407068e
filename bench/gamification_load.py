"""Gamification load benchmark: reviews that move badges, the discovery challenge, streaks and the
engagement score, and members' badge documents, next to the till path, against gunicorn + PostgreSQL.

``python -m bench.gamification_load [--duration 15]``. Sets the stack up as ``bench.till_load`` does (in
the database ``loyalty_bench_gamification``), then loads, one phase after the other: purchases from a
till; ``POST /engagements`` of ``review_posted`` for random members (each a new review: the member's
first earns the ``first_review`` badge and moves a step of ``discover_store``); ``GET
/members/{id}/badges``. Prints the figures, checks that every review was recorded once and announced
its badge once, and lists the SQL of a purchase, a review and a badge read. Exits 1 on any non-2xx
answer or failed check.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import stack
from bench.statements import statements_of, statements_per_request
from bench.till_load import HEADER, RESULTS, STORE, WARM_UP_S, Phase, finish, parse_options, prepare, run_phase
from loyalty.db import make_engine
from loyalty.ledger.operations import members_out_of_balance

DATABASE = "loyalty_bench_gamification"
#: Figures that must agree after the load: reviews recorded, counted, awarded their first badge and
#: moved the challenge's review step, each once.
CHECKS = text(
    """
    SELECT
      (SELECT count(*) FROM engagements WHERE action_key = 'review_posted' AND ref LIKE 'GAME-%') AS recorded,
      (SELECT count(*) FROM engagements WHERE action_key = 'review_posted' AND outcome = 'awarded') AS awarded,
      (SELECT coalesce(sum(value), 0) FROM member_metrics WHERE metric = 'reviews') AS counted,
      (SELECT count(DISTINCT member_id) FROM engagements
        WHERE action_key = 'review_posted' AND outcome = 'awarded') AS reviewers,
      (SELECT count(*) FROM member_badges JOIN badges ON badges.id = member_badges.badge_id
        WHERE badges.code = 'first_review') AS first_reviews,
      (SELECT count(*) FROM member_badges) AS awards,
      (SELECT count(*) FROM outbox_events WHERE event_type = 'BadgeAwarded') AS announced,
      (SELECT count(*) FROM challenge_progress p JOIN challenge_steps s ON s.id = p.step_id
        WHERE s.action = 'review_posted') AS review_steps
    """
)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv, prog="python -m bench.gamification_load", description=__doc__, duration=15)
    settings, database, environment = prepare(options, DATABASE)
    members = [str(database.first_member_id), str(database.member_count)]
    with stack.gunicorn("wsgi:app", settings, environment, RESULTS / "gunicorn-gamification.log") as server:
        till, service = server.token(database.till), server.token(database.service)

        def load(name: str, script: str, path: str, arguments: list[str], duration_s: int = options.duration) -> Phase:
            return run_phase(
                server, name, script, server.url + path, arguments,
                duration_s=duration_s, connections=options.connections, database_url=database.url,
            )  # fmt: skip

        phases = [
            load("warm-up", "members.lua", "", [service, *members], duration_s=WARM_UP_S),
            load("POST /api/v1/purchases", "purchases.lua", "/api/v1/purchases", [till, *members, STORE, "R"]),
            load("POST /engagements (review)", "engagements.lua", "", [service, *members, "GAME"]),
            load("GET /members/{id}/badges", "members.lua", "", [service, *members, "/badges"]),
        ]
    print()
    print(HEADER)
    for phase in phases[1:]:
        print(phase.row())
    return finish(phases, _verify(database.url, phases[2]), _statements(database))


def _verify(database_url: str, reviews: Phase) -> bool:
    """Every 2xx review recorded once; each awarded review counted once; every member with one holds
    ``first_review`` once and moved the challenge's review step; every award announced once; the ledger
    invariant."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            figures = connection.execute(CHECKS).one()._asdict()
        with Session(engine) as session:
            drifted = members_out_of_balance(session)
    finally:
        engine.dispose()
    print(
        f"\nreviews: {figures['recorded']} recorded for {reviews.answers_2xx} 2xx answers; {figures['awarded']} within"
    )
    print(f"  the monthly limit, counted {figures['counted']} times, by {figures['reviewers']} members")
    print(f"badges: {figures['first_reviews']} first_review, {figures['awards']} levels in all,")
    print(f"  {figures['announced']} BadgeAwarded events; discovery challenge review steps: {figures['review_steps']}")
    print(f"ledger invariant: {len(drifted)} members out of balance")
    return (
        figures["recorded"] == reviews.answers_2xx
        and figures["counted"] == figures["awarded"]
        and figures["first_reviews"] == figures["reviewers"] == figures["review_steps"]
        and figures["announced"] == figures["awards"]
        and not drifted
    )


def _statements(database: stack.SeededDatabase) -> dict[str, list[str]]:
    """The SQL of a purchase, of a member's second review (their first already earned ``first_review``)
    and of their badge document."""
    member_id = database.first_member_id
    purchase = "POST /api/v1/purchases"

    def post_review(client: FlaskClient, _till: dict[str, str], service: dict[str, str], number: int) -> Any:
        body = {
            "member_id": member_id,
            "action": "review_posted",
            "ref": f"SQL-{number}",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        return client.post("/api/v1/engagements", json=body, headers=service)

    def get_badges(client: FlaskClient, _till: dict[str, str], service: dict[str, str], _number: int) -> Any:
        return client.get(f"/api/v1/members/{member_id}/badges", headers=service)

    return {
        purchase: statements_per_request(database, STORE)[purchase],
        **statements_of(
            database, (("POST /api/v1/engagements", post_review), ("GET /api/v1/members/{id}/badges", get_badges))
        ),
    }


if __name__ == "__main__":
    raise SystemExit(main())
