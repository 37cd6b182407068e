"""Domain errors. ``app/errors.py`` maps each to an HTTP problem, in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a use case raises on purpose.

    ``field`` names the input that caused it, when there is one, so the API can point at it.
    """

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """The thing named does not exist (or is not visible to the caller)."""


class Conflict(DomainError):
    """The request contradicts what is already recorded (a reused key with another body, a duplicate)."""


class Forbidden(DomainError):
    """The caller is known but may not do this (a member reporting an action only a service may)."""


class InvalidOperation(DomainError):
    """The request is well-formed but breaks a business rule (returning more than was bought, …)."""


class InsufficientPoints(InvalidOperation):
    """A debit larger than the member's spendable balance."""
