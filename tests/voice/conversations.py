"""The conversation suite, generated from a menu and a tenant's delivery settings.

Each :class:`Scenario` is a caller's lines plus the exact outcome expected: the order's lines
(item, size, flavours, modifiers, note, quantity), fulfilment, delivery fee, payment,
customer name — or an action (a transfer, an empty order, a refusal). Nothing names a menu
item directly: the builder picks items by their properties (a fractional pizza, a drink, a
sold-out item, a crust modifier...) and speaks of them the way callers do (short names,
misspellings, plural, sizes said once), so a second menu runs the same suite. Failure
classes of issue 15 and the new capabilities each get several phrasings in pt-BR and some
in English. Expected totals are computed here, independently of the core's pricing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from atende_shared.models.menu import Menu, MenuItem, MenuOption, Modifier
from atende_shared.models.tenant import DeliveryZone, Tenant

NUMBER_NAMES = {
    "um",
    "uma",
    "dois",
    "duas",
    "tres",
    "quatro",
    "cinco",
    "seis",
    "one",
    "two",
    "three",
    "four",
    "five",
}
GENERIC = {"pizza", "de", "da", "do", "com", "e", "lata", "2l", "500ml", "350ml", "the"}


@dataclass(frozen=True)
class Line:
    item_id: str
    option_id: str | None
    quantity: int
    flavours: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()
    notes: str | None = None


@dataclass
class Expected:
    lines: list[Line] = field(default_factory=list)
    fulfilment: str | None = "pickup"
    fee_cents: int = 0
    payment: str | None = "pix"
    change_cents: int | None = None
    name: str | None = "Ana"
    #: an action instead of an order: "transferred", "no_order"
    action: str | None = None
    #: a sentence fragment some agent reply must contain (a refusal's reason, a language)
    said: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    name: str
    lang: str
    lines: list[str]
    expected: Expected
    bilingual: bool = False


def plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def spoken(item: MenuItem) -> str:
    """How a caller names an item: its name without generic words ("Pizza Margherita" →
    "margherita")."""
    words = [w for w in plain(item.name).replace("-", " ").split() if w not in GENERIC]
    return " ".join(words) or plain(item.name)


def misspelt(word: str) -> str:
    """A typical STT/typing slip of ``word`` (catupiry → catupiri, calabresa → calabreza)."""
    for a, b in (("y", "i"), ("s", "z"), ("ss", "s"), ("ch", "x"), ("rr", "r"), ("ll", "l")):
        if a in word[1:]:
            return word[0] + word[1:].replace(a, b, 1)
    return word[:-1] + ("a" if word[-1] != "a" else "e")


class MenuFacts:
    """The items a scenario needs, chosen by their properties."""

    def __init__(self, menu: Menu, tenant: Tenant) -> None:
        self.menu, self.tenant = menu, tenant
        sellable = [i for i in menu.items if i.sellable]
        self.pizzas = [i for i in sellable if i.max_flavours > 1 and i.options]
        key = self.pizzas[0].flavour_key
        self.pizzas = [p for p in self.pizzas if p.flavour_key == key]
        self.drinks = [i for i in sellable if not i.options and i.category != key]
        self.sold_out = next(
            (
                i
                for i in menu.items
                if not i.sellable
                and any(o.sellable and o.category == i.category for o in menu.items)
            ),
            None,
        )
        self.rule = tenant.delivery.flavour_pricing

    def size(self, item: MenuItem, index: int = 0) -> MenuOption:
        return item.options[index]

    def crust(self, item: MenuItem) -> Modifier | None:
        for group in self.menu.groups_of(item):
            if group.max == 1:
                return next((m for m in group.modifiers if m.available), None)
        return None

    def extra(self, item: MenuItem) -> Modifier | None:
        for group in self.menu.groups_of(item):
            if group.max > 1:
                return next((m for m in group.modifiers if m.available), None)
        return None

    def short_name(self, item: MenuItem) -> str | None:
        """A word of the item's name no other item uses ("frango" for "Frango com Catupiry")."""
        words = spoken(item).split()
        if len(words) < 2:
            return None
        for word in words:
            if len(word) < 4 or word in NUMBER_NAMES:
                continue
            others = [
                o
                for o in self.menu.items
                if o is not item and word in plain(" ".join([o.name, *o.aliases]))
            ]
            if not others:
                return word
        return None

    def zone(self) -> DeliveryZone | None:
        return next((z for z in self.tenant.delivery.zones if z.neighbourhoods), None)

    # -- the expected totals, computed independently of the core ------------------------

    def unit(self, line: Line) -> int:
        ids = line.flavours or (line.item_id,)
        prices = []
        for item_id in ids:
            item = next(i for i in self.menu.items if i.item_id == item_id)
            option = next((o for o in item.options if o.option_id == line.option_id), None)
            prices.append(option.price_cents if option else item.price_cents)
        average = round(sum(prices) / len(prices) + 1e-9)
        base = average if self.rule == "average" else max(prices)
        item = next(i for i in self.menu.items if i.item_id == line.item_id)
        deltas = sum(
            m.price_delta_cents
            for g in self.menu.groups_of(item)
            for m in g.modifiers
            if m.modifier_id in line.modifiers
        )
        return base + deltas

    def total(self, expected: Expected) -> int:
        return sum(self.unit(ln) * ln.quantity for ln in expected.lines) + expected.fee_cents


