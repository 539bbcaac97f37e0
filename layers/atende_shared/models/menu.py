"""The menu / catalog the agent sells from; sync and the admin API both write it."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atende_shared.models.common import Cents

ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class MenuOption(BaseModel):
    """A size or variant of an item (``grande``, ``broto``...). Its price replaces the item's."""

    model_config = ConfigDict(frozen=True)

    option_id: str = Field(pattern=ITEM_ID_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    price_cents: Cents
    available: bool = True


class MenuItem(BaseModel):
    """One sellable item. Prices are integer cents computed by us, never by the LLM."""

    model_config = ConfigDict(frozen=True)

    item_id: str = Field(pattern=ITEM_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = Field(default_factory=list, max_length=30)
    description: str = Field("", max_length=1_000)
    category: str = Field("", max_length=100)
    price_cents: Cents
    options: list[MenuOption] = Field(default_factory=list, max_length=30)
    available: bool = True
    stock: int | None = Field(None, ge=0, description="units on hand; None = not tracked")
    source_version: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _unique_options(self) -> MenuItem:
        ids = [o.option_id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError(f"item {self.item_id}: option ids must be unique")
        return self

    @property
    def sellable(self) -> bool:
        """Available and, where stock is tracked, in stock."""
        return self.available and (self.stock is None or self.stock > 0)


#: The most items one ``PUT /menu`` may carry. Only uploads are capped: a catalog synced from
#: an ERP may hold more, and the agent must still read it.
MAX_UPLOAD_ITEMS = 5_000


class Menu(BaseModel):
    """A tenant's whole menu."""

    items: list[MenuItem] = Field(default_factory=list)
    currency: str = Field("BRL", pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _unique_items(self) -> Menu:
        counts = Counter(i.item_id for i in self.items)
        duplicates = sorted(item_id for item_id, n in counts.items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate item ids: {', '.join(duplicates)}")
        return self

    def by_id(self) -> dict[str, MenuItem]:
        return {item.item_id: item for item in self.items}


class MenuUpload(Menu):
    """A menu as the admin API accepts it: at most :data:`MAX_UPLOAD_ITEMS` items."""

    items: list[MenuItem] = Field(default_factory=list, max_length=MAX_UPLOAD_ITEMS)
