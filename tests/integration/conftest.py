"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from loyalty.ledger.operations import members_out_of_balance, members_with_lots_out_of_step
from tests.integration.concurrency import Together


@pytest.fixture
def together(app: Flask) -> Together:
    """``together(50, request)``: ``request(client, index)`` from 50 threads released at once."""
    return Together(app)


@pytest.fixture
def points_stay_consistent(sessions: sessionmaker[Session]) -> Iterator[None]:
    """After the test, every member's balance equals the sum of their ledger entries, and their open
    point lots hold exactly their positive balance."""
    yield
    with sessions() as session:
        assert members_out_of_balance(session) == []
        assert members_with_lots_out_of_step(session) == []
