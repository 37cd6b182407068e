"""Staff accounts and logged-in test clients for the back office's server-side tests."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.backoffice.staff import create_staff
from loyalty.clock import FrozenClock
from loyalty.db import session_scope

PASSWORD = "a-long-staff-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; answer the session's CSRF token."""
    token = csrf_of(client.get("/admin/login").get_data(as_text=True))
    response = client.post("/admin/login", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_of(client.get("/admin/password").get_data(as_text=True))


@pytest.fixture
def make_staff(app: Flask, clock: FrozenClock) -> Callable[..., str]:
    """``make_staff("support")``: a staff account of that role (password :data:`PASSWORD`); its email."""

    def make(role: str, email: str | None = None) -> str:
        email = email or f"{role}@brand.example"
        with session_scope(app.extensions["loyalty.sessions"]) as session:
            create_staff(session, email=email, role=role, password=PASSWORD, now=clock.now())
        return email

    return make


class StaffClient:
    """A test client logged in as a staff member, sending the session's CSRF token with its forms."""

    def __init__(self, client: FlaskClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    def get(self, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, object] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


@pytest.fixture
def staff_client(app: Flask, make_staff: Callable[..., str]) -> Callable[[str], StaffClient]:
    """``staff_client("admin")``: a new client logged in as a new staff member of that role."""

    def make(role: str) -> StaffClient:
        client = app.test_client()
        return StaffClient(client, log_in(client, make_staff(role)))

    return make
