"""Backtest, optimisation and walk-forward forms. The fields are for people (labels, help, pickers); the rules
are the API's: each form hands its values to the API's input serializer, so bounds and cross-checks are the
same, and any refusal is shown next to the field it names.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from rest_framework import serializers

from backtests.api import BacktestRunInputSerializer, OptimizationInputSerializer
from backtests.api_walkforward import WalkForwardInputSerializer
from backtests.models import Engine, SearchMethod, WindowMode
from trading.dashboard.display import statistic_name, timeframe_name
from trading.models import StrategyInstance
from trading.permissions import Action, accounts_q


def _instances(user: Any) -> Any:
    return (
        StrategyInstance.objects.filter(accounts_q(user, Action.TRADE, via="account__"))
        .select_related("instrument")
        .order_by("instance_id")
    )


def _day(value: Any) -> datetime | None:
    return None if value is None else datetime.combine(value, time(), UTC)


class InstanceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StrategyInstance) -> str:
        return f"#{obj.pk} {obj.name} ({obj.instrument.symbol} {timeframe_name(obj.timeframe)})"


class BacktestForm(forms.Form):
    serializer: type[serializers.Serializer] = BacktestRunInputSerializer
    engine_default = Engine.PARITY

    instance = InstanceChoiceField(
        queryset=StrategyInstance.objects.none(), help_text="Its strategy, symbol, timeframe."
    )
    engine = forms.ChoiceField(choices=Engine.choices)
    start = forms.DateField(label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label="To (UTC)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: every stored bar.",
    )
    initial_balance = forms.DecimalField(label="Initial deposit", initial=10000, min_value=1, decimal_places=2)
    spread_points = forms.IntegerField(
        label="Spread (points)", required=False, min_value=0, help_text="Empty: each bar's stored spread."
    )
    commission_per_lot = forms.FloatField(label="Commission per lot", initial=0.0, min_value=0)
    swap_long_per_lot = forms.FloatField(label="Swap long per lot and day", initial=0.0)
    swap_short_per_lot = forms.FloatField(label="Swap short per lot and day", initial=0.0)
    slippage_points = forms.IntegerField(label="Slippage (points)", initial=0, min_value=0)
    min_stop_points = forms.IntegerField(label="Minimum stop distance (points)", initial=0, min_value=0)
    min_stop_mode = forms.ChoiceField(
        label="Stops closer than that",
        choices=[("reject", "Reject the order"), ("widen", "Widen the stop")],
        initial="reject",
    )
    parameters = forms.CharField(
        label="Parameters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text="NAME=value per line, overriding the instance's (e.g. FAST_PERIOD=12). Empty: the instance's own.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["instance"].queryset = _instances(user)  # type: ignore[attr-defined]
        self.fields["engine"].initial = self.engine_default
        self.validated: dict[str, Any] = {}

    def clean_parameters(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for number, line in enumerate((self.cleaned_data.get("parameters") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            try:
                out[name.strip()] = float(value)
            except ValueError:
                sep = ""
            if not sep:
                raise forms.ValidationError(f"line {number}: write NAME=number (was {line.strip()!r})")
        return out

    def api_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {
            "instance": d["instance"].pk,
            "engine": d["engine"],
            "start": _day(d.get("start")),
            "end": _day(d.get("end")),
            "initial_balance": d["initial_balance"],
            "parameters": d["parameters"],
        }
        for name in (
            "spread_points",
            "commission_per_lot",
            "swap_long_per_lot",
            "swap_short_per_lot",
            "slippage_points",
            "min_stop_points",
            "min_stop_mode",
        ):
            data[name] = d.get(name)
        return data

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        serializer = self.serializer(data=self.api_data(), context={"user": self.user})
        if serializer.is_valid():
            self.validated = dict(serializer.validated_data)
        else:
            for field, messages in serializer.errors.items():
                self.add_error(field if field in self.fields else None, [str(m) for m in _flat(messages)])
        return data


def _flat(messages: Any) -> list[Any]:
    if isinstance(messages, dict):
        return [f"{k}: {m}" for k, v in messages.items() for m in _flat(v)]
    if isinstance(messages, list):
        return [m for item in messages for m in _flat(item)]
    return [messages]


def parse_space(text: str) -> dict[str, Any]:
    """``NAME min max step`` or ``NAME v1,v2,v3`` per line: the API's ``space``."""
    space: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        try:
            if len(words) == 4:
                space[words[0]] = {"min": float(words[1]), "max": float(words[2]), "step": float(words[3])}
            elif len(words) == 2:
                space[words[0]] = [float(v) for v in words[1].split(",")]
            else:
                raise ValueError
        except ValueError:
            raise forms.ValidationError(
                f"line {number}: write NAME MIN MAX STEP or NAME v1,v2,v3 (was {line.strip()!r})"
            ) from None
    if not space:
        raise forms.ValidationError("name at least one parameter to optimise")
    return space


class OptimizationForm(BacktestForm):
    serializer = OptimizationInputSerializer
    engine_default = Engine.FAST

    space = forms.CharField(
        label="Parameters to optimise",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 40}),
        help_text="One per line: NAME MIN MAX STEP (e.g. FAST_PERIOD 5 20 5) or NAME v1,v2,v3.",
    )
    method = forms.ChoiceField(choices=SearchMethod.choices, initial=SearchMethod.GRID)
    samples = forms.IntegerField(initial=0, min_value=0, help_text="Random search: how many points (0 = grid).")
    seed = forms.IntegerField(initial=0, min_value=0, help_text="Random search: the same seed draws the same points.")

    def clean_space(self) -> dict[str, Any]:
        return parse_space(self.cleaned_data.get("space") or "")

    def api_data(self) -> dict[str, Any]:
        data = super().api_data()
        d = self.cleaned_data
        data.update(space=d["space"], method=d["method"], samples=d["samples"], seed=d["seed"])
        return data


class WalkForwardForm(OptimizationForm):
    serializer = WalkForwardInputSerializer

    mode = forms.ChoiceField(label="Windows", choices=WindowMode.choices, initial=WindowMode.ROLLING)
    in_sample_days = forms.IntegerField(label="In-sample length (days)", min_value=1, initial=90)
    out_of_sample_days = forms.IntegerField(
        label="Out-of-sample length (days)", min_value=1, initial=30, help_text="Also the step between windows."
    )
    windows = forms.IntegerField(label="Number of windows", min_value=1, initial=4)
    select_by = forms.ChoiceField(label="Best pass by", initial="net_profit")
    select_order = forms.ChoiceField(label="Best is", choices=[("desc", "Highest"), ("asc", "Lowest")], initial="desc")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start"].required = True
        self.fields["start"].help_text = "Start of the first in-sample part."
        del self.fields["end"]
        from backtests.engine.stats import MT_NAMES

        self.fields["select_by"].choices = [(k, statistic_name(k)) for k in MT_NAMES]  # type: ignore[attr-defined]

    def api_data(self) -> dict[str, Any]:
        data = super().api_data()
        d = self.cleaned_data
        data.pop("end", None)
        data.update(
            mode=d["mode"],
            in_sample=timedelta(days=d["in_sample_days"]),
            out_of_sample=timedelta(days=d["out_of_sample_days"]),
            windows=d["windows"],
            select_by=d["select_by"],
            select_order=d["select_order"],
        )
        return data
