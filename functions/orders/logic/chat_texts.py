"""What the WhatsApp channel says on its own (everything about the order itself comes from
the ordering core's prompts), per language, in one place."""

from __future__ import annotations

from atende_shared.ordering.prompts import Lang

_TEXT: dict[str, dict[Lang, str]] = {
    "greeting": {
        "pt": "Olá! Aqui é a assistente virtual de {business} no WhatsApp. Pode mandar o seu "
        "pedido por texto.",
        "en": "Hello! This is the virtual assistant of {business} on WhatsApp. You can send "
        "your order as text.",
    },
    "audio": {
        "pt": "Ainda não consigo ouvir áudios por aqui. Pode escrever o seu pedido?",
        "en": "I cannot listen to audio messages here yet. Could you type your order?",
    },
    "image": {
        "pt": "Não consigo ver imagens por aqui. Pode escrever o que deseja pedir?",
        "en": "I cannot see pictures here. Could you type what you would like to order?",
    },
    "video": {
        "pt": "Não consigo ver vídeos por aqui. Pode escrever o que deseja pedir?",
        "en": "I cannot watch videos here. Could you type what you would like to order?",
    },
    "document": {
        "pt": "Não consigo abrir arquivos por aqui. Pode escrever o seu pedido?",
        "en": "I cannot open files here. Could you type your order?",
    },
    "sticker": {
        "pt": "😊 Quando quiser, é só escrever o seu pedido.",
        "en": "😊 Whenever you are ready, just type your order.",
    },
    "contact": {
        "pt": "Recebi um contato, mas só consigo anotar pedidos por texto. O que vai querer?",
        "en": "I got a contact card, but I can only take orders as text. What would you like?",
    },
    "other": {
        "pt": "Não consegui ler essa mensagem. Pode escrever o seu pedido em texto?",
        "en": "I could not read that message. Could you type your order?",
    },
    "location_unreadable": {
        "pt": "Recebi a localização, mas não consegui ler o endereço. Pode escrever o endereço "
        "de entrega?",
        "en": "I got the location but could not read the address. Could you type the "
        "delivery address?",
    },
    "rate_limited": {
        "pt": "Recebi muitas mensagens seguidas. Vou responder em instantes, uma de cada vez.",
        "en": "I received many messages in a row. I will answer in a moment, one at a time.",
    },
    "handed_off": {
        "pt": "Certo! Chamei uma pessoa da equipe, que vai continuar o atendimento por aqui "
        "em breve.",
        "en": "Okay! I have called someone from the team, who will continue here shortly.",
    },
    "restaurant_handoff": {
        "pt": "Atende: o cliente {customer} pediu para falar com uma pessoa no WhatsApp. O "
        "assistente pausou esta conversa por {hours} h.",
        "en": "Atende: customer {customer} asked for a person on WhatsApp. The assistant "
        "paused this conversation for {hours} h.",
    },
    "opted_out": {
        "pt": "Pronto: você não vai mais receber avisos de pedidos por aqui. Para voltar a "
        "recebê-los, responda VOLTAR.",
        "en": "Done: you will no longer get order updates here. To get them again, reply START.",
    },
    "opted_in": {
        "pt": "Pronto: você voltará a receber os avisos dos seus pedidos por aqui.",
        "en": "Done: you will get your order updates here again.",
    },
    "trouble": {
        "pt": "Desculpe, tive um problema para entender agora. Pode repetir, por favor?",
        "en": "Sorry, I had trouble with that just now. Could you say it again, please?",
    },
    "too_long": {
        "pt": "(Sua mensagem era longa; li só o começo.)",
        "en": "(Your message was long; I read only the beginning.)",
    },
}


def say(key: str, lang: Lang, **values: object) -> str:
    return _TEXT[key][lang].format(**values)
