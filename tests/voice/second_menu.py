"""A second pizzeria, unlike the demo one in every name, id, price and rule, so the
conversation suite proves it reads the menu instead of remembering the demo."""

from __future__ import annotations

from atende_shared.models.menu import Menu, MenuItem, MenuOption, Modifier, ModifierGroup
from atende_shared.models.tenant import DeliverySettings, DeliveryZone, PostalCodeRange, Tenant

_CRUST = ModifierGroup(
    group_id="massa",
    name="Borda",
    max=1,
    modifiers=[
        Modifier(modifier_id="b-cheddar", name="Borda de Cheddar", price_delta_cents=1_000),
        Modifier(modifier_id="b-doce", name="Borda de Doce de Leite", price_delta_cents=1_200),
    ],
)
_EXTRAS = ModifierGroup(
    group_id="extras",
    name="Extras",
    max=3,
    modifiers=[Modifier(modifier_id="x-palmito", name="Palmito", price_delta_cents=500)],
)


def _pizza(item_id: str, name: str, familia: int, **extra: object) -> MenuItem:
    return MenuItem(
        item_id=item_id,
        name=name,
        category="Pizzas Salgadas",
        price_cents=familia,
        options=[
            MenuOption(option_id="fam", name="Família 12 pedaços", price_cents=familia),
            MenuOption(option_id="gde", name="Grande 8 pedaços", price_cents=familia - 900),
            MenuOption(option_id="pq", name="Pequena 4 pedaços", price_cents=familia - 2_500),
        ],
        modifier_group_ids=["massa", "extras"],
        max_flavours=2,
        **extra,  # type: ignore[arg-type]
    )


def second_menu() -> Menu:
    return Menu(
        modifier_groups=[_CRUST, _EXTRAS],
        items=[
            _pizza("napolitana", "Napolitana", 6_200),
            _pizza("atum", "Atum com Cebola", 6_650),
            _pizza("bacon-milho", "Bacon e Milho", 5_980),
            _pizza("palmito", "Palmito Especial", 7_110),
            _pizza("toscana", "Toscana", 6_400, available=False),
            MenuItem(
                item_id="fanta-2l",
                name="Fanta Laranja 2 litros",
                aliases=["fanta"],
                category="Refrigerantes",
                price_cents=1_100,
            ),
            MenuItem(
                item_id="sprite-lata",
                name="Sprite lata",
                aliases=["sprite"],
                category="Refrigerantes",
                price_cents=600,
            ),
            MenuItem(
                item_id="cerveja",
                name="Cerveja Original 600ml",
                aliases=["cerveja"],
                category="Cervejas",
                price_cents=1_500,
            ),
        ],
    )


def second_tenant() -> Tenant:
    return Tenant(
        tenant_id="pizzaria-napoli",
        name="Pizzaria Napoli",
        delivery=DeliverySettings(
            zones=[
                DeliveryZone(
                    zone_id="z1",
                    name="Mooca",
                    neighbourhoods=["Mooca", "Tatuapé"],
                    postal_codes=[PostalCodeRange(start="03100-000", end="03199-999")],
                    fee_cents=650,
                    estimated_minutes=35,
                )
            ],
            flavour_pricing="average",
        ),
    )
