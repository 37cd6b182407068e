"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.integration.concurrency import Together


@pytest.fixture
def together(app: Flask) -> Together:
    """``together(50, request)``: ``request(client, index)`` from 50 threads released at once."""
    return Together(app)
