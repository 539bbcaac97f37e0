"""The menu / catalog the agent sells from; sync and the admin API both write it.

An item has a price, optional sizes (``options``: an option's price replaces the item's),
optional **modifier groups** ("Borda" pick 0-1, "Adicionais" pick 0-5; each modifier adds
its ``price_delta_cents``), and may be **fractional** (``max_flavours`` > 1: a pizza of up
to N flavours, each flavour another item of the same ``flavour_group``; the tenant's
``DeliverySettings.flavour_pricing`` says whether the highest flavour's price or the
average counts). ``notes_allowed`` lets the customer add a short free-text note ("sem
cebola"). Everything new has a default, so menus written before it stay valid.
See docs/menu.md.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atende_shared.models.common import Cents, SignedCents

ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class MenuOption(BaseModel):
    """A size or variant of an item (``grande``, ``broto``...). Its price replaces the item's."""

    model_config = ConfigDict(frozen=True)

    option_id: str = Field(pattern=ITEM_ID_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    price_cents: Cents
    available: bool = True


class Modifier(BaseModel):
    """One choice in a modifier group ("Catupiry", "Bacon"); its delta adds to the unit price."""

    model_config = ConfigDict(frozen=True)

    modifier_id: str = Field(pattern=ITEM_ID_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    aliases: list[str] = Field(default_factory=list, max_length=10)
    price_delta_cents: SignedCents = Field(0, ge=-100_000, le=100_000)
    available: bool = True


class ModifierGroup(BaseModel):
    """A set of modifiers the customer picks ``min``..``max`` from ("Borda", pick 0-1)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    group_id: str = Field(pattern=ITEM_ID_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    min: int = Field(0, ge=0, le=20, description="fewest picks (1 = required)")
    max: int = Field(1, ge=1, le=20, description="most picks")
    modifiers: list[Modifier] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> ModifierGroup:
        if self.min > self.max:
            raise ValueError(f"modifier group {self.group_id}: min ({self.min}) > max ({self.max})")
        ids = [m.modifier_id for m in self.modifiers]
        if len(ids) != len(set(ids)):
            raise ValueError(f"modifier group {self.group_id}: modifier ids must be unique")
        return self


#: The longest free-text note on a line ("sem cebola, bem assada").
MAX_NOTE_CHARS = 140


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
    modifier_groups: list[ModifierGroup] = Field(
        default_factory=list, max_length=10, description="groups of this item only"
    )
    modifier_group_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="groups shared from the menu's modifier_groups library (by group_id)",
    )
    max_flavours: int = Field(
        1, ge=1, le=4, description="a fractional item: up to this many flavours (meio a meio = 2)"
    )
    flavour_group: str | None = Field(
        None,
        max_length=100,
        description="items of the same group combine as flavours (default: the category)",
    )
    notes_allowed: bool = True

    @model_validator(mode="after")
    def _unique_options(self) -> MenuItem:
        ids = [o.option_id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError(f"item {self.item_id}: option ids must be unique")
        groups = [g.group_id for g in self.modifier_groups]
        if len(groups) != len(set(groups)):
            raise ValueError(f"item {self.item_id}: modifier group ids must be unique")
        modifiers = [m.modifier_id for g in self.modifier_groups for m in g.modifiers]
        if len(modifiers) != len(set(modifiers)):
            raise ValueError(f"item {self.item_id}: modifier ids must be unique across its groups")
        return self

    @property
    def flavour_key(self) -> str:
        """Items with the same key (and ``max_flavours`` > 1) can share a pizza."""
        return self.flavour_group or self.category

    @property
    def sellable(self) -> bool:
        """Available and, where stock is tracked, in stock."""
        return self.available and (self.stock is None or self.stock > 0)


#: The most items one ``PUT /menu`` may carry. Only uploads are capped: a catalog synced from
#: an ERP may hold more, and the agent must still read it.
MAX_UPLOAD_ITEMS = 5_000


class Menu(BaseModel):
    """A tenant's whole menu.

    ``modifier_groups`` is a library of groups items share by id (``modifier_group_ids``):
    a pizzeria's "Borda" is written once, not on each of its pizzas, so a 5,000-item menu
    stays small and loads fast."""

    items: list[MenuItem] = Field(default_factory=list)
    modifier_groups: list[ModifierGroup] = Field(default_factory=list, max_length=200)
    currency: str = Field("BRL", pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _unique_items(self) -> Menu:
        counts = Counter(i.item_id for i in self.items)
        duplicates = sorted(item_id for item_id, n in counts.items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate item ids: {', '.join(duplicates)}")
        library = Counter(g.group_id for g in self.modifier_groups)
        repeated = sorted(group_id for group_id, n in library.items() if n > 1)
        if repeated:
            raise ValueError(f"duplicate modifier group ids: {', '.join(repeated)}")
        unknown = sorted(
            {
                f"{item.item_id} → {group_id}"
                for item in self.items
                for group_id in item.modifier_group_ids
                if group_id not in library
            }
        )
        if unknown:
            raise ValueError(
                "items name modifier groups the menu's modifier_groups does not define: "
                + ", ".join(unknown[:20])
            )
        return self

    def groups_of(self, item: MenuItem) -> list[ModifierGroup]:
        """The item's own groups, then the shared ones it names (in its order)."""
        if not item.modifier_group_ids:
            return list(item.modifier_groups)
        library = {g.group_id: g for g in self.modifier_groups}
        return [*item.modifier_groups, *(library[g] for g in item.modifier_group_ids)]

    def by_id(self) -> dict[str, MenuItem]:
        return {item.item_id: item for item in self.items}


class MenuUpload(Menu):
    """A menu as the admin API accepts it: at most :data:`MAX_UPLOAD_ITEMS` items."""

    items: list[MenuItem] = Field(default_factory=list, max_length=MAX_UPLOAD_ITEMS)
