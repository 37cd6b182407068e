"""Warehouse exports: datasets streamed as CSV or JSON lines, incremental by id and by update time."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from tests.api.scenario_engine import add_scenario


def lines_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_members_stream_as_csv_and_the_ledger_as_json_lines_after_the_last_id_loaded(client, admin, make_member, make_purchase):
    members = [make_member() for _ in range(3)]
    for member in members:
        make_purchase(member_id=member["id"], total="30.00", lines=[])
    response = client.get("/api/v1/admin/exports/members", headers=admin)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(int(r["id"]), r["email"], r["points_balance"]) for r in rows] == [(m["id"], m["email"], "30") for m in members]
    ledger = lines_of(client.get("/api/v1/admin/exports/ledger?format=jsonl", headers=admin))
    assert [entry["points"] for entry in ledger] == [30, 30, 30]
    newer = lines_of(client.get(f"/api/v1/admin/exports/ledger?format=jsonl&after_id={ledger[0]['id']}", headers=admin))
    assert newer == ledger[1:]
    purchases = lines_of(client.get("/api/v1/admin/exports/purchases?format=jsonl", headers=admin))
    assert [(p["member_id"], p["total"]) for p in purchases] == [(m["id"], "30.00") for m in members]


def test_members_changed_since_an_instant(client, admin, clock, make_member):
    first, second = make_member(), make_member()
    clock.advance(timedelta(hours=1))
    assert client.patch(f"/api/v1/members/{second['id']}", json={"first_name": "Paula"}, headers=admin).status_code == 200
    since = clock.now().isoformat().replace("+00:00", "Z")
    changed = lines_of(client.get(f"/api/v1/admin/exports/members?format=jsonl&updated_since={since}", headers=admin))
    assert [(m["id"], m["first_name"]) for m in changed] == [(second["id"], "Paula")]


def test_kpis_and_messages_export_and_an_unknown_dataset_is_a_404(client, admin):
    add_scenario(client, admin, "hello", [{"id": "hello", "send": "note", "channels": ["in_app"]}])
    kpis = lines_of(client.get("/api/v1/admin/exports/kpis?format=jsonl", headers=admin))
    assert [line["scenario"] for line in kpis] == ["hello"]
    assert lines_of(client.get("/api/v1/admin/exports/messages?format=jsonl", headers=admin)) == []
    assert client.get("/api/v1/admin/exports/secrets", headers=admin).status_code == 404
