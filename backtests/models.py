"""Stored backtests: one BacktestRun (inputs, statistics, a downsampled curve) and its trades."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


STATUS_LENGTH = 12


class Tracked(models.Model):
    """Where a piece of work stands: its status, the error that stopped it and when it ended."""

    status = models.CharField(max_length=STATUS_LENGTH, choices=RunStatus.choices, default=RunStatus.PENDING)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Job(Tracked):
    """A piece of work queued on Celery as one task: its task id and when it was created and started."""

    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class StrategyInputs(models.Model):
    """The strategy, market and money a test ran with, copied from the instance so it can be repeated."""

    strategy_id = models.PositiveIntegerField()
    symbol = models.CharField(max_length=20)
    timeframe = models.PositiveIntegerField()
    initial_balance = models.DecimalField(max_digits=20, decimal_places=2, default=10000)
    account_currency = models.CharField(max_length=3, default="USD")
    costs = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class BacktestResults(models.Model):
    """What one backtest produced, for a run and for an optimisation pass alike."""

    statistics = models.JSONField(default=dict, blank=True)
    bars_tested = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(default=0.0)

    class Meta:
        abstract = True


class Engine(models.TextChoices):
    PARITY = "parity", "Parity (Framework.run, live translation rules)"
    FAST = "fast", "Fast (bar loop in C)"


class BacktestRun(Job, StrategyInputs, BacktestResults):
    """One backtest of an instance's strategy over stored bars, with everything needed to repeat it."""

    instance = models.ForeignKey(
        "trading.StrategyInstance", null=True, blank=True, on_delete=models.SET_NULL, related_name="backtests"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    engine = models.CharField(max_length=8, choices=Engine.choices, default=Engine.PARITY)
    progress = models.FloatField(default=0.0, help_text="0..1")
    # Inputs (and StrategyInputs)
    parameters = models.JSONField(default=dict, blank=True, help_text="Strategy parameters used (instance + overrides)")
    start = models.DateTimeField(null=True, blank=True, help_text="First tested bar open (UTC); empty = all data")
    end = models.DateTimeField(null=True, blank=True, help_text="Last tested bar open (UTC); empty = all data")
    library_path = models.CharField(max_length=500, blank=True)
    library_version = models.CharField(max_length=32, blank=True)
    # Results (and BacktestResults)
    first_bar = models.DateTimeField(null=True, blank=True)
    last_bar = models.DateTimeField(null=True, blank=True)
    curve = models.JSONField(default=dict, blank=True, help_text="Downsampled time/balance/equity")
    rejected_orders = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Backtest {self.pk} {self.symbol} {self.engine} ({self.status})"


class BacktestTrade(models.Model):
    """One simulated trade; prices on the instrument's grid, money in the account currency."""

    run = models.ForeignKey(BacktestRun, on_delete=models.CASCADE, related_name="trades")
    ticket = models.PositiveIntegerField()
    side = models.CharField(max_length=4)
    order_type = models.CharField(max_length=8)
    units = models.DecimalField(max_digits=20, decimal_places=6)
    open_time = models.DateTimeField()
    close_time = models.DateTimeField()
    open_price = models.DecimalField(max_digits=20, decimal_places=10)
    close_price = models.DecimalField(max_digits=20, decimal_places=10)
    stop_loss = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    take_profit = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    pl = models.DecimalField(max_digits=20, decimal_places=6)
    commission = models.DecimalField(max_digits=20, decimal_places=6)
    swap = models.DecimalField(max_digits=20, decimal_places=6)
    profit = models.DecimalField(max_digits=20, decimal_places=6)
    balance = models.DecimalField(max_digits=20, decimal_places=6)
    close_reason = models.CharField(max_length=16)

    class Meta:
        ordering = ["run", "close_time", "ticket"]
        indexes = [models.Index(fields=["run", "close_time"])]

    def __str__(self) -> str:
        return f"#{self.ticket} {self.side} {self.units}"


class SearchMethod(models.TextChoices):
    GRID = "grid", "Grid (every combination)"
    RANDOM = "random", "Random (uniform samples)"


class SearchSettings(models.Model):
    """How a parameter search draws its points, shared by an optimisation and each window of a walk-forward."""

    method = models.CharField(max_length=8, choices=SearchMethod.choices, default=SearchMethod.GRID)
    space = models.JSONField(help_text="{parameter: {min, max, step}} or {parameter: [values]}")
    samples = models.PositiveIntegerField(default=0, help_text="Random search: number of passes")
    seed = models.BigIntegerField(default=0)
    engine = models.CharField(max_length=8, choices=Engine.choices, default=Engine.FAST)
    base_parameters = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class Optimization(StrategyInputs, SearchSettings):
    """A search over an instance's parameters: one OptimizationPass (a backtest, one Celery task) per point."""

    instance = models.ForeignKey(
        "trading.StrategyInstance", null=True, blank=True, on_delete=models.SET_NULL, related_name="optimizations"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=STATUS_LENGTH, choices=RunStatus.choices, default=RunStatus.PENDING)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    passes_total = models.PositiveIntegerField(default=0)
    passes_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Optimisation {self.pk} {self.symbol} {self.method} ({self.passes_done}/{self.passes_total})"


class OptimizationPass(Tracked, BacktestResults):
    """One point of an optimisation: its parameters and the statistics of its backtest."""

    optimization = models.ForeignKey(Optimization, on_delete=models.CASCADE, related_name="passes")
    index = models.PositiveIntegerField()
    parameters = models.JSONField()
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["optimization", "index"]
        constraints = [models.UniqueConstraint(fields=["optimization", "index"], name="optimization_pass_unique")]

    def __str__(self) -> str:
        return f"Pass {self.index} of optimisation {self.optimization_id}"


class WindowMode(models.TextChoices):
    ROLLING = "rolling", "Rolling (the in-sample start moves with each window)"
    ANCHORED = "anchored", "Anchored (every in-sample part starts at the first window's start)"


class WalkForward(Job, StrategyInputs, SearchSettings):
    """Walk-forward analysis: per window, optimise in-sample, test the best pass out-of-sample, stitch the OOS parts."""

    instance = models.ForeignKey(
        "trading.StrategyInstance", null=True, blank=True, on_delete=models.SET_NULL, related_name="walk_forwards"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    mode = models.CharField(max_length=8, choices=WindowMode.choices, default=WindowMode.ROLLING)
    start = models.DateTimeField(help_text="Start of the first in-sample part (UTC)")
    in_sample = models.DurationField(help_text="Length of each rolling in-sample part (the first one when anchored)")
    out_of_sample = models.DurationField(help_text="Length of each out-of-sample part; also the step")
    windows = models.PositiveIntegerField()
    select_by = models.CharField(max_length=40, default="net_profit", help_text="Statistic that picks the best pass")
    select_descending = models.BooleanField(default=True, help_text="Highest value wins (False: lowest)")
    # Results
    windows_optimised = models.PositiveIntegerField(default=0, help_text="Windows whose in-sample search finished")
    windows_done = models.PositiveIntegerField(default=0, help_text="Windows tested out-of-sample")
    efficiency = models.FloatField(null=True, blank=True, help_text="mean annualised OOS return / mean annualised IS")
    parameter_stability = models.JSONField(default=dict, blank=True, help_text="{parameter: {mean, std, cv}}")
    statistics = models.JSONField(default=dict, blank=True, help_text="Statistics of the stitched OOS run")
    curve = models.JSONField(default=dict, blank=True, help_text="Stitched OOS time/balance/equity (downsampled)")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Walk-forward {self.pk} {self.symbol} {self.mode} x{self.windows} ({self.status})"


class ModelArtifact(models.Model):
    """A trained model of a Python strategy: its bytes, what it was trained on and a content hash.

    Instances use one by reference (their MODEL_ID parameter); a walk-forward trains one per window on the
    window's in-sample bars only. The bytes are written by the platform (framework.pystrategy.artifacts);
    ``sha256`` is checked on every load.
    """

    strategy_id = models.PositiveIntegerField()
    instrument = models.ForeignKey("trading.Instrument", on_delete=models.PROTECT, related_name="model_artifacts")
    timeframe = models.PositiveIntegerField()
    train_start = models.DateTimeField(help_text="Open time of the first training bar")
    train_end = models.DateTimeField(help_text="Open time of the last training bar (labels included)")
    bars = models.PositiveIntegerField(help_text="Training bars")
    parameters = models.JSONField(default=dict, blank=True, help_text="Strategy parameters it was trained with")
    library_versions = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the payload")
    payload = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Model {self.pk} of strategy {self.strategy_id} ({self.sha256[:12]})"


class WalkForwardWindow(models.Model):
    """One window: its in-sample optimisation, the chosen parameters and both statistics. Ranges are [start, end)."""

    walk_forward = models.ForeignKey(WalkForward, on_delete=models.CASCADE, related_name="window_rows")
    index = models.PositiveIntegerField()
    in_sample_start = models.DateTimeField()
    in_sample_end = models.DateTimeField()
    out_of_sample_start = models.DateTimeField()
    out_of_sample_end = models.DateTimeField()
    optimization = models.ForeignKey(
        Optimization, null=True, blank=True, on_delete=models.SET_NULL, related_name="walk_forward_windows"
    )
    status = models.CharField(max_length=STATUS_LENGTH, choices=RunStatus.choices, default=RunStatus.PENDING)
    optimised_at = models.DateTimeField(null=True, blank=True, help_text="When its in-sample search finished")
    parameters = models.JSONField(default=dict, blank=True, help_text="Parameters of the best in-sample pass")
    in_sample_statistics = models.JSONField(default=dict, blank=True)
    out_of_sample_statistics = models.JSONField(default=dict, blank=True)
    in_sample_return = models.FloatField(null=True, blank=True, help_text="Annualised (simple) in-sample return")
    out_of_sample_return = models.FloatField(null=True, blank=True, help_text="Annualised (simple) OOS return")
    efficiency = models.FloatField(null=True, blank=True, help_text="OOS return / IS return (IS return > 0 only)")
    start_balance = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    end_balance = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    error = models.TextField(blank=True)
    model = models.ForeignKey(
        ModelArtifact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="walk_forward_windows",
        help_text="The model this window trained on its in-sample bars (trainable strategies only)",
    )

    class Meta:
        ordering = ["walk_forward", "index"]
        constraints = [models.UniqueConstraint(fields=["walk_forward", "index"], name="walk_forward_window_unique")]

    def __str__(self) -> str:
        return f"Window {self.index} of walk-forward {self.walk_forward_id}"


class DriftVerdict(models.TextChoices):
    MATCH = "match", "Match (same trades at the same prices)"
    PRICE_DRIFT = "price_drift", "Same trades, prices or P/L differ"
    TRADE_DRIFT = "trade_drift", "Trades only live or only in the replay"


class DriftMatch(models.TextChoices):
    BOTH = "both", "Live and replay"
    LIVE_ONLY = "live_only", "Only live"
    BACKTEST_ONLY = "backtest_only", "Only in the replay"


class DriftReport(Job, StrategyInputs):
    """Live (or paper) trading of an instance over a period against a parity replay of the same bars."""

    instance = models.ForeignKey(
        "trading.StrategyInstance", null=True, blank=True, on_delete=models.SET_NULL, related_name="drift_reports"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    start = models.DateTimeField(help_text="First bar open of the period (UTC)")
    end = models.DateTimeField(help_text="Last bar open of the period (UTC)")
    tolerance_seconds = models.PositiveIntegerField(help_text="Open times this close (same side) are the same trade")
    parameters = models.JSONField(default=dict, blank=True)
    initial_balance = models.DecimalField(
        max_digits=20, decimal_places=2, help_text="Account balance at the start (the replay starts from it)"
    )
    # Results
    bars_replayed = models.PositiveIntegerField(default=0)
    live_executions = models.PositiveIntegerField(default=0)
    live_executions_failed = models.PositiveIntegerField(default=0, help_text="Failed or skipped live runs")
    matched = models.PositiveIntegerField(default=0)
    live_only = models.PositiveIntegerField(default=0)
    backtest_only = models.PositiveIntegerField(default=0)
    close_reason_differences = models.PositiveIntegerField(default=0)
    live_profit = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    backtest_profit = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    profit_difference = models.DecimalField(
        max_digits=20, decimal_places=6, default=0, help_text="Live - replay, matched trades closed in the period"
    )
    entry_slippage = models.DecimalField(
        max_digits=20,
        decimal_places=6,
        default=0,
        help_text="Account currency, matched trades; positive = live filled worse",
    )
    exit_slippage = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    verdict = models.CharField(max_length=12, choices=DriftVerdict.choices, blank=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Drift {self.pk} #{self.instance_id} {self.start:%Y-%m-%d %H:%M}..{self.end:%Y-%m-%d %H:%M}"


class DriftTrade(models.Model):
    """One row of a drift report: a live trade, its replayed twin, or one without the other."""

    report = models.ForeignKey(DriftReport, on_delete=models.CASCADE, related_name="rows")
    index = models.PositiveIntegerField()
    match = models.CharField(max_length=16, choices=DriftMatch.choices)
    side = models.CharField(max_length=4)
    live_trade = models.ForeignKey("trading.Trade", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    live_signal_bar = models.DateTimeField(null=True, blank=True, help_text="Bar of the live run that opened it")
    live_units = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    live_open_time = models.DateTimeField(null=True, blank=True)
    live_open_price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    live_close_time = models.DateTimeField(null=True, blank=True)
    live_close_price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    live_profit = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    live_close_reason = models.CharField(max_length=16, blank=True)
    backtest_ticket = models.PositiveIntegerField(null=True, blank=True)
    backtest_units = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    backtest_open_time = models.DateTimeField(null=True, blank=True)
    backtest_open_price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    backtest_close_time = models.DateTimeField(null=True, blank=True)
    backtest_close_price = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    backtest_profit = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    backtest_close_reason = models.CharField(max_length=16, blank=True)
    open_offset_seconds = models.IntegerField(null=True, blank=True, help_text="Live open time - replay open time")
    entry_slippage_points = models.IntegerField(null=True, blank=True, help_text="Positive = live filled worse")
    entry_slippage = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    exit_slippage_points = models.IntegerField(null=True, blank=True, help_text="Positive = live filled worse")
    exit_slippage = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    profit_difference = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="Live - replay (both closed in the period)"
    )
    close_reason_differs = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["report", "index"]
        constraints = [models.UniqueConstraint(fields=["report", "index"], name="drift_trade_unique")]

    def __str__(self) -> str:
        return f"Row {self.index} of drift {self.report_id} ({self.match})"
