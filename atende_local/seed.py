"""The demo tenant ``demo-pizzaria``: data, and the function that writes it.

Local-only, deterministic demo values (so the curl examples in the docs keep working run
after run). Tenant, agent config and menu go through the shared tenant store; webhook
secrets through ``tenant_secrets.write_secret``; balance and phone number through the
billing domain's ``grant_credit`` and the provisioning admin API (the platform posts
the number to ``/v1/tenants/{tenant_id}/phone-numbers`` once its gateway is up), never
by writing those domains' items here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from atende_local.fake_whatsapp import EvolutionInstance, ZapiInstance
from atende_local.tenant_auth import ConsoleUser, UserPool, create_user
from atende_shared.dal.tenants import tenant_store
from atende_shared.models.menu import Menu, MenuItem, MenuOption, Modifier, ModifierGroup
from atende_shared.models.tenant import (
    AgentConfig,
    BillingPlan,
    CatalogSource,
    DeliverySettings,
    DeliveryZone,
    Integrations,
    OpeningWindow,
    OrderSettings,
    PaymentProvider,
    PostalCodeRange,
    Tenant,
    Weekday,
)
from atende_shared.tenant_secrets import Integration, IntegrationSecret, write_secret

DEMO_TENANT_ID = "demo-pizzaria"
DEMO_PHONE_NUMBER = "+551130000000"
DEMO_KITCHEN_PHONE = "+5511930000001"  # the restaurant's WhatsApp (orders notifications)
DEMO_OPENING_BALANCE_CENTS = 50_000  # R$ 500,00 of prepaid minutes
#: A second restaurant, so isolation can be seen (and tested) in the console.
OTHER_TENANT_ID = "outra-pizzaria"

#: The console's users (Cognito, moto locally): local demo credentials only.
DEMO_OWNER = ConsoleUser("dono@pizzaria-demo.local", "Pizza-demo-2026!", DEMO_TENANT_ID, "owner")
DEMO_STAFF = ConsoleUser(
    "cozinha@pizzaria-demo.local", "Cozinha-demo-2026!", DEMO_TENANT_ID, "staff"
)
OTHER_OWNER = ConsoleUser("dono@outra-pizzaria.local", "Outra-demo-2026!", OTHER_TENANT_ID, "owner")
CONSOLE_USERS = (DEMO_OWNER, DEMO_STAFF, OTHER_OWNER)

#: Per integration, the secret fields the webhook verifiers read (see tenant_secrets).
DEMO_SECRETS: dict[Integration, dict[str, str]] = {
    "bling": {"client_id": "demo-bling-client", "client_secret": "demo-bling-client-secret"},
    "asaas": {"webhook_token": "demo-asaas-webhook-token", "api_key": "demo-asaas-api-key"},
    "pluggto": {"path_secret": "demo-pluggto-path-secret"},
    # Inbound webhooks present client_token/apikey; sending also needs the instance (the
    # base_url of the local fake gateways is added at seed time, see seed_demo).
    "zapi": {
        "client_token": "demo-zapi-client-token",
        "instance_id": "DEMOZAPIINSTANCE",
        "instance_token": "demo-zapi-instance-token",
    },
    "evolution": {
        "apikey": "demo-evolution-apikey",
        "instance": "demo-pizzaria",
        "api_version": "v2",
    },
    "custom": {
        "signing_secret": "whsec_"
        + base64.b64encode(b"atende-demo-custom-signing-key!!").decode("ascii")
    },
    "ingest": {"token": "demo-ingest-token"},
}

_WEEK = (Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI, Weekday.SAT, Weekday.SUN)


def demo_tenant() -> Tenant:
    return Tenant(
        tenant_id=DEMO_TENANT_ID,
        name="Pizzaria Demo",
        legal_id="00.000.000/0001-00",
        time_zone="America/Sao_Paulo",
        languages=["pt-BR"],
        opening_hours=[OpeningWindow(day=d, opens="18:00", closes="23:30") for d in _WEEK],
        integrations=Integrations(
            catalog_source=CatalogSource.MANUAL,
            payment_provider=PaymentProvider.ASAAS,
            payment_customer_id="cus_demo000001",
            whatsapp_gateway="zapi",
            secrets_configured=sorted(DEMO_SECRETS),
        ),
        plan=BillingPlan(price_per_minute_cents=90, rounding="per_second"),
        delivery=demo_delivery(),
        # The kitchen's WhatsApp: told of each new order (the local fake gateway records it).
        orders=OrderSettings(notification_phone=DEMO_KITCHEN_PHONE),
    )


def demo_agent_config() -> AgentConfig:
    return AgentConfig(
        tenant_id=DEMO_TENANT_ID,
        greeting="Olá! Você ligou para a Pizzaria Demo. Eu sou a assistente virtual. "
        "O que vai ser hoje?",
        instructions=(
            "Anote pedidos de pizza e bebidas do cardápio. Confirme tamanho, sabores, "
            "endereço de entrega e forma de pagamento antes de finalizar. Não invente "
            "preços: use sempre as ferramentas."
        ),
        upsell_hints=["Ofereça um refrigerante de 2 litros com pizzas grandes."],
        voice="alloy",
        language="pt-BR",
        max_call_seconds=900,
    )


_BORDA = ModifierGroup(
    group_id="borda",
    name="Borda",
    min=0,
    max=1,
    modifiers=[
        Modifier(
            modifier_id="borda-catupiry",
            name="Borda de Catupiry",
            aliases=["catupiry", "borda recheada"],
            price_delta_cents=900,
        ),
        Modifier(modifier_id="borda-cheddar", name="Borda de Cheddar", price_delta_cents=900),
        Modifier(
            modifier_id="borda-chocolate",
            name="Borda de Chocolate",
            price_delta_cents=1_100,
            available=False,  # acabou hoje
        ),
    ],
)
_ADICIONAIS = ModifierGroup(
    group_id="adicionais",
    name="Adicionais",
    min=0,
    max=5,
    modifiers=[
        Modifier(
            modifier_id="add-bacon", name="Bacon", aliases=["extra bacon"], price_delta_cents=700
        ),
        Modifier(
            modifier_id="add-queijo",
            name="Queijo extra",
            aliases=["mais queijo", "extra cheese"],
            price_delta_cents=800,
        ),
        Modifier(
            modifier_id="add-azeitona",
            name="Azeitonas",
            aliases=["azeitona"],
            price_delta_cents=300,
        ),
        Modifier(modifier_id="add-ovo", name="Ovo", price_delta_cents=300),
    ],
)


def _pizza(
    item_id: str,
    name: str,
    aliases: list[str],
    description: str,
    grande: int,
    *,
    available: bool = True,
) -> MenuItem:
    """A salty pizza in three sizes, up to three flavours, with crust and extras."""
    return MenuItem(
        item_id=item_id,
        name=name,
        aliases=aliases,
        description=description,
        category="Pizzas",
        price_cents=grande,
        available=available,
        options=[
            MenuOption(option_id="grande", name="Grande (8 fatias)", price_cents=grande),
            MenuOption(option_id="media", name="Média (6 fatias)", price_cents=grande - 1_000),
            MenuOption(option_id="broto", name="Broto (4 fatias)", price_cents=grande - 2_000),
        ],
        modifier_group_ids=["borda", "adicionais"],
        max_flavours=3,
    )


def demo_menu() -> Menu:
    """A São Paulo pizzeria's menu: sizes, half-and-half, crusts and extras, drinks, one
    sold-out pizza and a sold-out crust (docs/menu.md walks through it)."""
    return Menu(
        currency="BRL",
        modifier_groups=[_BORDA, _ADICIONAIS],
        items=[
            _pizza(
                "pizza-margherita",
                "Pizza Margherita",
                ["margherita", "marguerita", "margarita"],
                "Molho de tomate, muçarela, tomate e manjericão.",
                5_490,
            ),
            _pizza(
                "pizza-calabresa",
                "Calabresa",
                ["pizza de calabresa", "calabreza"],
                "Calabresa fatiada, cebola e azeitonas.",
                4_990,
            ),
            _pizza(
                "pizza-portuguesa",
                "Portuguesa",
                ["pizza portuguesa"],
                "Presunto, ovos, cebola, ervilha e muçarela.",
                5_790,
            ),
            _pizza(
                "pizza-quatro-queijos",
                "Quatro Queijos",
                ["4 queijos", "quatro queijo"],
                "Muçarela, provolone, parmesão e gorgonzola.",
                5_990,
            ),
            _pizza(
                "pizza-frango-catupiry",
                "Frango com Catupiry",
                ["frango catupiry", "frango com requeijão"],
                "Frango desfiado com Catupiry original.",
                5_690,
            ),
            _pizza(
                "pizza-mucarela",
                "Muçarela",
                ["mussarela", "mozzarella"],
                "Muçarela, tomate e orégano.",
                4_790,
            ),
            _pizza(
                "pizza-pepperoni",
                "Pepperoni",
                ["pizza de pepperoni"],
                "Pepperoni fatiado e muçarela.",
                6_290,
                available=False,  # esgotada hoje: the agent says so and offers another pizza
            ),
            MenuItem(
                item_id="pizza-chocolate",
                name="Pizza de Chocolate",
                aliases=["pizza doce", "chocolate"],
                description="Chocolate ao leite e granulado (broto).",
                category="Pizzas doces",
                price_cents=3_990,
            ),
            MenuItem(
                item_id="coca-cola-2l",
                name="Coca-Cola 2L",
                aliases=["coca", "coca 2 litros", "coca-cola dois litros", "coke"],
                category="Bebidas",
                price_cents=1_400,
                stock=24,
            ),
            MenuItem(
                item_id="guarana-lata",
                name="Guaraná Antarctica lata",
                aliases=["guaraná", "guarana lata", "guaraná 350ml"],
                category="Bebidas",
                price_cents=650,
                stock=48,
            ),
            MenuItem(
                item_id="suco-laranja",
                name="Suco de laranja 500ml",
                aliases=["suco", "suco de laranja", "orange juice"],
                category="Bebidas",
                price_cents=900,
            ),
            MenuItem(
                item_id="agua-sem-gas",
                name="Água mineral sem gás 500ml",
                aliases=["água", "agua", "water"],
                category="Bebidas",
                price_cents=400,
            ),
        ],
    )


def demo_delivery() -> DeliverySettings:
    """Where the demo pizzeria delivers (fees by neighbourhood and CEP), how it is paid."""
    return DeliverySettings(
        zones=[
            DeliveryZone(
                zone_id="centro",
                name="Centro",
                neighbourhoods=["Centro", "República", "Consolação", "Bela Vista"],
                postal_codes=[PostalCodeRange(start="01000-000", end="01399-999")],
                fee_cents=500,
                minimum_order_cents=3_000,
                estimated_minutes=40,
            ),
            DeliveryZone(
                zone_id="oeste",
                name="Pinheiros e Vila Madalena",
                neighbourhoods=["Pinheiros", "Vila Madalena", "Perdizes"],
                postal_codes=[PostalCodeRange(start="05400-000", end="05499-999")],
                fee_cents=800,
                minimum_order_cents=4_000,
                estimated_minutes=55,
            ),
        ],
        payment_methods=["cash", "credit_card", "debit_card", "pix"],
        flavour_pricing="highest",
    )


@dataclass
class SeedReport:
    """What the seed did; printed at start-up and written to the state file."""

    tenant_id: str = DEMO_TENANT_ID
    phone_number: str = DEMO_PHONE_NUMBER
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    balance: str = "not seeded"
    phone: str = "not seeded"
    notes: list[str] = field(default_factory=list)


def demo_whatsapp_instances() -> tuple[ZapiInstance, EvolutionInstance]:
    """The demo tenant's Z-API and Evolution instances, as the local fakes must know them."""
    zapi, evolution = DEMO_SECRETS["zapi"], DEMO_SECRETS["evolution"]
    return (
        ZapiInstance(
            instance_id=zapi["instance_id"],
            instance_token=zapi["instance_token"],
            client_token=zapi["client_token"],
        ),
        EvolutionInstance(name=evolution["instance"], apikey=evolution["apikey"], version="v2"),
    )


