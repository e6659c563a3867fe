"""Exceptions raised by the strategy framework binding.

Every ``AsirikuyReturnCode`` maps to one ``FrameworkError`` subclass through the
single table ``ERRORS_BY_CODE``; ``error_for_code`` builds the exception.
"""

from __future__ import annotations


class FrameworkError(Exception):
    """A framework call failed; callers skip this run and log the message."""

    code: int = -1
    summary: str = "framework error"

    def __init__(self, detail: str = "") -> None:
        message = f"{self.summary} (code {self.code})"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)
        self.detail = detail


class FrameworkLoadError(FrameworkError):
    """The library could not be loaded or has an unsupported version; fix the deployment."""

    summary = "cannot load the strategy framework library"

    def __init__(self, detail: str = "") -> None:
        Exception.__init__(self, f"{self.summary}: {detail}" if detail else self.summary)
        self.detail = detail


class UnknownReturnCodeError(FrameworkError):
    """The library returned a code outside the documented table; report it."""

    summary = "undocumented return code"

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        super().__init__(detail)


class SettingsError(ValueError):
    """Strategy settings failed validation before any C call; fix the instance configuration."""

    def __init__(
        self,
        message: str,
        *,
        parameter: str | None = None,
        value: object = None,
        bound: object = None,
    ) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value
        self.bound = bound


class UnknownStrategyError(LookupError):
    """No strategy with this id is in the catalog; the instance cannot be configured."""

    def __init__(self, strategy_id: int) -> None:
        super().__init__(f"unknown strategy id {strategy_id}")
        self.strategy_id = strategy_id


class FrameworkInputError(ValueError):
    """Run inputs cannot be expressed in the ABI (e.g. a time after 2038-01-19); fix the caller."""


class InvalidCurrencyError(FrameworkError):
    """The account currency was rejected."""

    code = 3000
    summary = "invalid currency"


class UnknownSymbolError(FrameworkError):
    """The trade symbol is not known to the library."""

    code = 3001
    summary = "unknown symbol"


class SymbolTooShortError(FrameworkError):
    """The trade symbol is too short to parse."""

    code = 3002
    summary = "symbol too short"


class ParseSymbolFailedError(FrameworkError):
    """The trade symbol could not be parsed."""

    code = 3003
    summary = "symbol parse failed"


class NoConversionSymbolsError(FrameworkError):
    """No symbol converts the quote currency to the account currency."""

    code = 3004
    summary = "no conversion symbols"


class NullPointerError(FrameworkError):
    """A required argument was NULL; a binding bug, report it."""

    code = 3005
    summary = "null pointer argument"


class InvalidStrategyError(FrameworkError):
    """INTERNAL_STRATEGY_ID is not implemented by the loaded library."""

    code = 3006
    summary = "invalid strategy id"


class NotEnoughMarginError(FrameworkError):
    """The account lacks margin for the trade."""

    code = 3007
    summary = "not enough margin"


class SpreadTooWideError(FrameworkError):
    """The spread exceeds MAX_SPREAD (ours skips entries instead)."""

    code = 3008
    summary = "spread too wide"


class NotEnoughRatesDataError(FrameworkError):
    """A rates slot holds fewer bars than required; fetch more history."""

    code = 3009
    summary = "not enough rates data"


class WorstCaseScenarioError(FrameworkError):
    """The drawdown limit was reached; the library stopped trading."""

    code = 3010
    summary = "worst case scenario reached"


class NormalizeBarsFailedError(FrameworkError):
    """Bars could not be normalised; check the history."""

    code = 3011
    summary = "bar normalisation failed"


class InitLogFailedError(FrameworkError):
    """The library could not open its log file."""

    code = 3012
    summary = "log initialisation failed"


class DeinitLogFailedError(FrameworkError):
    """The library could not close its log file."""

    code = 3013
    summary = "log shutdown failed"


class ZeroDivideError(FrameworkError):
    """A library computation divided by zero."""

    code = 3014
    summary = "division by zero"


class TaLibError(FrameworkError):
    """An indicator computation failed inside the library."""

    code = 3015
    summary = "TA-Lib error"


class InvalidTimeOffsetError(FrameworkError):
    """A time-zone offset is invalid."""

    code = 3016
    summary = "invalid time offset"


class InvalidParameterError(FrameworkError):
    """A setting, order, price, account value or rates description was rejected."""

    code = 3017
    summary = "invalid parameter"


class NnTrainingFailedError(FrameworkError):
    """A neural-network strategy failed to train."""

    code = 3018
    summary = "NN training failed"


class UnknownTimezoneError(FrameworkError):
    """The broker or reference broker name is not in the time-zone table."""

    code = 3019
    summary = "unknown broker time zone"


