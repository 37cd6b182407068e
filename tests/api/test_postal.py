"""Postal mail: members' addresses, a scenario's postal step subject to consent and pressure, and the
export for the mailing house (a CSV and one PDF per letter), which never carries a letter twice."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from notifications.messages.models import Message
from tests.api.scenario_engine import add_scenario, make_runtime, run_due

ADDRESS = {"line1": "12 rue des Lilas", "line2": "Bâtiment B", "postcode": "75011", "city": "Paris", "country": "FR"}


def export_postal(app, directory: Path) -> str:
    result = app.test_cli_runner().invoke(args=["loyalty", "export", "postal", "--out", str(directory)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_postal_step_sends_a_letter_to_each_consenting_member_with_an_address_exported_once(
    app, client, admin, clock, sessions, tmp_path, make_member
):
    add_scenario(client, admin, "welcome_letter", [{"id": "letter", "send": "note", "channels": ["postal"]}])
    consenting = make_member(first_name="Anne", postal_address=ADDRESS, consents={"email": True, "postal": True})
    make_member(first_name="Bruno", postal_address=ADDRESS, consents={"email": True, "postal": False})
    make_member(first_name="Chloé", consents={"email": True, "postal": True})
    run_due(app, make_runtime(app, tmp_path / "files"), clock)

    assert export_postal(app, tmp_path / "first") == f"1 letters written to {tmp_path / 'first'}\n"
    rows = list(csv.DictReader((tmp_path / "first" / "letters.csv").open(encoding="utf-8")))
    assert [(r["member_id"], r["first_name"], r["address_line1"], r["address_line2"], r["postcode"], r["city"], r["country"])
            for r in rows] == [(str(consenting["id"]), "Anne", "12 rue des Lilas", "Bâtiment B", "75011", "Paris", "FR")]  # fmt: skip
    assert rows[0]["subject"] == "A note for Anne"
    assert (tmp_path / "first" / rows[0]["pdf"]).read_bytes().startswith(b"%PDF")

    assert export_postal(app, tmp_path / "second") == f"0 letters written to {tmp_path / 'second'}\n"
    with sessions() as session:
        letters = session.execute(select(Message.member_id, Message.status).where(Message.channel == "postal")).all()
    assert letters == [(consenting["id"], "sent")]


def test_the_admin_api_gives_the_batch_as_a_zip(app, client, admin, clock, tmp_path, make_member):
    add_scenario(client, admin, "welcome_letter", [{"id": "letter", "send": "note", "channels": ["postal"]}])
    make_member(postal_address=ADDRESS, consents={"postal": True})
    run_due(app, make_runtime(app, tmp_path), clock)
    first, second = (client.post("/api/v1/admin/postal-batches", headers=admin) for _ in range(2))
    names = [zipfile.ZipFile(io.BytesIO(r.data)).namelist() for r in (first, second)]
    assert first.mimetype == "application/zip" and len(names[0]) == 2 and names[1] == ["letters.csv"]


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ({**ADDRESS, "country": "France"}, "postal_address.country"),
        ({key: value for key, value in ADDRESS.items() if key != "city"}, "postal_address.city"),
        ({**ADDRESS, "postcode": "75 011 !"}, "postal_address.postcode"),
    ],
)
def test_a_faulty_address_is_refused_naming_the_part(client, admin, make_member, address, field):
    member = make_member()
    response = client.patch(f"/api/v1/members/{member['id']}", json={"postal_address": address}, headers=admin)
    assert response.status_code == 422
    assert [param["name"] for param in response.json["invalid_params"]] == [field]


def test_an_address_is_set_and_removed(client, admin, make_member):
    member = make_member(postal_address=ADDRESS)
    assert member["postal_address"] == ADDRESS
    cleared = client.patch(f"/api/v1/members/{member['id']}", json={"postal_address": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json["postal_address"] is None
