"""Quizzes: read without the right choices, answered once for points, the marking shown afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from loyalty.outbox import OutboxEvent
from rewards.quizzes.models import QuizAttempt
from tests.conftest import DEFAULT_PROGRAM

QUIZ = "/api/v1/quizzes/BRAND-QUIZ"
#: The default quiz's right choices: question 1 ``b``, question 2 ``a`` and ``b``, question 3 ``b``.
ALL_RIGHT = [
    {"question": 1, "choices": ["b"]},
    {"question": 2, "choices": ["a", "b"]},
    {"question": 3, "choices": ["b"]},
]
#: Questions 1 and 3 right, question 2 half right (which is wrong).
TWO_RIGHT = [{"question": 1, "choices": ["b"]}, {"question": 2, "choices": ["a"]}, {"question": 3, "choices": ["b"]}]


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def member(make_member) -> dict[str, Any]:
    return make_member()


@pytest.fixture
def member_headers(login, member) -> dict[str, str]:
    return login(member)


def answers_url(member: dict[str, Any], code: str = "BRAND-QUIZ") -> str:
    return f"/api/v1/members/{member['id']}/quizzes/{code}/answers"


#: The fields of the marking: none may appear in what a member reads of a quiz.
MARKING = {"correct", "correct_choices", "is_correct", "correct_count"}


def leaks(*documents: Any) -> list[str]:
    return [key for key in keys(list(documents)) if key in MARKING]


def keys(document: Any) -> Iterator[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield key
            yield from keys(value)
    elif isinstance(document, list):
        for item in document:
            yield from keys(item)


def balance(client, admin, member) -> int:
    return client.get(f"/api/v1/members/{member['id']}", headers=admin).json["points_balance"]


def quiz_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "code": "SPRING-QUIZ",
        "title": "Spring collection",
        "points_per_correct": 5,
        "questions": [
            {
                "text": "Which colour leads the collection?",
                "choices": [{"id": "a", "text": "Green"}, {"id": "b", "text": "Red"}],
                "correct": ["a"],
            }
        ],
    }
    body.update(overrides)
    return body


def test_a_member_reads_an_open_quiz_with_its_choices_and_without_its_right_ones(client, member_headers):
    listed = client.get("/api/v1/quizzes", headers=member_headers)
    assert listed.status_code == 200, listed.json
    assert [(quiz["code"], quiz["answered"]) for quiz in listed.json] == [("BRAND-QUIZ", False)]
    quiz = client.get(QUIZ, headers=member_headers).json
    assert [
        (question["number"], question["multiple"], [choice["id"] for choice in question["choices"]])
        for question in quiz["questions"]
    ] == [
        (1, False, ["a", "b", "c"]),
        (2, True, ["a", "b", "c"]),
        (3, False, ["a", "b", "c"]),
    ]
    assert leaks(listed.json, quiz) == []


def test_no_route_a_member_reads_shows_the_right_choices_before_or_after_answering(client, member, member_headers):
    def member_documents() -> list[Any]:
        return [
            client.get("/api/v1/quizzes", headers=member_headers).json,
            client.get(QUIZ, headers=member_headers).json,
            client.get(f"/api/v1/members/{member['id']}/status", headers=member_headers).json,
            client.get("/api/v1/me/status", headers=member_headers).json,
        ]

    assert leaks(member_documents()) == []
    assert client.get(answers_url(member), headers=member_headers).status_code == 404
    answered = client.post(answers_url(member), json={"answers": TWO_RIGHT}, headers=member_headers)
    assert answered.status_code == 201, answered.json
    # Only the member's own result holds the marking; the quiz itself never does.
    assert leaks(member_documents()) == []


def test_the_member_schema_of_a_quiz_has_no_field_for_the_right_choices(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for name in ("PublicQuiz", "PublicQuestion", "Choice"):
        assert set(schemas[name]["properties"]).isdisjoint(MARKING), name
    assert "correct" in schemas["Question"]["properties"]


def test_answering_credits_points_per_right_answer_and_shows_the_marking(client, admin, member, member_headers):
    before = balance(client, admin, member)
    response = client.post(answers_url(member), json={"answers": TWO_RIGHT}, headers=member_headers)
    assert response.status_code == 201, response.json
    result = response.json
    assert (result["quiz_code"], result["correct_count"], result["question_count"], result["points_awarded"]) == (
        "BRAND-QUIZ",
        2,
        3,
        20,
    )
    assert [(answer["choices"], answer["correct_choices"], answer["is_correct"]) for answer in result["answers"]] == [
        (["b"], ["b"], True),
        (["a"], ["a", "b"], False),
        (["b"], ["b"], True),
    ]
    # 20 for the right answers, 5 for the default program's quiz_completed action.
    assert balance(client, admin, member) == before + 25
    entries = client.get(f"/api/v1/members/{member['id']}/ledger", headers=admin).json["items"]
    quiz_entry = next(entry for entry in entries if entry["source_type"] == "quiz_attempt")
    assert (quiz_entry["kind"], quiz_entry["points"], quiz_entry["reason"]) == ("bonus", 20, "quiz BRAND-QUIZ")
    engagements = client.get(f"/api/v1/members/{member['id']}/engagements", headers=admin).json
    assert ("quiz_completed", "quiz:BRAND-QUIZ", 5) in [
        (e["action"], e["ref"], e["points_awarded"]) for e in engagements
    ]
    assert client.get(answers_url(member), headers=member_headers).json == result
    assert client.get(QUIZ, headers=member_headers).json["answered"] is True


def test_a_quiz_answered_twice_is_refused_and_changes_nothing(client, admin, member, member_headers, sessions):
    assert client.post(answers_url(member), json={"answers": TWO_RIGHT}, headers=member_headers).status_code == 201
    before = (balance(client, admin, member), client.get(answers_url(member), headers=admin).json)
    again = client.post(answers_url(member), json={"answers": ALL_RIGHT}, headers=admin)
    assert again.status_code == 409, again.json
    assert again.json["invalid_params"][0]["name"] == "code"
    assert (balance(client, admin, member), client.get(answers_url(member), headers=admin).json) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(QuizAttempt)) == 1


def test_answering_records_quiz_answered(client, member, member_headers, sessions):
    client.post(answers_url(member), json={"answers": ALL_RIGHT}, headers=member_headers)
    with sessions() as session:
        payloads = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.event_type == "QuizAnswered").order_by(OutboxEvent.id)
        ).all()
    assert [(p["member_id"], p["quiz_code"], p["correct"], p["questions"], p["points"]) for p in payloads] == [
        (member["id"], "BRAND-QUIZ", 3, 3, 30)
    ]


def test_a_member_reads_only_their_own_marking(client, make_member, login, member, member_headers):
    client.post(answers_url(member), json={"answers": ALL_RIGHT}, headers=member_headers)
    other = make_member()
    assert client.get(answers_url(member), headers=login(other)).status_code == 403
    assert client.get(answers_url(other), headers=login(other)).status_code == 404


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([*ALL_RIGHT, {"question": 4, "choices": ["a"]}], "answers.3.question"),
        ([*ALL_RIGHT, {"question": 1, "choices": ["a"]}], "answers.3.question"),
        ([{"question": 1, "choices": ["z"]}, *ALL_RIGHT[1:]], "answers.0.choices"),
        ([{"question": 1, "choices": ["a", "b"]}, *ALL_RIGHT[1:]], "answers.0.choices"),
        ([ALL_RIGHT[0], {"question": 2, "choices": ["a", "a"]}, ALL_RIGHT[2]], "answers.1.choices"),
        (ALL_RIGHT[:2], "answers"),
    ],
    ids=[
        "unknown question",
        "question twice",
        "unknown choice",
        "two choices of a single-choice question",
        "a choice twice",
        "a question left out",
    ],
)
def test_answers_name_each_question_once_with_its_own_choices(client, admin, member, member_headers, answers, field):
    response = client.post(answers_url(member), json={"answers": answers}, headers=member_headers)
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == [field]
    assert client.get(answers_url(member), headers=admin).status_code == 404


def test_a_quiz_is_answered_only_inside_its_window(client, admin, clock, member, member_headers):
    window = {"starts_at": "2026-11-23T00:00:00+00:00", "ends_at": "2026-11-30T00:00:00+00:00"}
    assert client.patch("/api/v1/admin/quizzes/BRAND-QUIZ", json=window, headers=admin).status_code == 200
    assert client.get(QUIZ, headers=member_headers).status_code == 404
    assert client.get("/api/v1/quizzes", headers=member_headers).json == []
    assert client.post(answers_url(member), json={"answers": ALL_RIGHT}, headers=member_headers).status_code == 404
    clock.set(clock.now().replace(day=30))
    assert client.get(QUIZ, headers=member_headers).status_code == 200
    closed = client.post(answers_url(member), json={"answers": ALL_RIGHT}, headers=member_headers)
    assert (closed.status_code, closed.json["invalid_params"][0]["name"]) == (422, "code")


def test_an_admin_creates_a_quiz_that_members_then_answer(client, admin, member, member_headers):
    created = client.post("/api/v1/admin/quizzes", json=quiz_body(), headers=admin)
    assert created.status_code == 201, created.json
    assert created.json["questions"][0]["correct"] == ["a"]
    answer = {"answers": [{"question": 1, "choices": ["a"]}]}
    result = client.post(answers_url(member, "SPRING-QUIZ"), json=answer, headers=member_headers).json
    assert (result["correct_count"], result["points_awarded"]) == (1, 5)


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({"correct": []}, "questions.0.correct"),
        ({"correct": ["c"]}, "questions.0.correct"),
        ({"correct": ["a", "b"]}, "questions.0.correct"),
        ({"choices": [{"id": "a", "text": "Green"}, {"id": "a", "text": "Red"}]}, "questions.0.choices"),
    ],
    ids=[
        "no right choice",
        "a right choice that is not a choice",
        "two right choices of a single-choice question",
        "duplicate choice ids",
    ],
)
def test_a_quiz_whose_questions_do_not_hold_together_is_refused(client, admin, question, field):
    base = quiz_body()["questions"][0]
    response = client.post("/api/v1/admin/quizzes", json=quiz_body(questions=[{**base, **question}]), headers=admin)
    assert response.status_code == 422, response.json
    assert [param["name"] for param in response.json["invalid_params"]] == [field]


def test_once_answered_a_quiz_keeps_its_questions_but_may_be_renamed(client, admin, member, member_headers):
    client.post(answers_url(member), json={"answers": ALL_RIGHT}, headers=member_headers)
    questions = quiz_body()["questions"]
    refused = client.patch("/api/v1/admin/quizzes/BRAND-QUIZ", json={"questions": questions}, headers=admin)
    assert refused.status_code == 409, refused.json
    renamed = client.patch("/api/v1/admin/quizzes/BRAND-QUIZ", json={"title": "Brand quiz"}, headers=admin)
    assert (renamed.status_code, renamed.json["title"], len(renamed.json["questions"])) == (200, "Brand quiz", 3)


def test_before_anyone_answers_the_questions_can_be_replaced(client, admin, member_headers):
    replaced = client.patch(
        "/api/v1/admin/quizzes/BRAND-QUIZ", json={"questions": quiz_body()["questions"]}, headers=admin
    )
    assert replaced.status_code == 200, replaced.json
    quiz = client.get(QUIZ, headers=member_headers).json
    assert [question["text"] for question in quiz["questions"]] == ["Which colour leads the collection?"]


def test_an_answer_retried_with_its_idempotency_key_gets_the_first_answer(client, member, member_headers):
    headers = {**member_headers, "Idempotency-Key": "quiz-1"}
    first = client.post(answers_url(member), json={"answers": TWO_RIGHT}, headers=headers)
    again = client.post(answers_url(member), json={"answers": TWO_RIGHT}, headers=headers)
    assert (first.status_code, again.status_code, again.json) == (201, 201, first.json)
