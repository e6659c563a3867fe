"""Sortable, paginated tables: the sort key comes from a fixed list of columns, never from the URL as is.

Built for long histories (100,000 trades an account): the page's ids are chosen first on the bare table
(an index or a top-N sort, no joins), then only those rows are read with their related rows; a page past
the middle is read from the other end (a short OFFSET instead of one that walks most of the table); the
row count may be handed in when the caller already has it (the P/L totals count the trades).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest

PER_PAGE = 50


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    order_by: str = ""  # the model field sorted on; empty: not sortable
    num: bool = False
    # Rows without a value go last in both directions (e.g. a statistic of a run not finished); off for indexed
    # columns, whose index is read backwards for a descending sort (NULLS FIRST).
    nulls_last: bool = False


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


class _Rows:
    """What the Paginator slices: ids in the table's order, then the rows of one page with their relations."""

    def __init__(self, qs: QuerySet[Any], ordering: list[Any], related: tuple[str, ...], count: int | None) -> None:
        self.qs, self.ordering, self.related, self._count = qs, ordering, related, count

    def count(self) -> int:
        if self._count is None:
            self._count = self.qs.order_by().count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[Any]:
        start, stop = window.start or 0, min(window.stop or self.count(), self.count())
        if start >= stop:
            return []
        if start > self.count() // 2:  # read a deep page from the far end
            reverse = [_reverse(f) for f in self.ordering]
            far = self.count() - stop
            ids = list(self.qs.order_by(*reverse).values_list("pk", flat=True)[far : far + stop - start])[::-1]
        else:
            ids = list(self.qs.order_by(*self.ordering).values_list("pk", flat=True)[start:stop])
        rows = self.qs.model._default_manager.filter(pk__in=ids).select_related(*self.related).in_bulk()
        return [rows[i] for i in ids if i in rows]


def _reverse(order: Any) -> Any:
    if isinstance(order, OrderBy):  # a nulls-last column: the exact reverse puts them first
        return OrderBy(order.expression, descending=not order.descending, nulls_first=True)
    return order[1:] if order.startswith("-") else f"-{order}"


def table(
    request: HttpRequest,
    qs: QuerySet[Any],
    columns: tuple[Column, ...],
    *,
    default: str,
    per_page: int = PER_PAGE,
    tiebreak: str = "-id",
    related: tuple[str, ...] = (),
    count: int | None = None,
) -> Table:
    """Sort ``qs`` by ``?sort=`` (a column key, ``-`` for descending; unknown keys fall back to ``default``)
    and return the page ``?page=`` (out-of-range pages show the last one) with ``related`` rows joined."""
    sortable = {c.key: c for c in columns if c.order_by}
    sort = request.GET.get("sort", default)
    if sort.lstrip("-") not in sortable:
        sort = default
    column = sortable[sort.lstrip("-")]
    first: Any = f"-{column.order_by}" if sort.startswith("-") else column.order_by
    if column.nulls_last:
        first = OrderBy(F(column.order_by), descending=sort.startswith("-"), nulls_last=True)
    ordering = [first, tiebreak]
    paginator = Paginator(_Rows(qs, ordering, related, count), per_page)  # type: ignore[var-annotated, arg-type]
    number = request.GET.get("page")
    page = paginator.get_page(paginator.num_pages if number == "last" else number)
    return Table(columns=columns, page=page, sort=sort)
