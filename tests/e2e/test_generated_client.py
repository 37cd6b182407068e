"""A Python client generated from the live server's OpenAPI document by openapi-python-client, as a
mobile or web team would, plays the README's tour: the document is enough to call the API."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from flask import Flask

from app.auth.clients import create_client
from loyalty.db import session_scope
from tests.conftest import DEFAULT_PROGRAM
from tests.e2e.conftest import LiveServer

PACKAGE = "tour_client"


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


@pytest.fixture
def generated(live_server: LiveServer, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package, generated from ``/api/v1/openapi.json`` and importable as ``tour_client``."""
    spec = tmp_path / "openapi.json"
    spec.write_bytes(requests.get(f"{live_server.api}/openapi.json", timeout=10).content)
    config = tmp_path / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "openapi-python-client"), "generate", "--path", str(spec),
         "--meta", "none", "--output-path", str(tmp_path / PACKAGE), "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def credentials(app: Flask, name: str, role: str, store: str | None = None) -> dict[str, str]:
    with session_scope(app.extensions["loyalty.sessions"]) as session:
        created = create_client(session, name=name, role=role, store_code=store, now=app.extensions["loyalty.clock"].now())
    return {"client_id": created.client_id, "client_secret": created.client_secret}


def use(name: str) -> Any:
    """``use("purchases.record_purchase")``: a module of the generated client's API."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_a_generated_client_plays_the_readme_tour(app: Flask, live_server: LiveServer, generated: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    # 1. A token for an admin client; a till of store S1 gets its own.
    token = use("auth.client_token").sync(client=anonymous, body=models.ClientTokenRequest(**credentials(app, "tour-admin", "admin")))
    assert isinstance(token, models.Token) and token.token_type == "Bearer"
    admin = generated.AuthenticatedClient(base_url=live_server.url, token=token.access_token, raise_on_unexpected_status=True)
    till_token = use("auth.client_token").sync(
        client=anonymous, body=models.ClientTokenRequest(**credentials(app, "tour-till", "till", "S1"))
    )
    till = generated.AuthenticatedClient(base_url=live_server.url, token=till_token.access_token, raise_on_unexpected_status=True)

    # 2. Enrol a member.
    member = use("members.enrol_member").sync(
        client=admin,
        body=models.MemberCreate(
            email="jean@example.com", first_name="Jean", last_name="Duchemin", password="correct-horse",
            consents=models.ConsentsInput(email=True, sms=True),
        ),
    )  # fmt: skip
    assert isinstance(member, models.Member) and member.card_number
    # An answer's fields are required: plain values, never "unset"; None only where nullable.
    assert member.consents.push is False and isinstance(member.points_balance, int) and member.phone is None

    # 3. The till posts a purchase; the same receipt again answers the original result.
    purchase_body = models.PurchaseCreate(
        store_code="S1", receipt_no="0001", member_id=member.id, occurred_at=app.extensions["loyalty.clock"].now(),
        currency="EUR", total="45.90", channel=models.PurchaseCreateChannel.STORE,
        lines=[
            models.PurchaseLine(sku="LIP-1", category="beauty", quantity=1, unit_price="20.00"),
            models.PurchaseLine(sku="SOCK-1", quantity=2, unit_price="12.95"),
        ],
    )  # fmt: skip
    first = use("purchases.record_purchase").sync_detailed(client=till, body=purchase_body)
    replay = use("purchases.record_purchase").sync_detailed(client=till, body=purchase_body)
    assert (first.status_code, replay.status_code) == (201, 200)
    purchase = first.parsed
    assert isinstance(purchase, models.Purchase) and purchase.total == "45.90" and purchase.points_awarded > 0
    assert replay.parsed.id == purchase.id and replay.parsed.points_balance == purchase.points_balance

    # 4. A return takes points back in proportion.
    returned = use("purchases.record_return").sync(
        purchase.id, client=till, body=models.ReturnCreate(return_no="RET-1", lines=[models.ReturnLineInput(sku="SOCK-1", quantity=1)])
    )
    assert isinstance(returned, models.Return) and returned.amount == "12.95" and returned.points_reversed > 0

    # 5. The member logs in and reads where they stand.
    tokens = use("auth.login").sync(client=anonymous, body=models.LoginRequest(email="jean@example.com", password="correct-horse"))
    assert isinstance(tokens, models.MemberTokens)
    app_client = generated.AuthenticatedClient(base_url=live_server.url, token=tokens.access_token, raise_on_unexpected_status=True)
    status = use("status.my_status").sync(client=app_client)
    assert isinstance(status, models.Status)
    assert status.points_balance == purchase.points_balance - returned.points_reversed
    assert status.tier.multiplier == "1.0000"

    # 6. A reward for points, then the voucher at the till.
    voucher = use("rewards.redeem_reward").sync(member.id, client=app_client, body=models.Redemption(reward_code="FREESHIP"))
    assert isinstance(voucher, models.Voucher) and voucher.status == "issued"
    used = use("rewards.use_voucher").sync(voucher.code, client=till, body=models.VoucherUse(store_code="S1", receipt_no="0002"))
    assert isinstance(used, models.Voucher) and used.status == "redeemed" and used.redeemed_store_code == "S1"

    # An error is a Problem, parsed from application/problem+json.
    again = use("rewards.use_voucher").sync_detailed(voucher.code, client=till, body=models.VoucherUse(store_code="S1", receipt_no="0003"))
    assert again.status_code == 409 and isinstance(again.parsed, models.Problem) and again.parsed.status == 409
