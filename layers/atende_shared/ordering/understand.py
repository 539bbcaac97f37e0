"""Deterministic understanding of one caller utterance (Portuguese or English).

:func:`interpret` turns what the caller said, plus where the call stands, into the tool
calls an LLM would make (``add_item``, ``remove_item``, ``change_item``, ``search_menu``,
``read_back_cart``, ``set_fulfilment``, ``confirm_order``, ``transfer_to_human``,
``end_call``) or a sentence to say. It never prices anything: it only picks menu ids and
quantities. The rules, in order: a person request, a goodbye, the answer to a pending
question (confirmation, pickup/delivery, address), "that's all", a menu or price
question, then item mentions (with quantities, sizes, removals and corrections), and
finally a menu search for whatever words are left ("unknown item").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from atende_shared.ordering.catalog import Mention, normalise
from atende_shared.ordering.state import OrderState

NUMBER_WORDS: dict[str, int] = {
    # Portuguese
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5,
    "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12,
    "quinze": 15, "vinte": 20, "duzia": 12,
    # English
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "dozen": 12, "couple": 2,
}  # fmt: skip
_HALF_DOZEN = (("meia", "duzia"), ("half", "dozen"), ("half", "a", "dozen"))

REMOVE_CUES = frozenset(
    {"sem", "tira", "tirar", "tire", "remove", "remova", "remover", "cancela", "cancelar",
     "without", "drop", "skip", "exclui", "excluir"}
)  # fmt: skip
ADD_CUES = frozenset(
    {"quero", "queria", "adiciona", "adicionar", "coloca", "bota", "mais", "tambem", "want",
     "add", "also", "plus", "have", "get", "gostaria", "manda", "traz", "like"}
)  # fmt: skip
CORRECTION_PHRASES = (
    "na verdade", "alias", "corrigindo", "em vez", "ao inves", "muda", "mudar", "troca",
    "trocar", "actually", "instead", "change", "make it", "make that", "correction",
)  # fmt: skip
PERSON_PHRASES = (
    "atendente", "pessoa", "humano", "falar com alguem", "gerente", "person", "human",
    "someone", "operator", "representative", "manager", "real agent",
)  # fmt: skip
GOODBYE_PHRASES = (
    "tchau", "ate logo", "desligar", "pode desligar", "desisto", "deixa pra la", "bye",
    "goodbye", "hang up", "never mind", "nevermind", "cancel everything", "cancela tudo",
)  # fmt: skip
DONE_PHRASES = (
    "so isso", "e so", "e isso", "mais nada", "nada mais", "pode fechar", "fechar o pedido",
    "so isso mesmo", "thats all", "that s all", "that is all", "nothing else", "thats it",
    "that s it", "that will be all", "close the order", "finish the order", "i m done",
    "im done",
)  # fmt: skip
YES_PHRASES = (
    "sim", "isso", "pode", "confirmo", "confirma", "confirmar", "certo", "ok", "claro",
    "perfeito", "beleza", "fechado", "yes", "yeah", "yep", "sure", "correct", "confirm",
    "go ahead", "sounds good", "right", "okay",
)  # fmt: skip
NO_PHRASES = ("nao", "no", "nope", "errado", "wrong", "espera", "wait")
PICKUP_PHRASES = (
    "retirar", "retirada", "retiro", "buscar", "busco", "balcao", "pickup", "pick up",
    "pick it up", "collect", "takeaway", "take away", "levar", "viagem",
)  # fmt: skip
DELIVERY_PHRASES = ("entrega", "entregar", "delivery", "deliver", "enviar", "mandar")
MENU_PHRASES = (
    "cardapio", "menu", "o que tem", "o que voces tem", "what do you have", "opcoes",
    "what do you sell", "quais sabores", "which flavors",
)  # fmt: skip
#: "Do you have X?" asks about X; it does not order it.
QUESTION_PHRASES = (
    "tem", "voces tem", "vcs tem", "existe", "do you have", "do you guys have", "is there",
    "have you got", "do you sell", "voces vendem",
)  # fmt: skip
PRICE_PHRASES = (
    "quanto custa", "quanto e", "quanto sai", "quanto fica", "preco", "valor", "how much",
    "price", "what s in", "what is in", "tell me about", "o que vem",
)  # fmt: skip
_NOISE = frozenset(
    {"eu", "me", "ve", "da", "de", "do", "por", "favor", "please", "i", "d", "ll", "want",
     "quero", "queria", "gostaria", "the", "o", "a", "uma", "um", "tem", "have", "you",
     "voces", "e", "and", "with", "com", "some", "algum", "alguma", "like", "would", "can",
     "get", "pra", "para", "mim", "for", "my", "of", "to", "oi", "ola", "hi", "hello", ",",
     "hmm", "ah", "bom", "dia", "boa", "tarde", "noite", "mais", "also", "tambem", "que",
     "quais", "qual", "what", "which", "vcs", "sell", "vendem", "is", "there", "got", "s"}
)  # fmt: skip
_ADDRESS_AFTER = re.compile(
    r"(?:entrega|entregar|delivery|deliver|enviar|mandar)\w*[\s,:]*"
    r"(?:(?:na|no|em|para|pra|pro|to|at|address|endereco|endereço|é|e|is|o|the|de)[\s,:]+)*"
    r"(?P<address>.*)$",
    re.IGNORECASE,
)


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Understanding:
    """What to do with one utterance: tool calls, or a sentence key to say."""

    calls: list[ToolCall] = field(default_factory=list)
    say: str | None = None
    done: bool = False  # "that's all" was said: read the order back after these calls


def _leftover(words: list[str]) -> list[str]:
    """The words that could name something: no fillers, numbers or ordering verbs."""
    return [
        w
        for w in words
        if w not in _NOISE and w not in NUMBER_WORDS and not w.isdigit() and w not in ADD_CUES
    ]


def _has(phrases: tuple[str, ...] | frozenset[str], norm: str) -> bool:
    padded = f" {norm.replace(',', ' ')} "
    return any(f" {p} " in padded for p in phrases)


def _quantity(words: list[str], *, articles: bool) -> int | None:
    """The last quantity said in ``words`` (digits or number words), if any.

    ``articles``: whether English "a"/"an" count as one (not in Portuguese, where "a" is
    "the", nor in corrections, where "make it a large" is about the size)."""
    joined = tuple(words)
    for pattern in _HALF_DOZEN:
        n = len(pattern)
        if any(joined[i : i + n] == pattern for i in range(len(joined) - n + 1)):
            return 6
    for word in reversed(words):
        if word.isdigit() and 0 < int(word) <= 1000:
            return int(word)
        if word in ("a", "an") and (not articles or "dozen" in words):
            continue
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
    return None


def _clause_start(words: list[str], start: int, floor: int) -> int:
    """Index after the last comma or "e"/"and" between ``floor`` and ``start``."""
    for i in range(start - 1, floor - 1, -1):
        if words[i] in {",", "e", "and"}:
            return i + 1
    return floor


def _clause_end(words: list[str], end: int, ceiling: int) -> int:
    for i in range(end, ceiling):
        if words[i] in {",", "e", "and"}:
            return i
    return ceiling


def extract_address(utterance: str) -> str | None:
    """The address after "entrega"/"delivery" (``None`` when none was said)."""
    match = _ADDRESS_AFTER.search(utterance)
    if not match:
        return None
    address = match.group("address").strip(" .,!?;:")
    return address if len(address) >= 5 else None


def _fulfilment(utterance: str, norm: str, state: OrderState) -> ToolCall | None:
    if state.awaiting == "address":
        if _has(PICKUP_PHRASES, norm):
            return ToolCall("set_fulfilment", {"method": "pickup"})
        address = extract_address(utterance) or utterance.strip(" .,!?;:")
        return ToolCall("set_fulfilment", {"method": "delivery", "address": address})
    if _has(DELIVERY_PHRASES, norm):
        return ToolCall(
            "set_fulfilment", {"method": "delivery", "address": extract_address(utterance)}
        )
    if _has(PICKUP_PHRASES, norm):
        return ToolCall("set_fulfilment", {"method": "pickup"})
    return None


def _item_calls(words: list[str], mentions: list[Mention], state: OrderState) -> list[ToolCall]:
    calls: list[ToolCall] = []
    removing = False
    previous_end = 0
    norm_all = " ".join(words)
    correcting = _has(CORRECTION_PHRASES, norm_all)
    for i, mention in enumerate(mentions):
        next_start = mentions[i + 1].start if i + 1 < len(mentions) else len(words)
        pre = words[_clause_start(words, mention.start, previous_end) : mention.start]
        post = words[mention.end : _clause_end(words, mention.end, next_start)]
        previous_end = mention.end
        # A removal cue sticks to the following mentions ("tira a coca e a pizza") until
        # an add cue appears; cues only count inside the mention's own clause, so the
        # "sem" of "água sem gás" never removes the next item.
        clause = " ".join(pre)
        refused = _has(("nao quero", "dont want", "don t want", "do not want"), clause)
        if refused or any(w in REMOVE_CUES for w in pre) or (pre and pre[-1] == "no"):
            removing = True
        elif any(w in ADD_CUES for w in pre):
            removing = False
        item = mention.item
        quantity = _quantity(pre, articles=state.lang == "en" and not correcting)
        option = state.index.find_option(item, pre + post)
        in_cart = state.lines_for(item.item_id)
        if removing:
            args: dict[str, Any] = {"item_id": item.item_id}
            if option is not None:
                args["option_id"] = option.option_id
            calls.append(ToolCall("remove_item", args))
        elif correcting and in_cart:
            args = {"item_id": item.item_id}
            if quantity is not None:
                args["quantity"] = quantity
            if option is not None and option.option_id not in {ln.option_id for ln in in_cart}:
                args["new_option_id"] = option.option_id
            calls.append(ToolCall("change_item", args))
        else:
            args = {"item_id": item.item_id, "quantity": quantity or 1}
            if option is not None:
                args["option_id"] = option.option_id
            calls.append(ToolCall("add_item", args))
    return calls


def interpret(utterance: str, state: OrderState) -> Understanding:
    """Decide what to do with ``utterance`` given the call's state (pure; no side effects)."""
    norm = normalise(utterance)
    words = norm.split()  # the same tokens: normalise joins them with single spaces
    if not words:
        return Understanding(say="not_understood")
    if _has(PERSON_PHRASES, norm):
        return Understanding(calls=[ToolCall("transfer_to_human")])
    mentions = state.index.find_mentions(words)
    if _has(GOODBYE_PHRASES, norm) and not mentions:
        return Understanding(calls=[ToolCall("end_call")])

    # After the order is placed, "that's all" / "yes" / "no" all mean the caller is done.
    closing = _has(DONE_PHRASES, norm) or _has(NO_PHRASES, norm) or _has(YES_PHRASES, norm)
    if state.order is not None and closing:
        return Understanding(calls=[ToolCall("end_call")])

    if state.pending_size is not None and not mentions:
        item = state.index.get(state.pending_size[0])
        option = state.index.find_option(item, words) if item is not None else None
        if item is not None and option is not None:
            quantity = _quantity(words, articles=False) or state.pending_size[1]
            return Understanding(
                calls=[
                    ToolCall(
                        "add_item",
                        {
                            "item_id": item.item_id,
                            "quantity": quantity,
                            "option_id": option.option_id,
                        },
                    )
                ]
            )

    if state.awaiting == "confirmation" and not mentions:
        if _has(NO_PHRASES, norm):
            return Understanding(say="what_to_change")
        if _has(YES_PHRASES, norm) or _has(DONE_PHRASES, norm):
            return Understanding(calls=[ToolCall("confirm_order")])
    if state.awaiting in ("fulfilment", "address", "confirmation") and not mentions:
        chosen = _fulfilment(utterance, norm, state)
        if chosen is not None:
            return Understanding(calls=[chosen])

    done = _has(DONE_PHRASES, norm)
    if _has(MENU_PHRASES, norm) and not mentions:
        topic = [w for w in _leftover(words) if not _has(MENU_PHRASES, w)]
        return Understanding(calls=[ToolCall("search_menu", {"query": " ".join(topic)})])
    asking = any(norm.startswith(f"{p} ") for p in QUESTION_PHRASES) or (
        utterance.rstrip().endswith("?") and _has(QUESTION_PHRASES, norm)
    )
    if (_has(PRICE_PHRASES, norm) or asking) and mentions:
        return Understanding(
            calls=[ToolCall("describe_item", {"item_id": m.item.item_id}) for m in mentions]
        )
    if mentions:
        return Understanding(calls=_item_calls(words, mentions, state), done=done)
    if done:
        return Understanding(calls=[ToolCall("read_back_cart")])
    if state.awaiting in (None, "fulfilment") and _has(DELIVERY_PHRASES + PICKUP_PHRASES, norm):
        chosen = _fulfilment(utterance, norm, state)
        if chosen is not None:
            return Understanding(calls=[chosen])
    leftover = _leftover(words)
    if leftover:
        return Understanding(calls=[ToolCall("search_menu", {"query": " ".join(leftover)})])
    return Understanding(say="not_understood")
