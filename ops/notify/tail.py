"""Reading what changed in another table since the last pass, without hooks in the code that writes it.

Rows are found by primary key. Two things make a plain "id > last" cursor lose rows, and the tail handles both:
- a row's status changes after it was inserted (an order goes NEW → FILLED): rows not yet final stay in
  ``open`` and are read again every pass until they are final;
- ids are taken at insert but become visible at commit, so a lower id can appear after a higher one: the
  cursor only moves up to the highest id seen at least LAG ago (longer than any transaction that writes these
  rows: the task hard time limit), and rows above it that were already handled are remembered in ``done``.

Each row is handed to ``on_final`` exactly once, when first seen final. The state is a small JSON value
stored with the other notifier state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Q

LAG = timedelta(seconds=150)
BATCH = 2000


@dataclass
class Tail:
    """``model`` rows read as ``values(*fields)`` (``pk`` included); ``is_final(row)`` says when a row is settled;
    ``unsettled`` selects the rows that are not (so a fresh cursor watches those already there)."""

    name: str
    model: Any  # a Django model class
    fields: tuple[str, ...]
    is_final: Callable[[dict[str, Any]], bool]
    unsettled: Q | None = None

    def start_state(self) -> dict[str, Any]:
        """A fresh cursor begins at the newest row: history is not announced, but what is still open is watched."""
        last = self.model.objects.aggregate(m=Max("pk"))["m"] or 0
        watched = []
        if self.unsettled is not None:
            watched = list(self.model.objects.filter(self.unsettled, pk__lte=last).values_list("pk", flat=True))
        return {"last": last, "open": sorted(watched), "done": [], "marks": []}

    def read(
        self, state: dict[str, Any] | None, now: datetime, on_final: Callable[[dict[str, Any]], None]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Hand every newly final row to ``on_final``; returns the new state and the rows still open."""
        state = state or self.start_state()
        last: int = state["last"]
        open_ids: set[int] = set(state.get("open", []))
        done: set[int] = set(state.get("done", []))
        query = Q(pk__gt=last) | Q(pk__in=open_ids) if open_ids else Q(pk__gt=last)
        rows = list(self.model.objects.filter(query).order_by("pk").values("pk", *self.fields)[:BATCH])
        still_open: list[dict[str, Any]] = []
        seen_max = last
        for row in rows:
            pk = row["pk"]
            seen_max = max(seen_max, pk)
            if pk in done:
                continue
            if self.is_final(row):
                on_final(row)
                if pk > last:
                    done.add(pk)
            else:
                still_open.append(row)
        marks = [*state.get("marks", []), [now.timestamp(), seen_max]]
        if len(rows) == BATCH:  # more behind: the next pass goes on from here at once
            marks[-1][0] = (now - LAG).timestamp()
        new_last = last
        keep = []
        for at, top in marks:
            if at <= (now - LAG).timestamp():
                new_last = max(new_last, int(top))
            else:
                keep.append([at, top])
        new_state = {
            "last": new_last,
            "open": sorted(row["pk"] for row in still_open if row["pk"] <= new_last),
            "done": sorted(pk for pk in done if pk > new_last),
            "marks": keep,
        }
        return new_state, still_open


def final_in(statuses: Iterable[str], field: str = "status") -> Callable[[dict[str, Any]], bool]:
    wanted = frozenset(statuses)
    return lambda row: row[field] in wanted


def always_final(_row: dict[str, Any]) -> bool:
    return True
