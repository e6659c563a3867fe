"""The instance form: a strategy picker from the catalog, the chosen strategy's parameters as fields (default,
bounds and help from the catalog), instrument and timeframe pickers, rates slots and risk settings.

The form checks types and bounds field by field; the catalog's rules between fields (FAST_PERIOD below
SLOW_PERIOD, slots) come from ``instance_validate``, the same check the service runs, so messages sit next to
the field they are about.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse

from framework import UnknownStrategyError, get_strategy, strategy_catalog
from framework.catalog import StrategySpec
from trading.models import BrokerAccount, Instrument, OperationalMode, StrategyInstance, Timeframe
from trading.models.instances import INT32_MAX
from trading.permissions import Action, accounts_for
from trading.services.instance_validation import instance_validate

PARAM_PREFIX = "param_"
_FIELD_OF = {"strategy_id": "strategy", "parameters": None, "rates_slots": "rates_slots", "instance_id": "instance_id"}


def strategy_choices() -> list[tuple[int, str]]:
    return [
        (spec.id, f"{spec.name}: {spec.description}" if spec.description else spec.name) for spec in strategy_catalog()
    ]


def _number(value: float) -> str:
    return f"{value:g}"


def param_field(param: Any) -> forms.Field:
    """A form field for one catalog parameter: whole or decimal number, its bounds, default and help."""
    help_text = f"{param.description} Range {_number(param.minimum)} to {_number(param.maximum)}; default {_number(param.default)}."
    if param.integer:
        return forms.IntegerField(
            label=param.name,
            min_value=int(param.minimum),
            max_value=int(param.maximum),
            initial=int(param.default),
            help_text=help_text,
        )
    return forms.FloatField(
        label=param.name,
        min_value=param.minimum,
        max_value=param.maximum,
        initial=param.default,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


def slots_text(slots: list[dict[str, Any]] | None) -> str:
    """Rates slots as the form shows them: one ``SYMBOL TIMEFRAME BARS`` per line."""
    return "\n".join(
        f"{s.get('symbol', '')} {Timeframe(s['timeframe']).label} {s['bars']}".strip() for s in slots or []
    )


def parse_slots(text: str) -> list[dict[str, Any]]:
    """Parse ``SYMBOL TIMEFRAME BARS`` lines (the symbol may be left out: the instance's instrument)."""
    names = {label: int(value) for value, label in Timeframe.choices}
    slots: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) not in (2, 3):
            raise forms.ValidationError(
                f"line {number}: write SYMBOL TIMEFRAME BARS, e.g. EURUSD H1 250 (was {line!r})"
            )
        symbol, tf, bars = words if len(words) == 3 else ("", *words)
        if tf.upper() not in names:
            raise forms.ValidationError(f"line {number}: timeframe {tf!r} is not one of {', '.join(names)}")
        if not bars.isdigit():
            raise forms.ValidationError(f"line {number}: bars {bars!r} is not a whole number")
        slot: dict[str, Any] = {"timeframe": names[tf.upper()], "bars": int(bars)}
        if symbol:
            slot["symbol"] = symbol.upper()
        slots.append(slot)
    return slots


class InstanceForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Shown everywhere the instance is.")
    account: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=BrokerAccount.objects.none(), help_text="Accounts you may trade on."
    )
    strategy = forms.TypedChoiceField(coerce=int, choices=(), help_text="From the strategy catalog.")
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.order_by("symbol"), to_field_name="symbol")
    timeframe = forms.TypedChoiceField(coerce=int, choices=Timeframe.choices, initial=Timeframe.H1)
    risk_percent = forms.DecimalField(
        label="Risk per trade (% of equity)",
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        decimal_places=3,
        initial=Decimal("0.5"),
        help_text="Position size is the equity share lost if the stop loss is hit.",
    )
    max_open_orders = forms.IntegerField(label="Maximum open orders", min_value=0, max_value=200, initial=1)
    max_spread = forms.DecimalField(
        label="Maximum spread (price units)",
        min_value=Decimal("0"),
        max_digits=20,
        decimal_places=10,
        initial=Decimal("0"),
        help_text="0 = no spread filter.",
    )
    operational_mode = forms.TypedChoiceField(
        label="Mode", coerce=int, choices=OperationalMode.choices, initial=OperationalMode.ENABLE
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="Runs at every bar close when enabled.")
    rates_slots = forms.CharField(
        label="Rates slots",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 30}),
        help_text="One slot per line: SYMBOL TIMEFRAME BARS (e.g. EURUSD H4 300). Empty: the strategy's own slots.",
    )
    instance_id = forms.IntegerField(
        label="Magic number",
        required=False,
        min_value=1,
        max_value=INT32_MAX,
        help_text="Tags every order at the broker. Empty: the next free number.",
    )

    def __init__(self, *args: Any, user: Any, instance: StrategyInstance | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["account"].queryset = accounts_for(user, Action.TRADE)  # type: ignore[attr-defined]
        self.fields["strategy"].choices = [("", "Pick a strategy"), *strategy_choices()]  # type: ignore[attr-defined]
        # Picking another strategy swaps in its parameter fields (htmx; without JavaScript, Save shows them).
        self.fields["strategy"].widget.attrs.update(
            {"hx-get": reverse("dashboard:instance-params"), "hx-target": "#params", "hx-swap": "outerHTML"}
        )
        if instance is not None:  # editing: the account and magic number stay
            del self.fields["account"], self.fields["instance_id"]
        self.spec = self._chosen_spec()
        if self.spec is not None:
            for param in self.spec.params:
                self.fields[PARAM_PREFIX + param.name] = param_field(param)

    def _chosen_spec(self) -> StrategySpec | None:
        raw = self.data.get("strategy") if self.is_bound else self.initial.get("strategy")
        try:
            return get_strategy(int(str(raw)))
        except (TypeError, ValueError, UnknownStrategyError):
            return None

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(PARAM_PREFIX)]

    def market_fields(self) -> list[forms.BoundField]:
        names = ("name", "account", "strategy", "instrument", "timeframe", "instance_id")
        return [self[name] for name in names if name in self.fields]

    def risk_fields(self) -> list[forms.BoundField]:
        names = ("risk_percent", "max_open_orders", "max_spread", "operational_mode", "enabled", "rates_slots")
        return [self[name] for name in names]

    def clean_rates_slots(self) -> list[dict[str, Any]]:
        return parse_slots(self.cleaned_data.get("rates_slots") or "")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.spec is None or self.errors:
            return data
        data["parameters"] = {p.name: data[PARAM_PREFIX + p.name] for p in self.spec.params}
        errors = instance_validate(
            strategy_id=self.spec.id,
            timeframe=data.get("timeframe"),
            parameters=data["parameters"],
            rates_slots=data.get("rates_slots"),
            max_spread=data.get("max_spread"),
            risk_percent=data.get("risk_percent"),
            max_open_orders=data.get("max_open_orders"),
        )
        self.add_service_errors(errors)
        return data

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Place a service's errors by field name next to the form field they name (the rest on top)."""
        for field, messages in errors.items():
            target = _FIELD_OF.get(field, field)
            self.add_error(target if target in self.fields else None, messages)

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values as ``instance_create``/``instance_update`` take them."""
        d = self.cleaned_data
        fields = {
            "name": d["name"],
            "instrument": d["instrument"],
            "strategy_id": d["strategy"],
            "timeframe": d["timeframe"],
            "parameters": d["parameters"],
            "rates_slots": d["rates_slots"],
            "risk_percent": d["risk_percent"],
            "max_open_orders": d["max_open_orders"],
            "max_spread": d["max_spread"],
            "operational_mode": d["operational_mode"],
            "enabled": d["enabled"],
        }
        if self.instance is None:
            fields["account"] = d["account"]
            fields["instance_id"] = d.get("instance_id")
        return fields


def initial_from(instance: StrategyInstance, *, clone: bool = False) -> dict[str, Any]:
    """Form values of an existing instance (for editing, or for a clone: a new name, a new magic number)."""
    initial: dict[str, Any] = {
        "name": f"{instance.name} (copy)"[:100] if clone else instance.name,
        "account": instance.account_id,
        "strategy": instance.strategy_id,
        "instrument": instance.instrument.symbol,
        "timeframe": instance.timeframe,
        "risk_percent": instance.risk_percent,
        "max_open_orders": instance.max_open_orders,
        "max_spread": instance.max_spread,
        "operational_mode": instance.operational_mode,
        "enabled": False if clone else instance.enabled,
        "rates_slots": slots_text(instance.rates_slots),
    }
    for name, value in (instance.parameters or {}).items():
        initial[PARAM_PREFIX + name] = value
    return initial
