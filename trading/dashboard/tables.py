"""Sortable, paginated tables: the sort key comes from a fixed list of columns, never from the URL as is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PER_PAGE = 50


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    order_by: str = ""  # the model field sorted on; empty: not sortable
    num: bool = False


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    page: Page
    sort: str  # "key" or "-key"

    @property
    def rows(self) -> Any:
        return self.page.object_list

    def header(self) -> list[tuple[Column, str]]:
        """Each column with its direction mark: "asc", "desc" or "" (not the sort column)."""
        key, descending = self.sort.lstrip("-"), self.sort.startswith("-")
        return [(c, ("desc" if descending else "asc") if c.key == key else "") for c in self.columns]


def table(
    request: HttpRequest,
    qs: QuerySet[Any],
    columns: tuple[Column, ...],
    *,
    default: str,
    per_page: int = PER_PAGE,
    tiebreak: str = "-id",
) -> Table:
    """Sort ``qs`` by ``?sort=`` (a column key, ``-`` for descending; unknown keys fall back to ``default``)
    and return the page ``?page=`` (out-of-range pages show the last one)."""
    sortable = {c.key: c.order_by for c in columns if c.order_by}
    sort = request.GET.get("sort", default)
    if sort.lstrip("-") not in sortable:
        sort = default
    field = sortable[sort.lstrip("-")]
    ordering = [f"-{field}" if sort.startswith("-") else field, tiebreak]
    page = Paginator(qs.order_by(*ordering), per_page).get_page(request.GET.get("page"))
    return Table(columns=columns, page=page, sort=sort)
