"""Everything the agent says or tells the LLM, in one place, per language.

Tool results are short sentences the offline brain can speak verbatim and a real LLM can
rephrase. Money is formatted here from integer cents; nothing in this module computes a
price. Languages: ``pt`` (the default, pt-BR) and ``en``.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["pt", "en"]


def lang_of(language: str) -> Lang:
    """``pt-BR``/``pt`` → ``pt``; anything English → ``en``; unknown → ``pt`` (the market)."""
    return "en" if language.lower().startswith("en") else "pt"


def money(cents: int, lang: Lang, currency: str = "BRL") -> str:
    """R$ 45,90 in Portuguese, R$ 45.90 in English (other currencies by code)."""
    symbol = "R$" if currency == "BRL" else currency
    whole, frac = divmod(cents, 100)
    if lang == "pt":
        return f"{symbol} {whole:,}".replace(",", ".") + f",{frac:02d}"
    return f"{symbol} {whole:,}.{frac:02d}"


SYSTEM_INSTRUCTIONS: dict[Lang, str] = {
    "pt": (
        "Você é a atendente virtual de {business}, atendendo por telefone. Fale português do "
        "Brasil, frases curtas, sem listas nem emojis. Anote o pedido usando as ferramentas: "
        "procure no cardápio, adicione e remova itens pelo id do cardápio (com tamanho, "
        "sabores de pizza meio a meio, adicionais e observações como 'sem cebola'), leia o "
        "pedido com o total calculado pelo sistema, pergunte se é para retirar ou entregar "
        "(e o endereço completo com bairro), a forma de pagamento (dinheiro com troco, cartão "
        "ou PIX) e o nome do cliente, peça confirmação e só então confirme; diga o número "
        "do pedido. Nunca invente preços, taxas nem itens: use apenas o que as ferramentas "
        "devolvem. Se o cliente falar outra língua que a casa atende, responda nela. "
        "Se pedirem para falar com uma pessoa, "
        "transfira. Ao final, despeça-se e encerre a chamada.\n{extra}"
    ),
    "en": (
        "You are the phone assistant of {business}. Speak English in short sentences, no "
        "lists or emojis. Take the order with the tools: search the menu, add and remove "
        "items by menu id (with size, half-and-half flavours, extras and notes such as 'no "
        "onions'), read the order back with the system's total, ask pickup or delivery (and "
        "the full address with neighbourhood), the payment (cash with change, card or PIX) "
        "and the customer's name, ask for confirmation and only then confirm; say the order "
        "number. Never invent prices, fees or items: use only what the tools return. If "
        "the caller speaks another language the business serves, answer in it. "
        "If the caller asks for a "
        "person, transfer. At the end say goodbye and end the call.\n{extra}"
    ),
}

_TEXT: dict[str, dict[Lang, str]] = {
    "greeting": {
        "pt": "Olá! Você ligou para {business}. Eu sou a assistente virtual. O que vai ser hoje?",
        "en": "Hello! You have reached {business}. I am the virtual assistant. What can I get "
        "you today?",
    },
    "suspended": {
        "pt": "Olá! Você ligou para {business}. No momento não estamos recebendo pedidos por "
        "telefone. Pedimos desculpas e agradecemos a ligação.",
        "en": "Hello! You have reached {business}. We are not taking phone orders right now. "
        "Sorry for the inconvenience, and thank you for calling.",
    },
    "closed_hours": {
        "pt": "Olá! Você ligou para {business}. Estamos fechados agora. {hours}Obrigado pela "
        "ligação!",
        "en": "Hello! You have reached {business}. We are closed right now. {hours}Thank you "
        "for calling!",
    },
    "closed_hours_message": {
        "pt": "Olá! Você ligou para {business}. Estamos fechados agora; anotamos o seu número "
        "e retornaremos quando abrirmos. Obrigado!",
        "en": "Hello! You have reached {business}. We are closed now; we noted your number and "
        "will call you back when we open. Thank you!",
    },
    "hours_today": {
        "pt": "Hoje abrimos das {opens} às {closes}. ",
        "en": "Today we are open from {opens} to {closes}. ",
    },
    "added": {"pt": "Anotado: {line}.", "en": "Added {line}."},
    "anything_else": {"pt": "Mais alguma coisa?", "en": "Anything else?"},
    "removed": {"pt": "Tirei {name} do pedido.", "en": "Removed {name} from the order."},
    "changed": {"pt": "Alterado: agora são {line}.", "en": "Changed: now {line}."},
    "not_in_cart": {
        "pt": "{name} não está no pedido.",
        "en": "{name} is not in the order.",
    },
    "unknown_item": {
        "pt": "Não encontrei esse item no cardápio.",
        "en": "I could not find that item on the menu.",
    },
    "unknown_option": {
        "pt": "{name} não tem essa opção. Opções: {options}.",
        "en": "{name} does not come in that option. Options: {options}.",
    },
    "needs_option": {
        "pt": "Qual tamanho de {name}? Temos {options}.",
        "en": "Which size of {name}? We have {options}.",
    },
    "bad_quantity": {
        "pt": "A quantidade precisa ser entre 1 e {max}.",
        "en": "The quantity must be between 1 and {max}.",
    },
    "sold_out": {
        "pt": "Desculpe, {name} acabou hoje.",
        "en": "Sorry, {name} is sold out today.",
    },
    "sold_out_tag": {"pt": " (esgotado)", "en": " (sold out)"},
    "sold_out_alternative": {
        "pt": " Posso oferecer {alternative} por {price}?",
        "en": " Can I offer you {alternative} for {price}?",
    },
    "not_enough_stock": {
        "pt": "Desculpe, só temos {stock} de {name}.",
        "en": "Sorry, we only have {stock} of {name}.",
    },
    "cart_empty": {
        "pt": "Seu pedido ainda está vazio. O que vai querer?",
        "en": "Your order is still empty. What would you like?",
    },
    "cart": {
        "pt": "Seu pedido: {lines}. Total {total}.",
        "en": "Your order: {lines}. Total {total}.",
    },
    "delivery_fee_note": {"pt": "", "en": ""},
    "ask_fulfilment": {
        "pt": "É para retirar no balcão ou para entrega?",
        "en": "Is it for pickup or delivery?",
    },
    "ask_address": {
        "pt": "Qual é o endereço de entrega?",
        "en": "What is the delivery address?",
    },
    "fulfilment_pickup": {
        "pt": "Certo, para retirar; fica pronto em uns {minutes} minutos.",
        "en": "Okay, for pickup; it will be ready in about {minutes} minutes.",
    },
    "fulfilment_delivery": {
        "pt": "Certo, entrega em {address}.",
        "en": "Okay, delivery to {address}.",
    },
    "ask_confirm": {
        "pt": "Posso confirmar o pedido?",
        "en": "Shall I confirm the order?",
    },
    "confirm_needs_fulfilment": {
        "pt": "Antes de confirmar: é para retirar ou para entrega?",
        "en": "Before I confirm: is it for pickup or delivery?",
    },
    "confirmed": {
        "pt": "Pedido confirmado! Número {number}, total {total}. Previsão de {minutes} minutos. "
        "Obrigado!",
        "en": "Order confirmed! Number {number}, total {total}. About {minutes} minutes. "
        "Thank you!",
    },
    "already_confirmed": {
        "pt": "Seu pedido já está confirmado: número {number}, total {total}.",
        "en": "Your order is already confirmed: number {number}, total {total}.",
    },
    "order_locked": {
        "pt": "O pedido já foi confirmado e não pode mais ser alterado por aqui.",
        "en": "The order is already confirmed and can no longer be changed here.",
    },
    "order_failed": {
        "pt": "Tive um problema para registrar o pedido. Vou tentar de novo em instantes.",
        "en": "I had a problem placing the order. Let me try again in a moment.",
    },
    "transferring": {
        "pt": "Claro, vou transferir para um atendente. Um momento.",
        "en": "Of course, I will transfer you to a person. One moment.",
    },
    "no_transfer": {
        "pt": "No momento não há atendente disponível, mas eu posso anotar o seu pedido.",
        "en": "No one is available to take the call right now, but I can take your order.",
    },
    "transfer_failed": {
        "pt": "Não consegui transferir agora. Posso continuar com o seu pedido?",
        "en": "I could not transfer the call right now. Can I continue with your order?",
    },
    "goodbye": {"pt": "Obrigado pela ligação. Até logo!", "en": "Thanks for calling. Goodbye!"},
    "max_duration": {
        "pt": "Chegamos ao tempo máximo desta ligação. Obrigado por ligar, até logo!",
        "en": "We have reached the maximum length of this call. Thanks for calling, goodbye!",
    },
    "not_understood": {
        "pt": "Desculpe, não entendi. Pode repetir o que deseja pedir?",
        "en": "Sorry, I did not get that. Could you repeat what you would like?",
    },
    "what_to_change": {
        "pt": "Tudo bem. O que deseja mudar no pedido?",
        "en": "All right. What would you like to change?",
    },
    "search_none": {
        "pt": "Não temos {query} no cardápio. Temos, por exemplo: {suggestions}.",
        "en": "We don't have {query} on the menu. We have, for example: {suggestions}.",
    },
    "search_results": {"pt": "Temos: {items}.", "en": "We have: {items}."},
    "describe": {
        "pt": "{name}: {price}.{description}{options}",
        "en": "{name}: {price}.{description}{options}",
    },
    "describe_options": {"pt": " Tamanhos: {options}.", "en": " Sizes: {options}."},
}

_MORE: dict[str, dict[Lang, str]] = {
    "flavours_name": {"pt": "Pizza meio a meio {flavours}", "en": "Half-and-half pizza {flavours}"},
    "with_modifiers": {"pt": "com {modifiers}", "en": "with {modifiers}"},
    "fee_line": {"pt": "taxa de entrega {fee}", "en": "delivery fee {fee}"},
    "no_flavours": {
        "pt": "{name} não pode ser meio a meio.",
        "en": "{name} cannot be half-and-half.",
    },
    "too_many_flavours": {
        "pt": "{name} pode ter no máximo {max} sabores.",
        "en": "{name} can have at most {max} flavours.",
    },
    "not_a_flavour": {
        "pt": "{name} não pode ser sabor de {item}.",
        "en": "{name} cannot be a flavour of {item}.",
    },
    "unknown_modifier": {
        "pt": "{name} não tem esse adicional. Opções: {groups}.",
        "en": "{name} does not have that extra. Options: {groups}.",
    },
    "modifier_sold_out": {
        "pt": "Desculpe, {name} acabou hoje.",
        "en": "Sorry, {name} is sold out today.",
    },
    "too_many_modifiers": {
        "pt": "Em {group} dá para escolher no máximo {max}.",
        "en": "You can choose at most {max} in {group}.",
    },
    "needs_modifier": {
        "pt": "Qual {group} para {name}? Temos {options}.",
        "en": "Which {group} for the {name}? We have {options}.",
    },
    "describe_group": {"pt": " {group}: {options}.", "en": " {group}: {options}."},
    "describe_flavours": {
        "pt": " Pode ser até {max} sabores.",
        "en": " It can have up to {max} flavours.",
    },
    "replaced": {"pt": "Tirei {old}.", "en": "Removed {old}."},
    "cleared": {
        "pt": "Pronto, cancelei os itens; o pedido está vazio. O que vai querer?",
        "en": "Done, I removed everything; the order is empty. What would you like?",
    },
    "readback_delivery": {"pt": "Entrega em {address}.", "en": "Delivery to {address}."},
    "readback_pickup": {"pt": "Para retirar.", "en": "For pickup."},
    "readback_name": {"pt": "No nome de {name}.", "en": "Under the name {name}."},
    "ask_neighbourhood": {
        "pt": "Qual é o bairro ou o CEP?",
        "en": "Which neighbourhood, or what is the postcode?",
    },
    "quote_free": {
        "pt": "Entregamos sem taxa, em uns {minutes} minutos.",
        "en": "We deliver there with no fee, in about {minutes} minutes.",
    },
    "quote": {
        "pt": "Para {zone} a taxa é {fee}, pedido mínimo {minimum}, em uns {minutes} minutos.",
        "en": "For {zone} the fee is {fee}, minimum order {minimum}, about {minutes} minutes.",
    },
    "out_of_zone": {
        "pt": "Desculpe, não entregamos em {place}; entregamos em {zones}.",
        "en": "Sorry, we do not deliver to {place}; we deliver to {zones}.",
    },
    "offer_pickup": {
        "pt": " Quer retirar no balcão, ou entregar em outro endereço?",
        "en": " Would you like to pick it up, or have it delivered somewhere else?",
    },
    "no_pickup": {"pt": "Só trabalhamos com entrega.", "en": "We only deliver."},
    "no_delivery": {"pt": "Só trabalhamos com retirada.", "en": "We only do pickup."},
    "zone_fee": {
        "pt": "Taxa de entrega {fee}, em uns {minutes} minutos.",
        "en": "Delivery fee {fee}, about {minutes} minutes.",
    },
    "below_minimum": {
        "pt": "O pedido mínimo para entrega em {zone} é {minimum}. Quer acrescentar algo?",
        "en": "The minimum order for delivery to {zone} is {minimum}. Anything to add?",
    },
    "ask_payment": {"pt": "Como vai pagar: {methods}?", "en": "How will you pay: {methods}?"},
    "pay_cash": {"pt": "dinheiro", "en": "cash"},
    "pay_credit_card": {"pt": "cartão de crédito", "en": "credit card"},
    "pay_debit_card": {"pt": "cartão de débito", "en": "debit card"},
    "pay_card": {"pt": "cartão", "en": "card"},
    "pay_pix": {"pt": "PIX", "en": "PIX"},
    "pay_unknown": {"pt": "a combinar", "en": "to be agreed"},
    "payment": {"pt": "Pagamento em {method}.", "en": "Paying by {method}."},
    "payment_change": {
        "pt": "Pagamento em {method}, troco para {change}.",
        "en": "Paying by {method}, change for {change}.",
    },
    "payment_not_accepted": {
        "pt": "Não aceitamos {method}. Aceitamos {methods}.",
        "en": "We do not take {method}. We take {methods}.",
    },
    "change_too_small": {
        "pt": "Troco para {change} não cobre o total de {total}. Troco para quanto?",
        "en": "Change for {change} does not cover the total of {total}. Change for how much?",
    },
    "ask_name": {"pt": "Em nome de quem fica o pedido?", "en": "What name is the order under?"},
    "name_noted": {"pt": "Obrigado, {name}.", "en": "Thank you, {name}."},
    "welcome_back": {
        "pt": "Olá, {name}! Que bom falar com você de novo. Quer o de sempre ou algo diferente?",
        "en": "Hello {name}, good to hear from you again! The same as last time, or something "
        "different?",
    },
    "no_last_order": {
        "pt": "Não encontrei um pedido anterior. O que vai querer?",
        "en": "I could not find a previous order. What would you like?",
    },
    "last_order_added": {
        "pt": "Coloquei o seu último pedido, com os preços de hoje.",
        "en": "I added your last order at today's prices.",
    },
    "last_order_missing": {
        "pt": "Hoje não temos {names}.",
        "en": "Today we do not have {names}.",
    },
    "which_one": {"pt": "Qual deles? Temos {items}.", "en": "Which one? We have {items}."},
    "not_understood_suggest": {
        "pt": "Desculpe, não entendi. Temos, por exemplo, {items}. O que vai querer?",
        "en": "Sorry, I did not get that. We have, for example, {items}. What would you like?",
    },
    "offer_person": {
        "pt": "Desculpe, não estou conseguindo entender. Quer que eu chame um atendente?",
        "en": "Sorry, I am having trouble understanding. Shall I get you a person?",
    },
    "sorry_again": {"pt": "Desculpe, não entendi.", "en": "Sorry, I did not catch that."},
    "what_to_order": {
        "pt": "Tudo bem. O que vai querer?",
        "en": "All right. What would you like?",
    },
    "ask_size_again": {
        "pt": "Qual tamanho? Temos {options}.",
        "en": "Which size? We have {options}.",
    },
}
_TEXT.update(_MORE)


def text(key: str, lang: Lang, **values: object) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in."""
    return _TEXT[key][lang].format(**values)


def system_instructions(lang: Lang, *, business: str, extra: str = "") -> str:
    """The LLM's instructions: the house rules plus the tenant's own script."""
    return SYSTEM_INSTRUCTIONS[lang].format(business=business, extra=extra).strip()


def join_names(names: list[str], lang: Lang, *, choice: bool = False) -> str:
    """``a, b e c`` / ``a, b and c`` (``choice``: ``a, b ou c`` / ``a, b or c``)."""
    if len(names) <= 1:
        return "".join(names)
    conj = (" ou " if choice else " e ") if lang == "pt" else (" or " if choice else " and ")
    return ", ".join(names[:-1]) + conj + names[-1]
