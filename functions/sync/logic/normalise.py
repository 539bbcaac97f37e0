"""Turn a connector's canonical record into a ``CatalogItem`` or a quarantine reason.

Connectors translate their provider's shape into one canonical dict::

    {"source_id": "123", "sku": "PZ-01", "name": "...", "price": 12.5 | "price_cents": 1250,
     "description": "", "category": "", "aliases": [], "stock": 3 | None,
     "available": True, "options": [{"option_id", "name", "price" | "price_cents"}],
     "source_version": "..."}

and this module applies the rules every source shares (prices in cents, one SKU per record,
ids safe for keys), so a rule is enforced once for Bling, Plugg.to, MongoDB and pushes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from functions.sync.models.catalog import SKU_PATTERN, CatalogItem, Quarantined

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
_RAW_LIMIT = 2_000


class RecordRejected(ValueError):
    """The record cannot become a catalog item; the message is the quarantine reason."""


def to_cents(value: Any, *, what: str = "price") -> int:
    """Currency units (float, str or Decimal) to integer cents, rounded half up.

    Floats go through ``str`` first so ``12.345`` (stored as 12.3449999...) still rounds the
    way the person who typed it expects.
    """
    if value is None or value == "":
        raise RecordRejected(f"missing {what}")
    if isinstance(value, bool):
        raise RecordRejected(f"{what} is not a number: {value!r}")
    try:
        amount = Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else None
        if amount is None:
            if isinstance(value, float) and not math.isfinite(value):
                raise RecordRejected(f"{what} is not finite")
            amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise RecordRejected(f"{what} is not a number: {value!r}") from exc
    if not amount.is_finite():
        raise RecordRejected(f"{what} is not finite")
    if amount < 0:
        raise RecordRejected(f"negative {what}: {value!r}")
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _cents(record: Mapping[str, Any], *, what: str = "price") -> int:
    if record.get("price_cents") is not None:
        raw = record["price_cents"]
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise RecordRejected(f"{what} is not a number: {raw!r}")
        try:
            cents = int(Decimal(str(raw)))
        except InvalidOperation as exc:
            raise RecordRejected(f"{what} is not a number: {raw!r}") from exc
        if cents < 0:
            raise RecordRejected(f"negative {what}: {raw!r}")
        return cents
    return to_cents(record.get("price"), what=what)


def check_sku(raw: Any) -> str | None:
    """The SKU, or None when absent; raises when it is not one code."""
    if raw is None:
        return None
    if isinstance(raw, list | tuple | set):
        raise RecordRejected(f"malformed SKU: a list of codes {list(raw)!r}")
    sku = str(raw).strip()
    if not sku:
        return None
    if not SKU_PATTERN.fullmatch(sku):
        raise RecordRejected(f"malformed SKU {sku!r}: expected one code")
    return sku


def item_id_for(source: str, source_id: str) -> str:
    """Stable item id from the source and its record id (safe for keys and tool calls)."""
    safe = _ID_UNSAFE.sub("_", source_id.strip())
    return f"{source}-{safe}"[:64]


def _stock(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise RecordRejected(f"stock is not a number: {raw!r}") from exc
    if not math.isfinite(value):
        raise RecordRejected("stock is not finite")
    # ERPs report fractional and negative balances (back orders); the agent needs units on
    # hand, and nothing negative can be promised.
    return max(0, math.floor(value))


def normalise(source: str, record: Mapping[str, Any]) -> CatalogItem:
    """One canonical record to a ``CatalogItem`` (raises :class:`RecordRejected`)."""
    source_id = str(record.get("source_id") or "").strip()
    if not source_id:
        raise RecordRejected("missing record id")
    sku = check_sku(record.get("sku"))
    price_cents = _cents(record)
    options = []
    for index, option in enumerate(record.get("options") or []):
        if not isinstance(option, Mapping):
            raise RecordRejected(f"option {index} is not an object")
        option_id = str(option.get("option_id") or option.get("sku") or index)
        options.append(
            {
                "option_id": _ID_UNSAFE.sub("_", option_id)[:64],
                "name": option.get("name"),
                "price_cents": _cents(option, what=f"price of option {option_id}"),
                "available": bool(option.get("available", True)),
            }
        )
    aliases = record.get("aliases") or []
    if isinstance(aliases, str):
        aliases = [a.strip() for a in aliases.split("|") if a.strip()]
    try:
        return CatalogItem(
            item_id=item_id_for(source, source_id),
            sku=sku,
            source=source,
            source_id=source_id,
            name=str(record.get("name") or "").strip(),
            aliases=list(aliases),
            description=str(record.get("description") or "").strip()[:1_000],
            category=str(record.get("category") or "").strip()[:100],
            price_cents=price_cents,
            options=options,
            available=bool(record.get("available", True)),
            stock=_stock(record.get("stock")),
            source_version=(
                str(record["source_version"])[:64] if record.get("source_version") else None
            ),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors()
        )
        raise RecordRejected(f"invalid record: {problems}") from exc


def _excerpt(record: Mapping[str, Any]) -> dict[str, Any]:
    """A bounded copy of the raw record for the quarantine (never the whole payload)."""
    out: dict[str, Any] = {}
    size = 0
    for key, value in record.items():
        text = value if isinstance(value, int | float | bool) or value is None else str(value)
        size += len(str(key)) + len(str(text))
        if size > _RAW_LIMIT:
            out["_truncated"] = True
            break
        out[str(key)] = text
    return out


@dataclass
class Normalised:
    items: list[CatalogItem] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    #: Ids of quarantined records that still exist at the source: the mirror keeps their
    #: last good version instead of deleting it.
    quarantined_item_ids: list[str] = field(default_factory=list)


def normalise_batch(
    source: str,
    records: Iterable[Mapping[str, Any]],
    *,
    live_skus: dict[str, str] | None = None,
) -> Normalised:
    """Normalise a page; quarantine rejects and live SKUs already taken in this snapshot.

    ``live_skus`` (sku → item id) spans the whole snapshot (all pages/batches of a run), so
    a duplicate is caught whichever page it lands on. Only available items compete for a
    SKU: an ERP keeps the SKU of an inactive product when a new one reuses it.
    """
    out = Normalised()
    for record in records:
        key = str(record.get("source_id") or record.get("sku") or "?")[:200]
        try:
            item = normalise(source, record)
        except RecordRejected as exc:
            out.quarantined.append(
                Quarantined(record_key=key, reason=str(exc), raw=_excerpt(record))
            )
            if record.get("source_id"):
                out.quarantined_item_ids.append(item_id_for(source, str(record["source_id"])))
            continue
        if live_skus is not None and item.sku and item.available:
            holder = live_skus.setdefault(item.sku, item.item_id)
            if holder != item.item_id:
                out.quarantined.append(
                    Quarantined(
                        record_key=key,
                        reason=f"duplicate SKU {item.sku!r} in this snapshot (also {holder})",
                        raw=_excerpt(record),
                    )
                )
                out.quarantined_item_ids.append(item.item_id)
                continue
        out.items.append(item)
    return out
