"""Languages through the API: the status document, the badges and the catalog in the caller's
language, templates refused when a translation is missing or reads other placeholders, and the list
of what is not translated yet. On the shipped program: French originals, English translations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.scenario_engine import bilingual_note
from tests.conftest import DEFAULT_PROGRAM

Headers = dict[str, str]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


def test_a_member_reads_their_status_in_their_own_language(
    client: FlaskClient, make_member: Callable[..., dict[str, Any]], login: Callable[..., Headers]
) -> None:
    french = login(make_member(locale="fr-FR"))
    english = login(make_member(locale="en-GB"))

    en_francais = client.get("/api/v1/me/status", headers=french)
    in_english = client.get("/api/v1/me/status", headers=english)

    assert en_francais.headers["Content-Language"] == "fr"
    assert en_francais.json["tier"]["name"] == "Membre"
    assert en_francais.json["tier"]["benefits"] == ["Des points à chaque achat", "Un cadeau pour votre anniversaire"]
    assert en_francais.json["next_tier"]["name"] == "VIP"
    assert in_english.headers["Content-Language"] == "en"
    assert in_english.json["tier"]["name"] == "Member"
    assert in_english.json["tier"]["benefits"] == ["Points on every purchase", "Birthday offer"]
    assert "Accept-Language" in in_english.headers["Vary"]


def test_accept_language_chooses_the_language_of_a_client_reading_a_members_status(
    client: FlaskClient, admin: Headers, make_member: Callable[..., dict[str, Any]]
) -> None:
    member = make_member(locale="fr-FR")
    url = f"/api/v1/members/{member['id']}/status"

    english = client.get(url, headers={**admin, "Accept-Language": "en-US,en;q=0.8,fr;q=0.5"})
    default = client.get(url, headers=admin)

    assert (english.headers["Content-Language"], english.json["tier"]["name"]) == ("en", "Member")
    assert (default.headers["Content-Language"], default.json["tier"]["name"]) == ("fr", "Membre")


def test_a_language_the_program_does_not_have_gets_the_original(
    client: FlaskClient, make_member: Callable[..., dict[str, Any]], login: Callable[..., Headers]
) -> None:
    german = login(make_member(locale="de-DE"))

    response = client.get("/api/v1/me/status", headers=german)

    assert response.headers["Content-Language"] == "fr"
    assert response.json["tier"]["name"] == "Membre"


def test_the_catalog_and_the_badges_are_given_in_the_callers_language(
    client: FlaskClient, service: Headers
) -> None:
    def read(path: str, language: str) -> tuple[str, dict[str, Any]]:
        response = client.get(path, headers={**service, "Accept-Language": language})
        assert response.status_code == 200, response.json
        return response.headers["Content-Language"], {item["code"]: item for item in response.json}

    assert read("/api/v1/rewards", "en")[1]["FREESHIP"]["name"] == "Free shipping"
    language, rewards = read("/api/v1/rewards", "fr-BE")
    assert language == "fr"
    assert (rewards["FREESHIP"]["name"], rewards["FREESHIP"]["description"]) == (
        "Livraison offerte",
        "La livraison de votre prochaine commande en ligne vous est offerte.",
    )
    language, badges = read("/api/v1/badges", "en")
    assert language == "en" and badges["first_review"]["name"] == "First review"
    assert read("/api/v1/badges", "fr")[1]["first_review"]["description"] == "Vous avez publié votre premier avis."


def test_the_openapi_document_states_the_language_of_translated_answers(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json

    for path in ("/api/v1/members/{member_id}/status", "/api/v1/me/status", "/api/v1/rewards", "/api/v1/badges"):
        assert "Content-Language" in spec["paths"][path]["get"]["responses"]["200"]["headers"], path


def test_a_translation_added_by_an_admin_is_served(client: FlaskClient, admin: Headers, service: Headers) -> None:
    translations = {"en": {"name": "Free shipping"}, "fr-CA": {"name": "Livraison gratuite"}}
    response = client.patch("/api/v1/admin/rewards/FREESHIP", json={"translations": translations}, headers=admin)
    assert response.status_code == 200, response.json

    canadian = client.get("/api/v1/rewards", headers={**service, "Accept-Language": "fr-CA"})

    assert {item["code"]: item["name"] for item in canadian.json}["FREESHIP"] == "Livraison gratuite"


def test_a_template_without_a_declared_language_is_refused_naming_the_template_and_the_locale(
    client: FlaskClient, admin: Headers
) -> None:
    body = {**bilingual_note(), "translations": {}}

    response = client.put("/api/v1/admin/templates/note", json=body, headers=admin)

    assert response.status_code == 422
    [param] = response.json["invalid_params"]
    assert param["name"] == "translations.en"
    assert "'note'" in param["reason"] and "'en'" in param["reason"]
    assert client.get("/api/v1/admin/templates/note", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("part", "english", "reason"),
    [
        ("subject", "A note for {{ member.last_name }}", "the placeholder 'member.last_name' is not in the original"),
        ("short", "Hello!", "the placeholder 'member.first_name' of the original is missing"),
    ],
)
def test_a_translation_reading_other_placeholders_is_refused_naming_them(
    client: FlaskClient, admin: Headers, part: str, english: str, reason: str
) -> None:
    body = bilingual_note()
    body["translations"]["en"][part] = english

    response = client.put("/api/v1/admin/templates/birthday", json=body, headers=admin)

    assert response.status_code == 422
    [param] = response.json["invalid_params"]
    assert param["name"] == f"translations.en.{part}"
    assert param["reason"] == f"template 'birthday', locale 'en', {part}: {reason}"
    assert "Joyeux anniversaire" in client.get("/api/v1/admin/templates/birthday", headers=admin).json["subject"]


def test_the_admin_api_lists_what_a_new_language_still_lacks(client: FlaskClient, admin: Headers) -> None:
    assert client.get("/api/v1/admin/translations/missing", headers=admin).json == {"locales": ["fr", "en"], "missing": []}

    added = client.patch("/api/v1/admin/program", json={"locales": ["fr", "en", "de"]}, headers=admin)
    assert added.status_code == 200 and added.json["locales"] == ["fr", "en", "de"]
    client.patch("/api/v1/admin/rewards/FREESHIP", json={"translations": {"en": {"name": "Free shipping"}}}, headers=admin)

    report = client.get("/api/v1/admin/translations/missing", headers=admin).json
    missing = {(item["kind"], item["key"], item["locale"]): item["fields"] for item in report["missing"]}
    assert missing[("template", "birthday", "de")] == ["subject", "text", "html", "short"]
    assert missing[("tier", "vip", "de")] == ["name", "benefits"]
    assert missing[("reward", "FREESHIP", "en")] == ["description"]
    assert missing[("quiz", "BRAND-QUIZ", "de")] == ["title", "description", "questions"]
    assert {kind for kind, _, _ in missing} == {"template", "tier", "reward", "badge", "challenge", "quiz", "game"}


def test_the_original_language_of_a_program_cannot_change(client: FlaskClient, admin: Headers) -> None:
    response = client.patch("/api/v1/admin/program", json={"locales": ["en", "fr"]}, headers=admin)

    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "locales"


def test_a_member_reads_a_quiz_its_questions_and_choices_in_their_language(
    client: FlaskClient, make_member: Callable[..., dict[str, Any]], login: Callable[..., Headers]
) -> None:
    def quiz(locale: str) -> dict[str, Any]:
        response = client.get("/api/v1/quizzes/BRAND-QUIZ", headers=login(make_member(locale=locale)))
        assert response.status_code == 200, response.json
        return response.json

    english, french = quiz("en-US"), quiz("fr-FR")

    assert english["title"] == "How well do you know us?"
    assert english["questions"][1]["text"] == "Which of these can you earn points for?"
    assert [choice["text"] for choice in english["questions"][1]["choices"]] == [
        "A purchase in store", "A product review", "Reading the terms and conditions",
    ]
    assert [choice["text"] for choice in english["questions"][0]["choices"]] == ["1965", "1982", "1999"]
    assert french["title"] == "Nous connaissez-vous vraiment ?"
    assert french["questions"][1]["choices"][0] == {"id": "a", "text": "Un achat en boutique"}


def test_a_question_translating_a_choice_it_does_not_have_is_refused(client: FlaskClient, admin: Headers) -> None:
    question = {
        "text": "Votre rayon préféré ?",
        "choices": [{"id": "a", "text": "Chaussures"}, {"id": "b", "text": "Beauté"}],
        "correct": ["a"],
        "translations": {"en": {"text": "Your favourite department?", "choices": {"a": "Shoes", "z": "Beauty"}}},
    }
    body = {"code": "TASTES", "title": "Vos goûts", "points_per_correct": 1, "questions": [question]}

    response = client.post("/api/v1/admin/quizzes", json=body, headers=admin)

    assert response.status_code == 422
    assert response.json["invalid_params"][0]["name"] == "questions.0.translations.en.choices"