class LocalTzMismatchError(FrameworkError):
    """The local clock disagrees with the reference time."""

    code = 3020
    summary = "local time-zone mismatch"


class BrokerTzMismatchError(FrameworkError):
    """The broker time disagrees with the reference time."""

    code = 3021
    summary = "broker time-zone mismatch"


class TooManyInstancesError(FrameworkError):
    """The library already holds 200 instances; deinit some first."""

    code = 3022
    summary = "too many instances"


class InvalidConfigError(FrameworkError):
    """The config path was NULL or invalid."""

    code = 3023
    summary = "invalid config"


class MissingConfigError(FrameworkError):
    """The config file was not found."""

    code = 3024
    summary = "missing config"


class InitXmlFailedError(FrameworkError):
    """The config XML could not be parsed."""

    code = 3025
    summary = "config XML failed"


class UnknownInstanceIdError(FrameworkError):
    """STRATEGY_INSTANCE_ID is not registered; call ensure_instance first."""

    code = 3026
    summary = "unknown instance id"


class InsufficientMemoryError(FrameworkError):
    """The library ran out of memory."""

    code = 3027
    summary = "insufficient memory"


class WaitForInitError(FrameworkError):
    """Another thread is initialising the library; retry shortly."""

    code = 3028
    summary = "wait for init"


class ErrorInRatesRetrievalError(FrameworkError):
    """Rates could not be read."""

    code = 3029
    summary = "rates retrieval failed"


class BidAskIsZeroError(FrameworkError):
    """The bid or ask is below 1e-9; the price feed is broken."""

    code = 3030
    summary = "bid or ask is zero"


class FileWritingError(FrameworkError):
    """The library could not write a file."""

    code = 3031
    summary = "file writing failed"


class StrategyError(FrameworkError):
    """A Python strategy failed on its own (not its inputs); recorded on the execution, the batch goes on.

    Codes are negative: they are ours, never a library return code (not in ERRORS_BY_CODE).
    """

    code = -100
    summary = "python strategy failed"


class StrategyCodeError(StrategyError):
    """The strategy's code raised (on_bar, its constructor or its check); fix the strategy file."""

    code = -101
    summary = "python strategy raised"


class StrategyTimeoutError(StrategyError):
    """on_bar ran past the strategy's time limit and was interrupted; its object is created anew next time."""

    code = -102
    summary = "python strategy timed out"


class StrategyOutputError(StrategyError):
    """on_bar returned something that is not OrderSignals (or invalid ones); nothing of it was used."""

    code = -103
    summary = "python strategy returned garbage"


class ForeignLibraryError(FrameworkError):
    """A library we did not write failed in its supervised process; recorded on the execution, the batch goes on.

    Codes are negative (ours, never a library return code). The process is started again on the next call.
    """

    code = -200
    summary = "framework library process failed"


class LibraryCrashError(ForeignLibraryError):
    """The library process died during the call (a segfault, an abort, a signal); its other instances re-init."""

    code = -201
    summary = "framework library crashed"


class LibraryTimeoutError(ForeignLibraryError):
    """The call did not return within the per-call time limit; the library process was killed."""

    code = -202
    summary = "framework library call timed out"


ERRORS_BY_CODE: dict[int, type[FrameworkError]] = {
    cls.code: cls
    for cls in (
        InvalidCurrencyError,
        UnknownSymbolError,
        SymbolTooShortError,
        ParseSymbolFailedError,
        NoConversionSymbolsError,
        NullPointerError,
        InvalidStrategyError,
        NotEnoughMarginError,
        SpreadTooWideError,
        NotEnoughRatesDataError,
        WorstCaseScenarioError,
        NormalizeBarsFailedError,
        InitLogFailedError,
        DeinitLogFailedError,
        ZeroDivideError,
        TaLibError,
        InvalidTimeOffsetError,
        InvalidParameterError,
        NnTrainingFailedError,
        UnknownTimezoneError,
        LocalTzMismatchError,
        BrokerTzMismatchError,
        TooManyInstancesError,
        InvalidConfigError,
        MissingConfigError,
        InitXmlFailedError,
        UnknownInstanceIdError,
        InsufficientMemoryError,
        WaitForInitError,
        ErrorInRatesRetrievalError,
        BidAskIsZeroError,
        FileWritingError,
    )
}


def error_for_code(code: int, detail: str = "") -> FrameworkError:
    """Return the exception for a non-zero return code."""
    cls = ERRORS_BY_CODE.get(code)
    if cls is None:
        return UnknownReturnCodeError(code, detail)
    return cls(detail)
