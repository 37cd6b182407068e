"""Members: enrolment, profile, card lookup, and Idempotency-Key on enrolment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from loyalty.members.codes import is_valid_card_number
from loyalty.members.models import Member
from tests.builders import member_body


def enroll(client, headers, key: str | None = None, **overrides):
    """POST /members with a builder body, optionally under an ``Idempotency-Key``."""
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post("/api/v1/members", json=member_body(**overrides), headers=headers)


def test_enrolment_gives_a_valid_card_number_a_referral_code_and_an_empty_balance(client, admin):
    response = enroll(client, admin, email="Jeanne.Martin@Example.com", phone="+33 6 12 34 56 78")
    assert response.status_code == 201
    member = response.json
    assert member["email"] == "jeanne.martin@example.com"
    assert is_valid_card_number(member["card_number"])
    assert len(member["referral_code"]) == 8
    assert (member["points_balance"], member["purchase_count"], member["last_purchase_at"]) == (0, 0, None)
    assert member["enrolled_at"] == member["updated_at"] == "2026-11-22T10:00:00+00:00"
    assert (member["locale"], member["timezone"]) == ("fr-FR", "Europe/Paris")
    assert member["consents"] == {"email": True, "sms": True, "push": False, "postal": False}
    assert "password" not in member and "password_hash" not in member


def test_enrolment_keeps_a_card_number_given_by_the_till(client, till):
    response = enroll(client, till, card_number="2912345678903")
    assert (response.status_code, response.json["card_number"]) == (201, "2912345678903")


def test_email_is_unique_whatever_its_case(client, admin):
    assert enroll(client, admin, email="paul@example.com").status_code == 201
    response = enroll(client, admin, email="PAUL@Example.COM")
    assert response.status_code == 409
    assert response.json["invalid_params"][0]["name"] == "email"


def test_card_number_is_unique(client, admin):
    assert enroll(client, admin, card_number="2912345678903").status_code == 201
    response = enroll(client, admin, card_number="2912345678903")
    assert (response.status_code, response.json["invalid_params"][0]["name"]) == (409, "card_number")


def test_external_id_is_unique(client, admin):
    assert enroll(client, admin, external_id="CRM-1").status_code == 201
    response = enroll(client, admin, external_id="CRM-1")
    assert (response.status_code, response.json["invalid_params"][0]["name"]) == (409, "external_id")


def test_referred_member_records_the_sponsor(client, admin, make_member):
    sponsor = make_member()
    response = enroll(client, admin, referral_code=sponsor["referral_code"].lower())
    assert (response.status_code, response.json["sponsor_id"]) == (201, sponsor["id"])


def test_unknown_referral_code_is_refused(client, admin):
    response = enroll(client, admin, referral_code="ZZZZZZZZ")
    assert (response.status_code, response.json["invalid_params"][0]["name"]) == (422, "referral_code")


def test_member_is_found_by_card_number(client, till, make_member):
    member = make_member()
    response = client.get("/api/v1/members/lookup", query_string={"card_number": member["card_number"]}, headers=till)
    assert (response.status_code, response.json["id"]) == (200, member["id"])


def test_unknown_card_number_is_not_found(client, till):
    response = client.get("/api/v1/members/lookup", query_string={"card_number": "2900000000000007"}, headers=till)
    assert response.status_code == 404


def test_member_is_read_by_id_and_by_their_own_token(client, admin, make_member, login):
    member = make_member()
    read = client.get(f"/api/v1/members/{member['id']}", headers=admin).json
    # Admin and service clients also get the engagement score; the core test program keeps none.
    assert read.pop("engagement") is None
    assert read == member
    assert client.get("/api/v1/me", headers=login(member)).json == member


def test_unknown_member_is_not_found(client, admin):
    assert client.get("/api/v1/members/999999", headers=admin).status_code == 404


def test_a_changed_member_answers_with_a_new_etag_and_each_view_has_its_own(client, admin, service, till, make_member):
    member = make_member()
    url = f"/api/v1/members/{member['id']}"
    first = client.get(url, headers=service)
    assert client.get(url, headers={**till, "If-None-Match": first.headers["ETag"]}).status_code == 200  # no score in it
    assert client.patch(url, json={"first_name": "Renamed"}, headers=admin).status_code == 200
    changed = client.get(url, headers={**service, "If-None-Match": first.headers["ETag"]})
    assert (changed.status_code, changed.json["first_name"]) == (200, "Renamed")
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_profile_update_changes_the_fields_and_the_update_time(client, admin, make_member, clock):
    member = make_member()
    clock.advance(timedelta(hours=1))
    changes = {"first_name": "Jeanne", "email": "New@Example.com", "consents": {"push": True}, "external_id": "CRM-9"}
    response = client.patch(f"/api/v1/members/{member['id']}", json=changes, headers=admin)
    assert response.status_code == 200
    updated = response.json
    assert (updated["first_name"], updated["email"], updated["external_id"]) == ("Jeanne", "new@example.com", "CRM-9")
    assert updated["consents"] == {"email": True, "sms": True, "push": True, "postal": False}
    assert updated["updated_at"] == "2026-11-22T11:00:00+00:00"
    assert updated["enrolled_at"] == member["enrolled_at"]


def test_profile_update_to_another_members_email_in_other_case_is_a_conflict(client, admin, make_member):
    make_member(email="taken@example.com")
    member = make_member()
    response = client.patch(f"/api/v1/members/{member['id']}", json={"email": "TAKEN@example.com"}, headers=admin)
    assert (response.status_code, response.json["invalid_params"][0]["name"]) == (409, "email")
    assert client.get(f"/api/v1/members/{member['id']}", headers=admin).json["email"] == member["email"]


def test_member_changes_their_password_and_logs_in_with_it(client, make_member, login):
    member = make_member()
    response = client.patch(f"/api/v1/members/{member['id']}", json={"password": "new-password-1"}, headers=login(member))
    assert response.status_code == 200
    assert login(member, "new-password-1")
    assert client.post("/api/v1/auth/login", json={"email": member["email"], "password": "correct-horse"}).status_code == 401


def test_enrolment_replayed_with_the_same_idempotency_key_answers_the_first_member(client, admin, sessions):
    body = member_body()
    headers = {**admin, "Idempotency-Key": "enrol-42"}
    first = client.post("/api/v1/members", json=body, headers=headers)
    again = client.post("/api/v1/members", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 1


def test_idempotency_key_reused_with_another_body_is_a_conflict(client, admin):
    assert enroll(client, admin, key="enrol-42").status_code == 201
    response = enroll(client, admin, key="enrol-42")
    assert response.status_code == 409
    assert response.json["invalid_params"][0] == {
        "name": "Idempotency-Key",
        "in": "header",
        "reason": "this key was used for a different request",
    }


def test_idempotency_key_of_a_failed_request_can_be_used_again(client, admin):
    assert enroll(client, admin, email="dup@example.com").status_code == 201
    assert enroll(client, admin, key="enrol-42", email="dup@example.com").status_code == 409
    assert enroll(client, admin, key="enrol-42", email="other@example.com").status_code == 201


def test_idempotency_keys_of_different_clients_are_independent(client, admin, service):
    first = enroll(client, admin, key="enrol-42")
    second = enroll(client, service, key="enrol-42")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["id"] != second.json["id"]
    assert "Idempotent-Replayed" not in second.headers


def test_idempotency_key_longer_than_200_characters_is_refused(client, admin):
    response = enroll(client, admin, key="k" * 201)
    assert response.status_code == 400
    assert response.json["invalid_params"][0]["name"] == "Idempotency-Key"
