"""The one bounded JSON reading for every body the platform parses.

``read_json`` turns raw request bytes (or text) into Python values, or raises a *public*
domain error the resolvers answer with the platform's error body:

- more than ``max_bytes`` → :class:`PayloadTooLarge` (413), decided before any parsing;
- not UTF-8 (or text with lone surrogates) → :class:`MalformedRequest` (400);
- not JSON, ``NaN``/``Infinity``, a float that overflows → 400;
- nesting deeper than :data:`MAX_DEPTH` → 400 (CPython's parser would otherwise raise
  ``RecursionError`` at ~1,000 levels and the function answer 502);
- an integer with more than :data:`MAX_INT_DIGITS` digits → 400 (CPython refuses to
  convert more than 4,300 digits with ``ValueError``; 38 digits is DynamoDB's precision,
  far beyond any count or amount in cents).

The API resolvers (``atende_shared.http.build_resolver``) read every body through it;
webhook ingress can call it on the raw body it has already verified.
"""

from __future__ import annotations

import json
import math
from typing import Any

from atende_shared.errors import MalformedRequest, PayloadTooLarge

MAX_DEPTH = 32
MAX_INT_DIGITS = 38

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "decode_utf8", "read_json"]


class _Refused(ValueError):
    """Raised from inside the parser's hooks; becomes MalformedRequest."""


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("a number is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def _depth_within(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def decode_utf8(raw: bytes) -> str:
    """``raw`` as text, or :class:`MalformedRequest` when it is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("request body is not UTF-8") from exc


def read_json(
    raw: bytes | str,
    *,
    max_bytes: int | None = None,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse ``raw`` as bounded JSON (see the module docstring for what is refused)."""
    if isinstance(raw, str):
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates: not text any sender meant
            raise MalformedRequest("request body is not UTF-8") from exc
    else:
        data = raw
    if max_bytes is not None and len(data) > max_bytes:
        raise PayloadTooLarge(f"request body exceeds {max_bytes} bytes")
    text = raw if isinstance(raw, str) else decode_utf8(raw)
    try:
        value = json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except _Refused as exc:
        raise MalformedRequest(f"request body is not acceptable JSON: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedRequest("request body is not valid JSON") from exc
    if not _depth_within(value, max_depth):
        raise MalformedRequest(f"request body nests deeper than {max_depth} levels")
    return value
