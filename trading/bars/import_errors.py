"""Why a file could not be imported, as one line that names the file (and the line when there is one).

The command, the upload API and the admin all answer a bad file with this text: never a traceback.
"""

from __future__ import annotations

from trading.bars.validation import BarImportError

# What reading a malformed file can raise below the parsers' own checks (a truncated JSON, a field of the
# wrong type, a date past what datetime holds...). Anything else is a bug and is left to propagate.
READ_ERRORS = (
    BarImportError,
    UnicodeError,
    RecursionError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
)


def import_error_message(error: BaseException, file: str) -> str:
    """The one-line reason ``file`` was refused, naming it first."""
    if isinstance(error, UnicodeDecodeError):
        line = error.object[: error.start].count(b"\n") + 1 if isinstance(error.object, bytes) else None
        where = f"line {line}, byte {error.start}" if line else f"byte {error.start}"
        return f"{file}: not UTF-8 text ({where}): {error.reason}; save it as UTF-8 and import again"
    if isinstance(error, RecursionError):
        return f"{file}: nested too deeply to be a file of bars"
    if isinstance(error, OSError):
        return f"{file}: cannot be read: {error.strerror or error}"
    if isinstance(error, BarImportError):
        text = str(error)
        return text if file in text else f"{file}: {text}"
    return f"{file}: not a file of bars in the expected format ({type(error).__name__}: {str(error)[:200]})"
