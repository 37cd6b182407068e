"""Pages of a query's rows, for the tables of the back office."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

PER_PAGE = 25


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.items else 0


def page_number(value: str | None) -> int:
    """A page number from the query string: 1 for anything that is not a positive integer."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def paginate(session: Session, query: Select[Any], number: int, *, per_page: int = PER_PAGE, scalars: bool = True) -> Page[Any]:
    """Page ``number`` of ``query`` (ordered by the caller), with the total from one count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(number, max(1, -(-total // per_page)))
    limited = query.limit(per_page).offset((number - 1) * per_page)
    result = session.execute(limited)
    items = list(result.scalars()) if scalars else list(result)
    return Page(items=items, number=number, per_page=per_page, total=total)