def seed_demo(
    *, main_table: str, stage: str = "local", whatsapp_base_url: str | None = None
) -> SeedReport:
    """Write the demo tenant, its agent config, menu and webhook secrets. With
    ``whatsapp_base_url`` (the local fake gateways) the Z-API and Evolution secrets point
    their sends there."""
    report = SeedReport()
    store = tenant_store(main_table)
    store.put_tenant(demo_tenant())
    store.put_agent_config(demo_agent_config())
    store.put_menu(DEMO_TENANT_ID, demo_menu())
    for integration, values in DEMO_SECRETS.items():
        values = dict(values)
        if whatsapp_base_url and integration in ("zapi", "evolution"):
            values["base_url"] = whatsapp_base_url
        write_secret(stage, DEMO_TENANT_ID, integration, IntegrationSecret(current=values))
        report.secrets[integration] = dict(values)
    _seed_balance(report)
    return report


def _seed_balance(report: SeedReport) -> None:
    try:
        from functions.billing.handlers.deps import grant_credit

        grant_credit(
            tenant_id=DEMO_TENANT_ID,
            amount_cents=DEMO_OPENING_BALANCE_CENTS,
            reference="demo-opening-balance",
        )
    except Exception as exc:  # seeding extras must never stop the platform
        report.notes.append(f"prepaid balance not seeded: {type(exc).__name__}: {exc}")
        return
    report.balance = (
        f"R$ {DEMO_OPENING_BALANCE_CENTS // 100},{DEMO_OPENING_BALANCE_CENTS % 100:02d}"
    )


def other_tenant() -> Tenant:
    """The second restaurant: no phone number, no secrets; it exists to own other data."""
    return demo_tenant().model_copy(
        update={
            "tenant_id": OTHER_TENANT_ID,
            "name": "Outra Pizzaria",
            "integrations": Integrations(catalog_source=CatalogSource.MANUAL),
        }
    )


def seed_console_users(*, main_table: str, pool: UserPool) -> list[ConsoleUser]:
    """The second tenant (with the demo menu) and the console users of both tenants,
    invited as an admin does (AdminCreateUser with ``custom:tenant_id`` and ``custom:role``)."""
    store = tenant_store(main_table)
    store.put_tenant(other_tenant())
    store.put_menu(OTHER_TENANT_ID, demo_menu())
    for user in CONSOLE_USERS:
        create_user(pool, user)
    return list(CONSOLE_USERS)
