"""The normalised catalog item every connector produces, and what the engine stores with it.

``CatalogItem`` extends the shared ``MenuItem`` (what the agent reads through
``TenantStore.get_menu``) with the fields sync needs: the SKU and where the item came from.
It is written into the same main-table items (``TENANT#<id>`` / ``MENU#ITEM#<item_id>``)
with extra bookkeeping attributes that ``MenuItem`` ignores (see docs/sync.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.menu import MenuItem

#: A SKU is one code. Whitespace, commas, semicolons, pipes or slashes mean somebody typed
#: a list of codes into one field: such a record is quarantined, not guessed at.
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,59}$")

#: Fields that make up what the agent sees; the content hash covers exactly these, so a
#: source that only bumps its own modification date writes nothing.
HASHED_FIELDS = (
    "item_id",
    "sku",
    "name",
    "aliases",
    "description",
    "category",
    "price_cents",
    "options",
    "available",
    "stock",
)


class CatalogItem(MenuItem):
    """One sellable item, normalised from any source."""

    sku: str | None = Field(None, max_length=60)
    source: str = Field(min_length=1, max_length=32)
    source_id: str = Field(min_length=1, max_length=128)

    def content_hash(self) -> str:
        """A stable digest of the agent-visible content (not of bookkeeping fields)."""
        data = self.model_dump(mode="json", include=set(HASHED_FIELDS))
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def with_stock(self, stock: int | None) -> CatalogItem:
        return self.model_copy(update={"stock": stock})


class ItemState(BaseModel):
    """What the engine needs to know about a stored item to diff against it."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    content_hash: str | None = None
    source: str | None = None
    deleted: bool = False
    stock_at: datetime | None = None


class StoredItem(BaseModel):
    """A stored catalog item with its bookkeeping (read back for patches)."""

    model_config = ConfigDict(frozen=True)

    item: CatalogItem
    state: ItemState


class Quarantined(BaseModel):
    """A record the engine refused, with the reason; the rest of the run proceeds."""

    model_config = ConfigDict(frozen=True)

    record_key: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=500)
    raw: dict[str, Any] = Field(default_factory=dict)
