"""Small forms of the trading pages: SL/TP change, statement period, API token name."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms

MAX_STATEMENT_DAYS = 20 * 366


class TradeModifyForm(forms.Form):
    stop_loss = forms.DecimalField(
        label="Stop loss", required=False, min_value=0, max_digits=20, decimal_places=10, help_text="Empty: unchanged."
    )
    take_profit = forms.DecimalField(
        label="Take profit",
        required=False,
        min_value=0,
        max_digits=20,
        decimal_places=10,
        help_text="Empty: unchanged.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not self.errors and data.get("stop_loss") is None and data.get("take_profit") is None:
            raise forms.ValidationError("Give a stop loss, a take profit or both.")
        return data


class StatementForm(forms.Form):
    start = forms.DateField(label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (UTC, inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "must be on or after the start")
            elif (end - start).days > MAX_STATEMENT_DAYS:
                self.add_error("end", f"a statement covers at most {MAX_STATEMENT_DAYS} days")
        return data

    def period(self) -> tuple[datetime, datetime]:
        """[start 00:00, day after end 00:00) in UTC."""
        start: date = self.cleaned_data["start"]
        end: date = self.cleaned_data["end"]
        return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


class TokenForm(forms.Form):
    name = forms.CharField(label="Token name", max_length=100, help_text="What it is for, e.g. 'laptop script'.")
