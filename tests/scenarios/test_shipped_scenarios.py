"""Every date- and scan-driven scenario of the default program, end to end through the API with the
clock moved: members enrolled and buying through the API, scheduler passes at the test clock's
instant, messages read back through the support API and checked for what they say, in each member's
language (French originals, English translations)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.scheduling import schedule
from loyalty.clock import FrozenClock
from notifications.runtime import Runtime
from notifications.scheduler.jobs import PassReport, run_pass
from tests.conftest import NOW
from tests.scenarios.conftest import purchase_at
from tests.servers import SmtpServer

Headers = dict[str, str]
Messages = list[dict[str, Any]]
#: What Babel writes between a figure and its currency in French: a no-break space.
NBSP = "\u00a0"


@pytest.fixture
def run_at(app: Flask, runtime: Runtime, clock: FrozenClock) -> Callable[[datetime], PassReport]:
    """``run_at(instant)``: move the clock there and run one scheduler pass, the daily scans starting
    at midnight UTC (so that a scan runs when the date changes in Paris, not yet in Montreal)."""
    at_midnight = dataclasses.replace(schedule(app), daily_hour=0)

    def run(instant: datetime) -> PassReport:
        clock.set(instant)
        return run_pass(app.extensions["loyalty.sessions"], runtime, clock=clock.now, schedule=at_midnight, is_leader=True)

    return run


@pytest.fixture
def only(pause: Callable[..., None], client: FlaskClient, admin: Headers) -> Callable[[str], None]:
    """``only("birthday")``: every other built-in scenario paused."""

    def keep(key: str) -> None:
        others = [s["key"] for s in client.get("/api/v1/admin/scenarios", headers=admin).json if s["key"] != key]
        pause(*others)

    return keep


@pytest.fixture
def sent_to(client: FlaskClient, admin: Headers) -> Callable[..., Messages]:
    """``sent_to(member, scenario="birthday")``: the member's messages as support reads them, oldest
    first, in-app copies left out."""

    def read(member: dict[str, Any], *, scenario: str) -> Messages:
        response = client.get(f"/api/v1/members/{member['id']}/messages", headers=admin)
        assert response.status_code == 200, response.json
        items = [item for item in response.json["items"] if item["scenario"] == scenario and item["copy_of_id"] is None]
        return sorted(items, key=lambda item: item["id"])

    return read


@pytest.fixture
def vouchers_of(client: FlaskClient, admin: Headers) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    def read(member: dict[str, Any]) -> list[dict[str, Any]]:
        return client.get(f"/api/v1/members/{member['id']}/vouchers", headers=admin).json

    return read


@dataclass(frozen=True)
class Story:
    """What every story here uses: members enrolled and buying through the API, the clock and the
    scheduler passes, the messages and vouchers read back through the API."""

    only: Callable[[str], None]
    enrol: Callable[..., dict[str, Any]]
    buy: Callable[..., dict[str, Any]]
    clock: FrozenClock
    run_at: Callable[[datetime], PassReport]
    sent_to: Callable[..., Messages]
    vouchers_of: Callable[[dict[str, Any]], list[dict[str, Any]]]


@pytest.fixture
def story(
    only: Callable[[str], None],
    make_member: Callable[..., dict[str, Any]],
    make_purchase: Callable[..., dict[str, Any]],
    clock: FrozenClock,
    run_at: Callable[[datetime], PassReport],
    sent_to: Callable[..., Messages],
    vouchers_of: Callable[[dict[str, Any]], list[dict[str, Any]]],
) -> Story:
    return Story(only, make_member, make_purchase, clock, run_at, sent_to, vouchers_of)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Birthdays: the day before, on the member's own calendar


def test_the_birthday_comes_the_day_before_on_each_members_own_calendar_and_once_a_year(
    story: Story, smtp_server: SmtpServer
) -> None:
    story.only("birthday")
    paris = story.enrol(first_name="Camille", birth_date="1990-12-15", timezone="Europe/Paris", locale="fr-FR")
    montreal = story.enrol(first_name="Gabrielle", birth_date="1988-12-15", timezone="America/Montreal", locale="fr-CA")

    story.run_at(at("2026-12-13T22:30"))  # 23:30 in Paris, 17:30 in Montreal: two days before
    assert story.sent_to(paris, scenario="birthday") == story.sent_to(montreal, scenario="birthday") == []

    story.run_at(at("2026-12-14T00:30"))  # 01:30 on the 14th in Paris; still the 13th in Montreal
    [wishes] = story.sent_to(paris, scenario="birthday")
    assert story.sent_to(montreal, scenario="birthday") == []
    [voucher] = story.vouchers_of(paris)
    assert (wishes["locale"], wishes["channel"], voucher["reward_code"]) == ("fr", "email", "BIRTHDAY10")
    assert wishes["subject"] == "Joyeux anniversaire en avance, Camille !"
    assert "Demain, le 15 décembre 2026, c'est votre jour" in wishes["text"]
    assert f"10,00{NBSP}€ offerts sur vos achats avec le code {voucher['code']}" in wishes["text"]
    assert "valable du 14 décembre 2026 au 16 décembre 2026" in wishes["text"]
    # 01:30 is within Camille's quiet hours: the email waits for 08:00 in Paris.
    assert (wishes["status"], wishes["reason"]) == ("queued", "quiet_hours") and smtp_server.messages == []
    story.run_at(at("2026-12-14T07:00"))
    [mail] = smtp_server.messages
    assert mail.recipients == [paris["email"]] and mail.message["Subject"] == wishes["subject"]

    story.run_at(at("2026-12-15T00:30"))  # 19:30 on the 14th in Montreal
    [wishes] = story.sent_to(montreal, scenario="birthday")
    [voucher] = story.vouchers_of(montreal)
    assert wishes["locale"] == "fr" and wishes["status"] == "sent"
    assert "Demain, le 15 décembre 2026, c'est votre jour" in wishes["text"]
    # The offer's days are Montreal's: given at 19:30 on the 14th, valid two days.
    assert "valable du 14 décembre 2026 au 16 décembre 2026" in wishes["text"]
    assert f"10,00{NBSP}€" in wishes["text"] and voucher["code"] in wishes["text"]

    for instant in ("2026-12-16T00:30", "2026-12-20T00:30", "2026-12-31T23:30"):
        story.run_at(at(instant))
    assert len(story.sent_to(paris, scenario="birthday")) == len(story.sent_to(montreal, scenario="birthday")) == 1
    assert len(story.vouchers_of(paris)) == len(story.vouchers_of(montreal)) == 1

    story.run_at(at("2027-12-14T00:30"))  # and again the next year
    assert len(story.sent_to(paris, scenario="birthday")) == 2


def test_a_french_and_an_english_member_get_the_same_step_in_their_own_language(story: Story) -> None:
    story.only("birthday")
    french = story.enrol(first_name="Camille", birth_date="1990-12-15", timezone="Europe/Paris", locale="fr-FR")
    english = story.enrol(first_name="Emma", birth_date="1991-12-15", timezone="Europe/Paris", locale="en-GB")
    german = story.enrol(first_name="Lena", birth_date="1992-12-15", timezone="Europe/Paris", locale="de-DE")

    story.run_at(at("2026-12-14T09:00"))

    [en_francais] = story.sent_to(french, scenario="birthday")
    [in_english] = story.sent_to(english, scenario="birthday")
    [auf_deutsch] = story.sent_to(german, scenario="birthday")
    assert (en_francais["step"], in_english["step"]) == ("wishes", "wishes")
    assert (en_francais["locale"], in_english["locale"]) == ("fr", "en")
    assert "15 décembre 2026" in en_francais["text"] and f"10,00{NBSP}€" in en_francais["text"]
    assert in_english["subject"] == "Happy birthday for tomorrow, Emma!"
    assert "Tomorrow, 15 December 2026, is your day" in in_english["text"] and "€10.00 off" in in_english["text"]
    # German is not one of the program's languages: Lena reads French, the program's default.
    assert auf_deutsch["locale"] == "fr" and auf_deutsch["subject"] == "Joyeux anniversaire en avance, Lena !"
    assert "15 décembre 2026" in auf_deutsch["text"] and f"10,00{NBSP}€" in auf_deutsch["text"]


# The membership anniversary


def test_the_membership_anniversary_comes_the_day_before_with_a_gift_valid_on_the_day(story: Story) -> None:
    story.only("anniversary")
    paris = story.enrol(first_name="Camille", timezone="Europe/Paris", locale="fr-FR")  # enrolled 2026-11-22
    montreal = story.enrol(first_name="Emma", timezone="America/Montreal", locale="en-CA")

    story.run_at(at("2027-11-20T12:00"))
    assert story.sent_to(paris, scenario="anniversary") == story.sent_to(montreal, scenario="anniversary") == []

    story.run_at(at("2027-11-21T00:30"))  # the 21st in Paris, still the 20th in Montreal
    [thanks] = story.sent_to(paris, scenario="anniversary")
    assert story.sent_to(montreal, scenario="anniversary") == []
    [voucher] = story.vouchers_of(paris)
    assert voucher["reward_code"] == "ANNIVERSARY10" and voucher["reward_name"] == "Cadeau d'anniversaire d'adhésion"
    assert thanks["subject"] == "Camille, demain nous fêtons notre premier anniversaire : un cadeau vous attend"
    assert "Demain, le 22 novembre 2027, cela fera un an que vous avez rejoint le programme" in thanks["text"]
    assert f"10,00{NBSP}€ offerts sur vos achats ce jour-là" in thanks["text"] and voucher["code"] in thanks["text"]
    assert datetime.fromisoformat(voucher["expires_at"]) >= at("2027-11-22T23:00")  # the whole day, in Paris

    story.run_at(at("2027-11-22T00:30"))  # 19:30 on the 21st in Montreal
    [thanks] = story.sent_to(montreal, scenario="anniversary")
    [voucher] = story.vouchers_of(montreal)
    assert thanks["locale"] == "en" and thanks["subject"] == "Emma, one year together tomorrow: a gift for you"
    assert "Tomorrow, November 22, 2027, is the anniversary of the day you joined" in thanks["text"]
    assert "€10.00 off your purchase on that day" in thanks["text"]
    assert datetime.fromisoformat(voucher["expires_at"]) >= at("2027-11-23T05:00")  # the whole day, in Montreal

    story.run_at(at("2027-11-23T00:30"))
    assert len(story.sent_to(paris, scenario="anniversary")) == len(story.sent_to(montreal, scenario="anniversary")) == 1
    story.run_at(at("2028-11-21T00:30"))
    [_, second] = story.sent_to(paris, scenario="anniversary")
    assert "deux ans" not in second["subject"] and "nos 2 ans" in second["subject"]


# The first-purchase nudge


def test_the_nudge_reaches_a_member_enrolled_90_days_ago_who_never_bought_and_not_one_who_did(story: Story) -> None:
    story.only("first_purchase_nudge")
    waiting = story.enrol(first_name="Camille", locale="fr-FR")
    buyer = story.enrol(first_name="Emma", locale="en")
    story.clock.set(NOW + timedelta(days=3))
    story.buy(member_id=buyer["id"], **purchase_at(story.clock, "25.00"))

    story.run_at(NOW + timedelta(days=89))
    assert story.sent_to(waiting, scenario="first_purchase_nudge") == []

    story.run_at(NOW + timedelta(days=90))
    [nudge] = story.sent_to(waiting, scenario="first_purchase_nudge")
    [voucher] = story.vouchers_of(waiting)
    assert voucher["reward_code"] == "FIRSTBUY10"
    assert nudge["subject"] == f"Camille, 10,00{NBSP}€ offerts sur votre premier achat"
    assert f"voici 10,00{NBSP}€ offerts avec le code {voucher['code']}, valable jusqu'au 22 mars 2027" in nudge["text"]
    assert story.sent_to(buyer, scenario="first_purchase_nudge") == [] and story.vouchers_of(buyer) == []

    story.run_at(NOW + timedelta(days=120))
    assert len(story.sent_to(waiting, scenario="first_purchase_nudge")) == 1


# The expiry notice


def test_the_expiry_notice_tells_the_points_of_the_lots_expiring_within_30_days_and_the_balance(
    story: Story, client: FlaskClient, admin: Headers
) -> None:
    story.only("points_expiring")
    member = story.enrol(first_name="Camille", locale="fr-FR", timezone="Europe/Paris")  # 10 points for the account
    story.buy(member_id=member["id"], **purchase_at(story.clock, "45.00"))  # 45 points, expiring with them
    story.clock.set(NOW + timedelta(days=61))
    story.buy(member_id=member["id"], **purchase_at(story.clock, "30.00", receipt_no="LATER"))  # 30, two months later
    expiry = NOW.replace(year=2028)  # 24 months after NOW

    story.run_at(expiry - timedelta(days=31))
    assert story.sent_to(member, scenario="points_expiring") == []

    story.run_at(expiry - timedelta(days=30))
    [notice] = story.sent_to(member, scenario="points_expiring")
    assert notice["channel"] == "email" and notice["status"] == "sent"
    assert notice["subject"] == "Camille, 55 points expirent le 22 novembre 2028"
    assert "Petit rappel : 55 de vos points expirent le 22 novembre 2028." in notice["text"]
    assert "Vous avez aujourd'hui 85 points." in notice["text"]
    status = client.get(f"/api/v1/members/{member['id']}/status", headers=admin).json
    assert status["expiring_soon"]["points"] == 55

    story.run_at(expiry - timedelta(days=29))
    assert len(story.sent_to(member, scenario="points_expiring")) == 1


# The engagement drop


def test_an_engagement_score_falling_to_at_risk_brings_the_come_back_offer(story: Story) -> None:
    story.only("re_engagement")
    member = story.enrol(first_name="Emma", locale="en-GB", timezone="Europe/London")
    for number in range(3):
        story.buy(member_id=member["id"], **purchase_at(story.clock, "15.00", receipt_no=f"E-{number}"))
    story.run_at(NOW)
    assert story.sent_to(member, scenario="re_engagement") == []

    story.run_at(NOW + timedelta(days=23))  # 33 points of score, halved every 30 days: below 20 after 21.7

    [offer] = story.sent_to(member, scenario="re_engagement")
    [voucher] = story.vouchers_of(member)
    assert voucher["reward_code"] == "COMEBACK10"
    assert (offer["locale"], offer["status"]) == ("en", "sent")
    assert offer["subject"] == "We miss you, Emma: €10.00 to welcome you back"
    assert f"with the code {voucher['code']}. It is valid until 14 January 2027." in offer["text"]
    assert "10 € off your next purchase, because we missed you." in offer["text"]
