"""Look-alike identifiers: a variant of a key either reaches the same key or is refused, never a second thing.

For each identifier the API keys a write on, a valid identifier is drawn from its rule
(:mod:`loyalty.identifiers`) and used once; then look-alike variants of it (a final newline, spaces,
tabs, NUL, no-break and zero-width spaces, full-width digits, Cyrillic letters) are sent in its place.
Each must be answered with the first answer again (a replay) or with a 4xx naming the field; the
number of rows must not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from loyalty import identifiers
from loyalty.db import session_scope
from loyalty.engagement.models import Engagement
from loyalty.identifiers import IdentifierRule
from loyalty.members.models import Member
from loyalty.receipts.models import Purchase, PurchaseReturn
from rewards.catalog.models import Reward
from tests.builders import member_body, purchase_body

Headers = dict[str, str]

AROUND = ["\n", "\r\n", "\r", " ", "\t", "\x00", "\x0b", "\x0c", "\x85", "\u00a0", "\u2028", "\u200b", "\ufeff", "\u3000"]
HEADER_AROUND = [" ", "\t", "\x0b", "\x0c", "\xa0"]
LOOKALIKES = {
    **{str(digit): chr(0xFF10 + digit) for digit in range(10)},  # full-width digits
    **{str(digit): chr(0x0660 + digit) for digit in range(10)},  # Arabic-Indic digits
    "A": "\u0410", "B": "\u0412", "E": "\u0415", "O": "\u041e", "P": "\u0420", "S": "\u0405",
    "a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "s": "\u0455",
    "-": "\u2010", ".": "\u2024", "/": "\u2215", "_": "\uff3f",
}  # fmt: skip
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def valid(rule: IdentifierRule, max_size: int = 20) -> st.SearchStrategy[str]:
    return st.from_regex(rule.regex, fullmatch=True).filter(lambda value: rule.matches(value) and len(value) <= max_size)


@st.composite
def look_alike(draw: st.DrawFn, rule: IdentifierRule, *, in_header: bool = False) -> tuple[str, str]:
    """A valid identifier and a variant of it that a person could take for the same one (in a header:
    only what a header can carry, Latin-1 without line breaks or NUL)."""
    base = draw(valid(rule))
    lookalikes = {} if in_header else LOOKALIKES
    replaceable = [index for index, char in enumerate(base) if char in lookalikes]
    kinds = ["before", "after", "both"] + (["lookalike"] if replaceable else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "lookalike":
        index = draw(st.sampled_from(replaceable))
        return base, base[:index] + LOOKALIKES[base[index]] + base[index + 1 :]
    # The final newline, which a pattern ending in ``$`` lets through, half the time.
    around = st.sampled_from(HEADER_AROUND) if in_header else st.one_of(st.just("\n"), st.sampled_from(AROUND))
    before = draw(around) if kind in ("before", "both") else ""
    after = draw(around) if kind in ("after", "both") else ""
    return base, before + base + after


def count(sessions: sessionmaker[Session], model: type[Any]) -> int:
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def assert_replayed_or_refused(response: TestResponse, first: TestResponse, field: str) -> None:
    if response.status_code < 400:
        assert response.status_code in (200, first.status_code), response.json
        assert response.json["id"] == first.json["id"]
    else:
        assert 400 <= response.status_code < 500 and response.status_code != 404, response.json
        assert field in {param["name"] for param in response.json["invalid_params"]}, response.json


@pytest.fixture
def fresh() -> Callable[[str], bool]:
    """``fresh(value)``: true the first time a value is seen in the test, so each example starts anew."""
    seen: set[str] = set()

    def check(value: str) -> bool:
        new = value not in seen
        seen.add(value)
        return new

    return check


@given(pair=look_alike(identifiers.CODE))
@example(pair=("0001", "0001\n"))
@EXAMPLES
def test_a_receipt_number_look_alike_replays_the_receipt_or_is_refused(
    pair: tuple[str, str], client: FlaskClient, admin: Headers, sessions: sessionmaker[Session], fresh: Any
) -> None:
    base, variant = pair
    assume(fresh(base))
    first = client.post("/api/v1/purchases", json=purchase_body(receipt_no=base), headers=admin)
    assert first.status_code == 201, first.json
    purchases = count(sessions, Purchase)
    again = client.post("/api/v1/purchases", json=purchase_body(receipt_no=variant), headers=admin)
    assert_replayed_or_refused(again, first, "receipt_no")
    assert count(sessions, Purchase) == purchases


@given(pair=look_alike(identifiers.STORE_CODE))
@example(pair=("S1", "S1\n"))
@EXAMPLES
def test_a_store_code_look_alike_replays_the_receipt_or_is_refused(
    pair: tuple[str, str], client: FlaskClient, admin: Headers, sessions: sessionmaker[Session], fresh: Any
) -> None:
    base, variant = pair
    assume(fresh(base))
    first = client.post("/api/v1/purchases", json=purchase_body(store_code=base, receipt_no="0001"), headers=admin)
    assert first.status_code == 201, first.json
    purchases = count(sessions, Purchase)
    again = client.post("/api/v1/purchases", json=purchase_body(store_code=variant, receipt_no="0001"), headers=admin)
    assert_replayed_or_refused(again, first, "store_code")
    assert count(sessions, Purchase) == purchases


@given(pair=look_alike(identifiers.CODE))
@example(pair=("RET-1", "RET-1\n"))
@EXAMPLES
def test_a_return_number_look_alike_replays_the_return_or_is_refused(
    pair: tuple[str, str],
    client: FlaskClient,
    admin: Headers,
    sessions: sessionmaker[Session],
    make_member: Callable[..., dict[str, Any]],
    fresh: Any,
) -> None:
    base, variant = pair
    assume(fresh(base))
    purchase = client.post("/api/v1/purchases", json=purchase_body(member_id=make_member()["id"]), headers=admin)
    path = f"/api/v1/purchases/{purchase.json['id']}/returns"
    first = client.post(path, json={"return_no": base, "amount": "1.00"}, headers=admin)
    assert first.status_code == 201, first.json
    returns = count(sessions, PurchaseReturn)
    again = client.post(path, json={"return_no": variant, "amount": "1.00"}, headers=admin)
    assert_replayed_or_refused(again, first, "return_no")
    assert count(sessions, PurchaseReturn) == returns


@given(pair=look_alike(identifiers.CODE))
@example(pair=("SOCK-1", "SOCK-1\n"))
@EXAMPLES
def test_a_sku_look_alike_returns_nothing_and_is_refused(
    pair: tuple[str, str],
    client: FlaskClient,
    admin: Headers,
    sessions: sessionmaker[Session],
    make_member: Callable[..., dict[str, Any]],
) -> None:
    base, variant = pair
    line = {"sku": base, "quantity": 2, "unit_price": "10.00"}
    purchase = client.post(
        "/api/v1/purchases", json=purchase_body(member_id=make_member()["id"], total="20.00", lines=[line]), headers=admin
    )
    assert purchase.status_code == 201, purchase.json
    returns = count(sessions, PurchaseReturn)
    body = {"return_no": "RET-1", "lines": [{"sku": variant, "quantity": 1}]}
    response = client.post(f"/api/v1/purchases/{purchase.json['id']}/returns", json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == ["lines.0.sku"]
    assert count(sessions, PurchaseReturn) == returns


@given(pair=look_alike(identifiers.REF))
@example(pair=("review-1", "review-1\n"))
@EXAMPLES
def test_an_engagement_ref_look_alike_replays_the_engagement_or_is_refused(
    pair: tuple[str, str],
    client: FlaskClient,
    admin: Headers,
    sessions: sessionmaker[Session],
    reviewer: dict[str, Any],
    fresh: Any,
) -> None:
    base, variant = pair
    assume(fresh(base))
    first = client.post("/api/v1/engagements", json={**reviewer, "ref": base}, headers=admin)
    assert first.status_code == 201, first.json
    engagements = count(sessions, Engagement)
    again = client.post("/api/v1/engagements", json={**reviewer, "ref": variant}, headers=admin)
    assert_replayed_or_refused(again, first, "ref")
    assert count(sessions, Engagement) == engagements


@pytest.mark.parametrize("field", ["card_number", "external_id"])
@given(data=st.data())
@EXAMPLES
def test_a_member_key_look_alike_is_a_conflict_or_is_refused(
    field: str, data: st.DataObject, client: FlaskClient, admin: Headers, sessions: sessionmaker[Session], fresh: Any
) -> None:
    rule = identifiers.CARD_NUMBER if field == "card_number" else identifiers.CODE
    base, variant = data.draw(look_alike(rule))
    assume(fresh(base))
    first = client.post("/api/v1/members", json=member_body(**{field: base}), headers=admin)
    assert first.status_code == 201, first.json
    members = count(sessions, Member)
    again = client.post("/api/v1/members", json=member_body(**{field: variant}), headers=admin)
    assert again.status_code in (409, 422), again.json
    assert field in {param["name"] for param in again.json.get("invalid_params", [])}, again.json
    assert count(sessions, Member) == members


@given(pair=look_alike(identifiers.REWARD_CODE))
@example(pair=("GIFT", "GIFT\n"))
@EXAMPLES
def test_a_reward_code_look_alike_is_a_conflict_or_is_refused(
    pair: tuple[str, str], client: FlaskClient, admin: Headers, sessions: sessionmaker[Session], fresh: Any
) -> None:
    base, variant = pair
    assume(fresh(base))
    reward = {"name": "A gift", "kind": "gift", "cost_points": 10, "validity_days": 30}
    first = client.post("/api/v1/admin/rewards", json={**reward, "code": base}, headers=admin)
    assert first.status_code == 201, first.json
    rewards = count(sessions, Reward)
    again = client.post("/api/v1/admin/rewards", json={**reward, "code": variant}, headers=admin)
    assert again.status_code in (409, 422), again.json
    assert "code" in {param["name"] for param in again.json.get("invalid_params", [])}, again.json
    assert count(sessions, Reward) == rewards


@given(pair=look_alike(identifiers.IDEMPOTENCY_KEY, in_header=True))
@EXAMPLES
def test_an_idempotency_key_look_alike_replays_the_answer_or_is_refused(
    pair: tuple[str, str], client: FlaskClient, admin: Headers, sessions: sessionmaker[Session], fresh: Any
) -> None:
    base, variant = pair
    assume(fresh(base))
    body = member_body()
    first = client.post("/api/v1/members", json=body, headers={**admin, "Idempotency-Key": base})
    assert first.status_code == 201, first.json
    members = count(sessions, Member)
    again = client.post("/api/v1/members", json=body, headers={**admin, "Idempotency-Key": variant})
    assert_replayed_or_refused(again, first, "Idempotency-Key")
    assert count(sessions, Member) == members


@given(pair=look_alike(identifiers.PHONE))
@example(pair=("+33 6 12 34 56 78", "+33 6 12 34 56 78\n"))
@EXAMPLES
def test_a_phone_look_alike_is_refused(
    pair: tuple[str, str], client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]]
) -> None:
    base, variant = pair
    member = make_member(phone=base)
    response = client.patch(f"/api/v1/members/{member['id']}", json={"phone": variant}, headers=admin)
    if response.status_code == 200:
        assert response.json["phone"] == base
    else:
        assert response.status_code == 422 and response.json["invalid_params"][0]["name"] == "phone"
