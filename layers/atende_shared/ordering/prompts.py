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
        "procure no cardápio, adicione e remova itens pelo id do cardápio, leia o pedido com "
        "o total calculado pelo sistema, pergunte se é para retirar ou entregar (e o "
        "endereço), peça confirmação e só então confirme. Nunca invente preços nem itens: "
        "use apenas o que as ferramentas devolvem. Se pedirem para falar com uma pessoa, "
        "transfira. Ao final, despeça-se e encerre a chamada.\n{extra}"
    ),
    "en": (
        "You are the phone assistant of {business}. Speak English in short sentences, no "
        "lists or emojis. Take the order with the tools: search the menu, add and remove "
        "items by menu id, read the order back with the system's total, ask pickup or "
        "delivery (and the address), ask for confirmation and only then confirm. Never "
        "invent prices or items: use only what the tools return. If the caller asks for a "
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
    "fulfilment_pickup": {"pt": "Certo, para retirar.", "en": "Okay, for pickup."},
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
        "pt": "Pedido confirmado! Número {number}, total {total}. Obrigado!",
        "en": "Order confirmed! Number {number}, total {total}. Thank you!",
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


def text(key: str, lang: Lang, **values: object) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in."""
    return _TEXT[key][lang].format(**values)


def system_instructions(lang: Lang, *, business: str, extra: str = "") -> str:
    """The LLM's instructions: the house rules plus the tenant's own script."""
    return SYSTEM_INSTRUCTIONS[lang].format(business=business, extra=extra).strip()


def join_names(names: list[str], lang: Lang) -> str:
    """``a, b e c`` / ``a, b and c``."""
    if len(names) <= 1:
        return "".join(names)
    conj = " e " if lang == "pt" else " and "
    return ", ".join(names[:-1]) + conj + names[-1]
