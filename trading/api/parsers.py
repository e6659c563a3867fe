"""A JSON parser that refuses what no field of this API can hold, naming where it was found.

Python's json reads ``NaN``, ``Infinity``, ``1e400`` (as infinity) and integers of any size, and recurses once
per nesting level; any of those used to reach a model, numpy or the C library and end as an HTTP 500. Here
every number must be a finite double or fit a signed 64-bit integer, no text holds a NUL character (PostgreSQL
refuses them), nesting is capped, and the error names
the path of the value (``parameters.FAST_PERIOD``) under the top-level field it belongs to.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

INT64_MAX = 2**63 - 1
MAX_DEPTH = 32


def _bad(path: list[str], reason: str) -> exceptions.ValidationError:
    field = path[0] if path else "non_field_errors"
    where = ".".join(path) if path else "the body"
    return exceptions.ValidationError({field: [f"{where}: {reason}"]})


def _check(value: Any, path: list[str]) -> None:
    if len(path) > MAX_DEPTH:
        raise _bad(path[:1], f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise _bad(path, "contains a NUL character, which no text field can store")
        return
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if abs(value) > INT64_MAX:
            shown = str(value)
            raise _bad(path, f"{shown[:20]}… ({len(shown)} digits) is too large: numbers must fit a 64-bit integer")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(path, f"{value} is not a finite number")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise _bad(path, "a key contains a NUL character")
            _check(item, [*path, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, [*path, str(index)])


def _constant(name: str) -> float:
    return float(name.replace("Infinity", "inf"))  # NaN / ±Infinity: refused by _check with their path


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_constant=_constant)
        except RecursionError:
            raise exceptions.ParseError(f"JSON parse error - nested too deeply (at most {MAX_DEPTH} levels)") from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        _check(data, [])
        return data


def _check_form(data: Any) -> None:
    for key in data:
        for value in data.getlist(key) if hasattr(data, "getlist") else [data[key]]:
            if "\x00" in key or (isinstance(value, str) and "\x00" in value):
                raise _bad([key.replace("\x00", "")], "contains a NUL character, which no text field can store")


class StrictFormParser(FormParser):
    """Form bodies: a NUL character in any field is a 400 naming it (the database refuses them)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _check_form(data)
        return data


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        _check_form(parsed.data)
        return parsed