PT_FINISH_PICKUP = ["só isso", "vou retirar", "pix", "Ana", "sim"]
EN_FINISH_PICKUP = ["that's all", "pickup", "pix", "my name is Ana", "yes"]


def _finish(lang: str) -> list[str]:
    return list(PT_FINISH_PICKUP if lang == "pt" else EN_FINISH_PICKUP)


def build(menu: Menu, tenant: Tenant) -> list[Scenario]:
    f = MenuFacts(menu, tenant)
    out: list[Scenario] = []
    add: Callable[..., None] = lambda *a, **k: out.append(Scenario(*a, **k))  # noqa: E731
    p1, p2 = f.pizzas[0], f.pizzas[1]
    p3 = f.pizzas[2] if len(f.pizzas) > 2 else None
    d1, d2 = f.drinks[0], f.drinks[1]
    big, small = f.size(p1, 0), f.size(p1, len(p1.options) - 1)
    big_word, small_word = spoken_size(big), spoken_size(small)
    n1, n2, dn1, dn2 = spoken(p1), spoken(p2), spoken(d1), spoken(d2)

    # -- 1. confirmation with extra words, never read as "no" ----------------------------
    for i, confirm in enumerate(
        ["pode, no nome da Ana", "sim, vou pagar no pix", "isso mesmo pode mandar",
         "pode sim obrigado", "sim no nome da Ana por favor", "ok pode confirmar no pix"]
    ):  # fmt: skip
        add(
            f"confirm_extra_words_pt_{i}",
            "pt",
            [f"duas {dn1}", "só isso", "retirar", "pix", "meu nome é Ana", confirm],
            Expected([Line(d1.item_id, None, 2)]),
        )
    for i, confirm in enumerate(
        ["yes please, under the name Ana", "yeah go ahead, I'll pay with pix", "sure that's right"]
    ):
        add(
            f"confirm_extra_words_en_{i}",
            "en",
            [f"two {dn1}", "that's all", "pickup", "pix", "my name is Ana", confirm],
            Expected([Line(d1.item_id, None, 2)]),
        )

    # -- 2. follow-ups that do not repeat the item -----------------------------------------
    for i, (first, follow, qty) in enumerate(
        [(f"duas {dn1}", "na verdade, três", 3), (f"quero 2 {dn1}", "na verdade quatro", 4),
         (f"um {dn1}", "aliás são duas", 2), (f"três {dn1}", "melhor duas", 2)]
    ):  # fmt: skip
        add(
            f"followup_quantity_pt_{i}",
            "pt",
            [first, follow, *_finish("pt")],
            Expected([Line(d1.item_id, None, qty)]),
        )
    for i, (first, follow, qty) in enumerate(
        [(f"three {dn1}", "actually make it two", 2), (f"a {dn1}", "actually, three", 3)]
    ):
        add(
            f"followup_quantity_en_{i}",
            "en",
            [first, follow, *_finish("en")],
            Expected([Line(d1.item_id, None, qty)]),
        )
    for i, (ask, take) in enumerate(
        [(f"quanto custa {dn2}?", "então quero uma"), (f"o que vem no {dn2}?", "então quero duas"),
         (f"quanto é {dn2}", "pode ser, quero uma")]
    ):  # fmt: skip
        qty = 2 if "duas" in take else 1
        add(
            f"followup_after_description_pt_{i}",
            "pt",
            [ask, take, *_finish("pt")],
            Expected([Line(d2.item_id, None, qty)]),
        )
    add(
        "followup_after_description_en",
        "en",
        [f"how much is the {dn2}?", "ok I'll take one", *_finish("en")],
        Expected([Line(d2.item_id, None, 1)]),
    )
    if f.sold_out is not None:
        sold = f.sold_out
        for i, accept in enumerate(["pode ser", "pode", "sim, pode ser", "ok, manda essa"]):
            size = f" {spoken_size(sold.options[0])}" if sold.options else ""
            add(
                f"sold_out_alternative_accepted_pt_{i}",
                "pt",
                [f"uma {spoken(sold)}{size}", accept, *_finish("pt")],
                Expected(lines=[]),  # filled below: the alternative is the menu's choice
            )
            out[-1].expected.said.append("@alternative")
        add(
            "sold_out_alternative_accepted_en",
            "en",
            [
                f"one {spoken(sold)}"
                + (f" {spoken_size(sold.options[0])}" if sold.options else ""),
                "sure",
                *_finish("en"),
            ],
            Expected(lines=[], said=["@alternative"]),
        )

    # -- 3. partial removal, swaps, "cancela tudo" -----------------------------------------
    for i, remove in enumerate(["tira uma", "tira um", "remove uma", "pode tirar uma"]):
        add(
            f"remove_part_of_quantity_pt_{i}",
            "pt",
            [f"três {dn1}", remove, *_finish("pt")],
            Expected([Line(d1.item_id, None, 2)]),
        )
    add(
        "remove_part_of_quantity_en",
        "en",
        [f"three {dn1}", f"remove one {dn1}", *_finish("en")],
        Expected([Line(d1.item_id, None, 2)]),
    )
    for i, swap in enumerate(
        [f"troca {dn1} por {dn2}", f"troca o {dn1} pelo {dn2}", f"em vez de {dn1} quero {dn2}"]
    ):
        add(
            f"swap_pt_{i}",
            "pt",
            [f"duas {dn1}", swap, *_finish("pt")],
            Expected([Line(d2.item_id, None, 2)]),
        )
    add(
        "swap_en",
        "en",
        [f"two {dn1}", f"swap the {dn1} for {dn2}", *_finish("en")],
        Expected([Line(d2.item_id, None, 2)]),
    )
    for i, clear in enumerate(["cancela tudo", "cancela tudo, vou começar de novo", "apaga tudo"]):
        add(
            f"cancel_everything_carries_on_pt_{i}",
            "pt",
            [f"duas {dn1}", clear, f"uma {dn2}", *_finish("pt")],
            Expected([Line(d2.item_id, None, 1)]),
        )
    add(
        "cancel_everything_carries_on_en",
        "en",
        [f"two {dn1}", "cancel everything", f"one {dn2}", *_finish("en")],
        Expected([Line(d2.item_id, None, 1)]),
    )

    # -- 4. one size said once for several items ------------------------------------------
    for i, line in enumerate(
        [f"duas pizzas {big_word}s, uma de {n1} e uma de {n2}",
         f"quero duas {big_word}s uma {n1} e uma {n2}",
         f"duas pizza {big_word} uma de {n1} outra de {n2}"]
    ):  # fmt: skip
        add(
            f"one_size_for_several_pt_{i}",
            "pt",
            [line, *_finish("pt")],
            Expected([Line(p1.item_id, big.option_id, 1), Line(p2.item_id, big.option_id, 1)]),
        )

    # -- 5. short names and misspellings ---------------------------------------------------
    for pizza in f.pizzas:
        short = f.short_name(pizza)
        if short is None:
            continue
        for i, line in enumerate([f"uma de {short} {big_word}", f"quero uma {short} {big_word}"]):
            add(
                f"short_name_pt_{pizza.item_id}_{i}",
                "pt",
                [line, *_finish("pt")],
                Expected([Line(pizza.item_id, big.option_id, 1)]),
            )
        break
    longest = max(spoken(p1).split(), key=len)
    if len(longest) >= 5:
        wrong = spoken(p1).replace(longest, misspelt(longest))
        add(
            "misspelt_item_pt",
            "pt",
            [f"uma {wrong} {big_word}", *_finish("pt")],
            Expected([Line(p1.item_id, big.option_id, 1)]),
        )
    crust = f.crust(p1)
    if crust is not None:
        crust_word = max(plain(crust.name).split(), key=len)
        for i, said in enumerate(
            [f"uma {n1} {big_word} com borda de {misspelt(crust_word)}",
             f"uma {n1} {big_word} com {crust_word}"]
        ):  # fmt: skip
            add(
                f"misspelt_modifier_pt_{i}",
                "pt",
                [said, *_finish("pt")],
                Expected([Line(p1.item_id, big.option_id, 1, modifiers=(crust.modifier_id,))]),
            )

    # -- 6. an address said on its own; sold-out never replaced across categories -----------
    zone = f.zone()
    if zone is not None:
        hood = zone.neighbourhoods[0]
        for i, address in enumerate(
            [f"Rua das Flores 123, {hood}", f"é na rua das flores número 123 {hood}",
             f"avenida brasil mil e duzentos apto 5 {hood}"]
        ):  # fmt: skip
            add(
                f"address_alone_pt_{i}",
                "pt",
                [f"duas {dn1}", f"uma {n1} {big_word}", "só isso", address, "pix", "Ana", "sim"],
                Expected(
                    [Line(d1.item_id, None, 2), Line(p1.item_id, big.option_id, 1)],
                    fulfilment="delivery",
                    fee_cents=zone.fee_cents,
                ),
            )
        add(
            "address_alone_en",
            "en",
            [
                f"one {n1} {spoken_size_en(big)}",
                f"two {dn1}",
                "that's all",
                f"123 Flower Street, {hood}",
                "card",
                "my name is Ana",
                "yes",
            ],
            Expected(
                [Line(p1.item_id, big.option_id, 1), Line(d1.item_id, None, 2)],
                fulfilment="delivery",
                fee_cents=zone.fee_cents,
                payment="card",
            ),
        )
        add(
            "out_of_zone_refused_then_pickup_pt",
            "pt",
            [
                f"uma {n1} {big_word}",
                "só isso",
                "entrega na Rua Longe 10, bairro Jardim Distante",
                "então vou retirar",
                "pix",
                "Ana",
                "sim",
            ],
            Expected([Line(p1.item_id, big.option_id, 1)], said=["não entregamos em"]),
        )

    # -- 7. a person, however asked --------------------------------------------------------
    for i, ask in enumerate(
        ["me transfere pro atendimento", "quero falar com uma pessoa", "chama o atendente",
         "tem como falar com alguém", "me passa pro gerente"]
    ):  # fmt: skip
        add(f"transfer_pt_{i}", "pt", [f"uma {dn1}", ask], Expected(action="transferred"))
    for i, ask in enumerate(["can I speak to a person", "transfer me to someone please"]):
        add(f"transfer_en_{i}", "en", [ask], Expected(action="transferred"))

    for i, (drop, resize) in enumerate(
        [(f"não quero mais {dn1}", f"muda pra {small_word}"),
         (f"tira {dn1}", f"na verdade {small_word}")]
    ):  # fmt: skip
        add(
            f"followup_after_a_removal_pt_{i}",
            "pt",
            [
                f"uma {n1} {big_word}",
                f"duas {dn1}",
                drop,
                resize,
                "quanto ficou?",
                *_finish("pt")[1:],
            ],
            Expected([Line(p1.item_id, small.option_id, 1)]),
        )

    # -- keeps going when it does not understand; a person after repeated failures ----------
    for i, (junk, accept) in enumerate(
        [(["blablabla", "xyzzy qwerty", "hmmm trololo"], "sim"),
         (["quero um lasanha de berinjela", "tem sushi?", "aquele negócio lá"], "pode ser")]
    ):  # fmt: skip
        add(
            f"not_understood_then_a_person_pt_{i}",
            "pt",
            [*junk, accept],
            Expected(action="transferred", said=["Quer que eu chame um atendente?"]),
        )
    add(
        "not_understood_then_a_person_en",
        "en",
        ["blah blah", "purple monkey dishwasher", "the thing over there", "yes please"],
        Expected(action="transferred", said=["Shall I get you a person?"]),
    )
    add(
        "not_understood_then_orders_pt",
        "pt",
        ["blablabla", f"ah tá, duas {dn1}", *_finish("pt")],
        Expected([Line(d1.item_id, None, 2)], said=["por exemplo"]),
    )

    # -- 8. the reply follows the caller's language ----------------------------------------
    add(
        "english_caller_bilingual_tenant",
        "pt",
        [
            f"hi, I would like two {dn1} please",
            "that's all",
            "pickup",
            "pix",
            "my name is Ana",
            "yes",
        ],
        Expected([Line(d1.item_id, None, 2)], said=["Anything else?", "Order confirmed!"]),
        bilingual=True,
    )

    # -- capabilities: flavours, modifiers, notes, payment with change, delivery -----------
    half_phrasings = [
        f"uma {big_word} meio {n1} meio {n2}",
        f"quero uma pizza {big_word} metade {n1} metade {n2}",
        f"uma {big_word} meia {n1} meia {n2}",
        f"uma pizza meio a meio {n1} e {n2} {big_word}",
    ]
    for i, line in enumerate(half_phrasings):
        add(
            f"half_and_half_pt_{i}",
            "pt",
            [line, *_finish("pt")],
            Expected([Line(p1.item_id, big.option_id, 1, flavours=(p1.item_id, p2.item_id))]),
        )
    add(
        "half_and_half_en",
        "en",
        [f"one {spoken_size_en(big)} pizza half {n1} half {n2}", *_finish("en")],
        Expected([Line(p1.item_id, big.option_id, 1, flavours=(p1.item_id, p2.item_id))]),
    )
    if p3 is not None and p1.max_flavours >= 3:
        add(
            "three_flavours_pt",
            "pt",
            [f"uma {big_word} três sabores {n1}, {n2} e {spoken(p3)}", *_finish("pt")],
            Expected(
                [Line(p1.item_id, big.option_id, 1, flavours=(p1.item_id, p2.item_id, p3.item_id))]
            ),
        )
    if crust is not None:
        crust_said = plain(crust.name)
        add(
            "the_caller_from_the_issue_pt",
            "pt",
            [
                f"uma {big_word} meio {n1} meio {n2} com {crust_said}, sem cebola",
                *_finish("pt"),
            ],
            Expected(
                [
                    Line(
                        p1.item_id,
                        big.option_id,
                        1,
                        flavours=(p1.item_id, p2.item_id),
                        modifiers=(crust.modifier_id,),
                        notes="sem cebola",
                    )
                ]
            ),
        )
        add(
            "modifier_after_the_item_pt",
            "pt",
            [f"uma {n1} {small_word}", f"com {crust_said}", *_finish("pt")],
            Expected([Line(p1.item_id, small.option_id, 1, modifiers=(crust.modifier_id,))]),
        )
    extra = f.extra(p1)
    if extra is not None:
        add(
            "extra_modifier_pt",
            "pt",
            [f"uma {n1} {big_word} com {plain(extra.name)}", *_finish("pt")],
            Expected([Line(p1.item_id, big.option_id, 1, modifiers=(extra.modifier_id,))]),
        )
    for i, (said, note) in enumerate(
        [("sem cebola", "sem cebola"), ("bem assada", "bem assada"),
         ("sem azeitona por favor", "sem azeitona")]
    ):  # fmt: skip
        add(
            f"note_pt_{i}",
            "pt",
            [f"uma {n1} {big_word} {said}", *_finish("pt")],
            Expected([Line(p1.item_id, big.option_id, 1, notes=note)]),
        )
    add(
        "note_after_the_item_pt",
        "pt",
        [f"uma {n1} {big_word}", "bem assada por favor", *_finish("pt")],
        Expected([Line(p1.item_id, big.option_id, 1, notes="bem assada")]),
    )
    for i, (said, change) in enumerate(
        [("dinheiro, troco pra cem", 10_000), ("vou pagar em dinheiro troco para 200", 20_000),
         ("em dinheiro, troco de cento e cinquenta", 15_000)]
    ):  # fmt: skip
        add(
            f"cash_with_change_pt_{i}",
            "pt",
            [f"uma {n1} {big_word}", "só isso", "retirar", said, "Ana", "sim"],
            Expected([Line(p1.item_id, big.option_id, 1)], payment="cash", change_cents=change),
        )
    for i, (said, method) in enumerate(
        [("cartão de crédito", "credit_card"), ("no débito", "debit_card"), ("pix", "pix")]
    ):
        add(
            f"payment_method_pt_{i}",
            "pt",
            [f"duas {dn1}", "só isso", "retirar", said, "Ana", "sim"],
            Expected([Line(d1.item_id, None, 2)], payment=method),
        )
    add(
        "cash_with_change_en",
        "en",
        [f"two {dn1}", "that's all", "pickup", "cash, change for 100", "my name is Ana", "yes"],
        Expected([Line(d1.item_id, None, 2)], payment="cash", change_cents=10_000),
    )
    for i, name_line in enumerate(["meu nome é Carlos", "é Carlos", "Carlos Souza"]):
        name = "Carlos Souza" if "Souza" in name_line else "Carlos"
        add(
            f"customer_name_pt_{i}",
            "pt",
            [f"duas {dn1}", "só isso", "retirar", "pix", name_line, "sim"],
            Expected([Line(d1.item_id, None, 2)], name=name),
        )
    add(
        "stt_noise_pt",
        "pt",
        [
            f"hum tipo quero 2 {dn1} e hã uma {n1} {big_word}",
            "é só isso",
            "vou buscar",
            "pix",
            "Ana",
            "isso",
        ],
        Expected([Line(d1.item_id, None, 2), Line(p1.item_id, big.option_id, 1)]),
    )
    return out


def spoken_size(option: MenuOption) -> str:
    return plain(option.name).split()[0]


def spoken_size_en(option: MenuOption) -> str:
    word = spoken_size(option)
    return {"grande": "large", "media": "medium", "broto": "small", "pequena": "small"}.get(
        word, word
    )
