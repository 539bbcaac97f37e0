"""Deterministic understanding of one customer utterance (Portuguese or English).

:func:`interpret` turns what the customer said, plus where the conversation stands, into
the tool calls an LLM would make or a sentence to say. It never prices anything: it only
picks menu ids, quantities and the customer's own words (an address, a name, a note).

It is built for speech-to-text and chat text: fillers ("hum", "tipo", "uh"), no
punctuation, digits or number words, misspellings (corrected against the menu's words),
and short names. The rules, in order:

1. a person request; "cancela tudo" (empties the order, the conversation goes on); a
   goodbye; after the order, anything closing; "o de sempre";
2. the answer to a pending question — yes/no to the confirmation, which size, pickup or
   delivery, the address (an address said on its own is one), the neighbourhood, payment,
   change, the name — plus any of those facts said in passing ("pode, no nome da Ana",
   "sim, vou pagar no cartão");
3. follow-ups about the item under discussion that do not repeat it ("na verdade, três",
   "tira uma", "pode ser" after an offer, "então quero uma" after a description, "com
   borda de catupiry", "sem cebola");
4. item mentions: quantities, sizes (one size said once for several items), half-and-half
   flavours, modifiers, notes, removals ("tira uma" of three removes one), corrections and
   swaps ("troca X por Y");
5. "that's all", menu and price questions, and finally a menu search for words left over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from atende_shared.models.menu import MenuItem
from atende_shared.ordering.address import STREET_WORDS, known_place, looks_like_address
from atende_shared.ordering.catalog import SIZE_WORDS, Mention, normalise, stem
from atende_shared.ordering.numbers import UNITS, number_at
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

FILLERS = frozenset(
    {"hum", "hmm", "hm", "humm", "eh", "ah", "ahn", "han", "uh", "uhm", "um_", "er", "erm",
     "tipo", "ne", "entao", "olha", "well", "okay_", "like_", "ai", "aí", "po", "pow"}
)  # fmt: skip
REMOVE_CUES = frozenset(
    {"tira", "tirar", "tire", "remove", "remova", "remover", "cancela", "cancelar",
     "drop", "skip", "exclui", "excluir", "retira"}
)  # fmt: skip
ADD_CUES = frozenset(
    {"quero", "queria", "adiciona", "adicionar", "coloca", "bota", "mais", "tambem", "want",
     "add", "also", "plus", "have", "get", "gostaria", "manda", "traz", "like", "take",
     "vou", "querer", "ver", "inclui"}
)  # fmt: skip
CORRECTION_PHRASES = (
    "na verdade", "alias", "corrigindo", "muda", "mudar", "melhor", "pensando bem",
    "actually", "change", "make it", "make that", "correction", "on second thought",
)  # fmt: skip
SWAP_PHRASES = ("troca", "trocar", "troque", "em vez", "ao inves", "no lugar", "swap",
                "replace", "instead", "switch")  # fmt: skip
PERSON_PHRASES = (
    "atendente", "pessoa", "humano", "falar com alguem", "gerente", "atendimento",
    "me transfere", "transfere", "transferir", "falar com um", "falar com uma",
    "person", "human", "someone", "operator", "representative", "manager", "real agent",
    "transfer me", "talk to a", "speak to a", "speak with a",
)  # fmt: skip
CLEAR_PHRASES = (
    "cancela tudo", "cancelar tudo", "cancela o pedido", "cancelar o pedido", "limpa tudo",
    "limpa o pedido", "tira tudo", "comecar de novo", "recomecar", "apaga tudo",
    "cancel everything", "cancel the order", "cancel my order", "start over", "clear the order",
    "remove everything", "scratch that all",
)  # fmt: skip
GOODBYE_PHRASES = (
    "tchau", "ate logo", "ate mais", "desligar", "pode desligar", "desisto", "deixa pra la",
    "bye", "goodbye", "hang up", "never mind", "nevermind", "forget it",
)  # fmt: skip
DONE_PHRASES = (
    "so isso", "e so", "e isso", "mais nada", "nada mais", "pode fechar", "fechar o pedido",
    "so isso mesmo", "thats all", "that s all", "that is all", "nothing else", "thats it",
    "that s it", "that will be all", "close the order", "finish the order", "i m done",
    "im done", "fecha", "pode fechar o pedido", "era isso", "por enquanto e isso",
    "that ll be all", "that ll be it", "that s everything", "nothing more", "i m good",
    "im good", "that will be it", "all set", "i m all set",
)  # fmt: skip
YES_WORDS = frozenset(
    {"sim", "isso", "pode", "confirmo", "confirma", "confirmar", "certo", "ok", "claro",
     "perfeito", "beleza", "fechado", "yes", "yeah", "yep", "yup", "sure", "correct",
     "confirm", "right", "okay", "positivo", "exato", "exatamente", "manda", "bora", "fechou",
     "aham", "uhum", "tranquilo", "ta", "otimo", "please"}
)  # fmt: skip
YES_PHRASES = ("go ahead", "sounds good", "pode ser", "pode confirmar", "ta bom", "ta certo",
               "tudo certo", "that s right", "thats right", "of course")  # fmt: skip
NO_WORDS = frozenset({"nao", "nope", "errado", "wrong", "espera", "wait", "negativo", "nah"})
PICKUP_PHRASES = (
    "retirar", "retirada", "retiro", "buscar", "busco", "balcao", "pickup", "pick up",
    "pick it up", "collect", "takeaway", "take away", "levar", "viagem", "vou ai", "passo ai",
    "passar ai", "pra pegar", "vou pegar", "eu pego", "pego ai", "pegar ai", "buscar ai",
)  # fmt: skip
DELIVERY_PHRASES = ("entrega", "entregar", "delivery", "deliver", "entregue", "delivered")
MENU_PHRASES = (
    "cardapio", "menu", "o que tem", "o que voces tem", "what do you have", "opcoes",
    "what do you sell", "quais sabores", "which flavors", "which flavours",
)  # fmt: skip
#: "Do you have X?" asks about X; it does not order it.
QUESTION_PHRASES = (
    "tem", "voces tem", "vcs tem", "existe", "do you have", "do you guys have", "is there",
    "have you got", "do you sell", "voces vendem",
)  # fmt: skip
PRICE_PHRASES = (
    "quanto custa", "quanto e", "quanto sai", "quanto fica", "preco", "valor", "how much",
    "price", "what s in", "what is in", "tell me about", "o que vem", "como e a", "como e o",
)  # fmt: skip
TOTAL_PHRASES = (
    "quanto ficou", "quanto deu", "qual o total", "qual e o total", "quanto fica o total",
    "quanto vai ficar", "quanto e o total", "quanto fica tudo", "quanto ta", "repete o pedido",
    "como ficou o pedido", "what s the total", "what is the total", "how much is it",
    "how much do i owe", "how much is that", "read it back", "what do i have",
)  # fmt: skip
LAST_ORDER_PHRASES = (
    "o de sempre", "o mesmo de sempre", "mesmo da ultima vez", "o mesmo pedido",
    "repete o ultimo", "repetir o ultimo", "igual da ultima", "mesma coisa da ultima",
    "same as last time", "the usual", "my usual", "same as before", "repeat my last",
    "repeat the last", "last order again",
)  # fmt: skip
FLAVOUR_CUES = frozenset({"meio", "meia", "metade", "half", "sabores", "flavours", "flavors"})
NOTE_PHRASES = (
    "sem ", "bem assada", "bem passada", "bem passado", "mal passada", "pouco sal",
    "well done", "no ", "without ", "extra crispy", "cortada", "cortar", "separado",
    "less ", "light on", "pouca ", "pouco ", "caprichado",
)  # fmt: skip
PAYMENT_WORDS: dict[str, str] = {
    "dinheiro": "cash", "especie": "cash", "cash": "cash", "pix": "pix", "credito": "credit_card",
    "credit": "credit_card", "debito": "debit_card", "debit": "debit_card", "cartao": "card",
    "card": "card", "cartoes": "card", "maquininha": "card",
}  # fmt: skip
_CHANGE_CUES = (("troco", "pra"), ("troco", "para"), ("troco", "de"), ("change", "for"),
                ("troco", "p"), ("troco",))  # fmt: skip
_NAME_PATTERN = re.compile(
    r"(?:meu nome (?:é|e)|no nome d[aeo]|em nome d[aeo]|nome d[aeo]|no nome|"
    r"my name is|name is|under the name(?: of)?|under|aqui (?:é|e) (?:o|a))\s+"
    r"(?P<name>[^\W\d_][\w'À-ÿ-]*(?:\s+[^\W\d_][\w'À-ÿ-]*){0,2})",
    re.IGNORECASE,
)
_NAME_STOP = frozenset(
    {"e", "and", "vou", "pagar", "pago", "por", "favor", "please", "com", "no", "na", "pra",
     "para", "sim", "pode", "obrigado", "obrigada", "thanks", "i", "will", "pay", "em",
     "cartao", "dinheiro", "pix", "card", "cash", "que", "ta", "tá", "confirma", "ok"}
)  # fmt: skip
ORDINALS: dict[str, int] = {
    "primeira": 0, "primeiro": 0, "first": 0, "segunda": 1, "segundo": 1, "second": 1,
    "terceira": 2, "terceiro": 2, "third": 2, "ultima": -1, "ultimo": -1, "last": -1,
}  # fmt: skip
_NOISE = frozenset(
    {"eu", "me", "ve", "da", "de", "do", "por", "favor", "please", "i", "d", "ll", "want",
     "quero", "queria", "gostaria", "the", "o", "a", "uma", "um", "tem", "have", "you",
     "voces", "e", "and", "with", "com", "some", "algum", "alguma", "like", "would", "can",
     "get", "pra", "para", "mim", "for", "my", "of", "to", "oi", "ola", "hi", "hello", ",",
     "hmm", "ah", "bom", "dia", "boa", "tarde", "noite", "mais", "also", "tambem", "que",
     "quais", "qual", "what", "which", "vcs", "sell", "vendem", "is", "there", "got", "s",
     "pizza", "pizzas", "vai", "ser", "isso", "aqui", "la", "it", "m", "let", "us", "ok",
     "okay", "sim", "yes", "so", "ta", "bem", "then", "entao", "hey", "alo", "alô", "no",
     "na", "take", "will", "gonna", "need", "precis", "preciso", "manda", "traz"}
)  # fmt: skip
_ADDRESS_AFTER = re.compile(
    r"(?:entrega|entregar|delivery|deliver|enviar|mandar)\w*[\s,:]*"
    r"(?:(?:na|no|em|para|pra|pro|to|at|address|endereco|endereço|é|e|is|o|the|de)[\s,:]+)*"
    r"(?P<address>.*)$",
    re.IGNORECASE,
)
_COURTESY = re.compile(
    r"\b(?:please|por favor|obrigad[oa]|thanks|thank you|tá|ta bom|ok)\b", re.IGNORECASE
)


def looks_like_place(text: str) -> bool:
    """A few capitalised or plain words that may be a neighbourhood ("Consolação")."""
    words = normalise(text).split()
    return 0 < len(words) <= 4 and not any(w in _NOISE or w in _ALL_CUES for w in words)


_ADDRESS_LEAD = re.compile(
    r"^(?:(?:é|e|o|meu|my|the|endereço|endereco|address|is|fica|na|no|em|pra|para|to|at|"
    r"entrega|entregar|delivery|deliver|please|por favor|hum|uh|então|entao)[\s,:]+)+",
    re.IGNORECASE,
)

#: Words of "pode ser", "I'll take it", "então quero essa": accepting what was offered.
_ACCEPT_WORDS = frozenset(
    {"pode", "ser", "essa", "esse", "dessa", "desse", "mesmo", "mesma", "entao", "take", "it",
     "that", "one", "sounds", "good", "great", "perfect", "fine", "vou", "querer", "levar",
     "ficar", "fico", "com", "manda", "bota", "coloca", "serve"}
)  # fmt: skip
_ALL_CUES = frozenset(
    w
    for group in (
        REMOVE_CUES, ADD_CUES, YES_WORDS, NO_WORDS, FLAVOUR_CUES, set(PAYMENT_WORDS),
        set(NUMBER_WORDS), set(UNITS), set(ORDINALS), SIZE_WORDS,
        {"troco", "change", "nome", "name", "entrega", "retirar", "delivery", "pickup",
         "tudo", "everything", "sempre", "usual", "verdade", "actually", "pessoa", "person",
         "atendente", "atendimento", "transfere", "cancela", "borda", "quero", "queria",
         "obrigado", "obrigada", "thanks", "please", "favor", "cardapio", "menu", "buscar",
         "balcao", "dinheiro", "cartao", "credito", "debito", "pedido", "order", "mesmo",
         "sabores", "sabor", "preco", "quanto", "custa", "bebida", "bebidas", "drinks"},
    )
    for w in group
)  # fmt: skip


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
    #: Nothing on the menu or in the flow matched (the brain counts these).
    unknown: bool = False


# -- small readers -----------------------------------------------------------------------


def _leftover(words: list[str]) -> list[str]:
    """The words that could name something: no fillers, numbers or ordering verbs."""
    return [
        w
        for w in words
        if w not in _NOISE and w not in NUMBER_WORDS and not w.isdigit() and w not in ADD_CUES
    ]


def _has(phrases: tuple[str, ...] | frozenset[str], norm: str) -> bool:
    padded = f" {norm.replace(',', ' ')} "
    return any(f" {p.strip()} " in padded for p in phrases)


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
    address = _COURTESY.sub(" ", match.group("address")).strip(" .,!?;:")
    address = " ".join(address.split())
    if len(address) < 5:
        return None
    words = normalise(address).split()
    # "delivery please", "entrega rapidinho": words after the cue that are no address
    if not any(w.isdigit() or w in STREET_WORDS or w in NUMBER_WORDS for w in words):
        return address if looks_like_place(address) else None
    return address


def address_words(utterance: str) -> str:
    """An address said on its own, without the lead-in ("é na", "o endereço é")."""
    return _ADDRESS_LEAD.sub("", utterance.strip(" .,!?;:")).strip(" .,!?;:")


def detect_language(words: list[str]) -> str | None:
    """``"en"`` or ``"pt"`` when the words clearly are one of them."""
    en = sum(w in _EN_WORDS for w in words)
    pt = sum(w in _PT_WORDS for w in words)
    if en >= 2 and en > pt:
        return "en"
    if pt >= 2 and pt > en:
        return "pt"
    return None


_EN_WORDS = frozenset(
    {"i", "want", "would", "like", "the", "please", "can", "get", "and", "some", "with",
     "yes", "that", "all", "for", "my", "is", "it", "have", "hi", "hello", "large", "small",
     "medium", "two", "three", "one", "a", "an", "of", "to", "do", "you", "pickup", "delivery",
     "thanks", "d", "ll", "s", "order", "half", "name", "pay", "card", "cash"}
)  # fmt: skip
_PT_WORDS = frozenset(
    {"quero", "queria", "uma", "um", "e", "de", "com", "sem", "por", "favor", "sim", "nao",
     "pra", "para", "o", "meu", "duas", "dois", "tres", "grande", "media", "oi", "ola",
     "pedido", "entrega", "retirar", "obrigado", "isso", "so", "mais", "meio", "pode", "vou",
     "no", "na", "da", "do", "nome", "pagar", "cartao", "dinheiro", "boa", "noite", "tarde"}
)  # fmt: skip


def _yes_no(words: list[str], norm: str, state: OrderState) -> str | None:
    """ "yes", "no" or None, reading the start of the answer ("no nome da Ana" is no "no")."""
    content = [w for w in words if w not in FILLERS and w != ","]
    if not content:
        return None
    first = content[0]
    if first in NO_WORDS:
        return "no"
    if first == "no" and (
        len(content) == 1
        or content[1] in {"no", "thanks", "thank", "wait", "that", "i", "not", "change", "please"}
        or (state.lang == "en" and content[1] not in {"name", "card", "cash", "pix"})
    ):
        return "no"
    if _has(YES_PHRASES, norm) or any(w in YES_WORDS for w in content[:3]):
        return "yes"
    if _has(DONE_PHRASES, norm):
        return "yes"
    return None


def _money_after(words: list[str], start: int) -> int | None:
    """Reais said from ``words[start]`` on ("cem", "50", "cinquenta reais") → cents."""
    for j in range(start, min(start + 3, len(words))):
        found = number_at(words, j)
        if found is not None:
            value, end = found
            cents = value * 100
            if end < len(words) and words[end] in ("e", "and", ",") and end + 1 < len(words):
                more = number_at(words, end + 1)
                if (
                    more is not None
                    and more[0] < 100
                    and (more[1] < len(words) and words[more[1]] in ("centavos", "cents"))
                ):
                    cents += more[0]
            return cents if 0 < cents <= 100_000_00 else None
    return None


def payment_call(words: list[str], state: OrderState) -> ToolCall | None:
    said = [PAYMENT_WORDS[w] for w in words if w in PAYMENT_WORDS]
    specific = [m for m in said if m != "card"]
    method = specific[0] if specific else (said[0] if said else None)
    change: int | None = None
    for i in range(len(words)):
        for cue in _CHANGE_CUES:
            if tuple(words[i : i + len(cue)]) == cue:
                change = _money_after(words, i + len(cue))
                break
        if change is not None:
            break
    if change is not None and method is None:
        method = "cash"
    if method is None and state.awaiting == "change":
        value = _money_after(words, 0)
        if value is not None:
            return ToolCall("set_payment", {"method": "cash", "change_for_cents": value})
    if method is None:
        return None
    args: dict[str, Any] = {"method": method}
    if change is not None:
        args["change_for_cents"] = change
    return ToolCall("set_payment", args)


def name_call(
    utterance: str, words: list[str], state: OrderState, mentions: list[Mention]
) -> ToolCall | None:
    match = _NAME_PATTERN.search(utterance)
    candidate: list[str] = []
    if match is not None:
        for word in match.group("name").split():
            if normalise(word) in _NAME_STOP:
                break
            candidate.append(word)
    elif state.awaiting == "name" and not mentions:
        plain = [
            w
            for w in re.findall(r"[^\W\d_][\w'-]*", utterance)
            if normalise(w) not in _NAME_STOP
            and normalise(w) not in FILLERS
            and normalise(w)
            not in {
                "meu",
                "nome",
                "é",
                "e",
                "o",
                "a",
                "pode",
                "ser",
                "coloca",
                "my",
                "name",
                "is",
                "it",
                "s",
                "its",
                "it's",
                "under",
            }
        ]
        candidate = plain[:3]
    if not candidate:
        return None
    if normalise(candidate[0]) in PAYMENT_WORDS or normalise(candidate[0]) in YES_WORDS:
        return None
    return ToolCall("set_customer_name", {"name": " ".join(candidate)})


def fulfilment_call(
    utterance: str, norm: str, words: list[str], state: OrderState
) -> ToolCall | None:
    if state.awaiting == "neighbourhood":
        if _has(PICKUP_PHRASES, norm):
            return ToolCall("set_fulfilment", {"method": "pickup"})
        return ToolCall(
            "set_fulfilment", {"method": "delivery", "address": address_words(utterance)}
        )
    if state.awaiting == "address":
        if _has(PICKUP_PHRASES, norm):
            return ToolCall("set_fulfilment", {"method": "pickup"})
        address = extract_address(utterance) or address_words(utterance)
        return ToolCall("set_fulfilment", {"method": "delivery", "address": address})
    if looks_like_address(utterance):
        address = extract_address(utterance) or address_words(utterance)
        return ToolCall("set_fulfilment", {"method": "delivery", "address": address})
    if _has(DELIVERY_PHRASES, norm):
        return ToolCall(
            "set_fulfilment", {"method": "delivery", "address": extract_address(utterance)}
        )
    if _has(PICKUP_PHRASES, norm):
        return ToolCall("set_fulfilment", {"method": "pickup"})
    if state.awaiting == "fulfilment" and known_place(norm, state.tenant.delivery):
        return ToolCall(
            "set_fulfilment", {"method": "delivery", "address": address_words(utterance)}
        )
    return None


def _note(words: list[str]) -> str | None:
    """A free-text note in ``words`` ("sem cebola", "bem assada", "no onions")."""
    text = " ".join(w for w in words if w != ",")
    padded = f" {text} "
    best = None
    for cue in NOTE_PHRASES:
        at = padded.find(f" {cue.strip()} ")
        if at >= 0 and (best is None or at < best):
            best = at
    if best is None:
        return None
    note = padded[best:].strip()
    note_words = [w for w in note.split() if w not in {"por", "favor", "please", "obrigado"}]
    # a note ends where an order verb starts again
    for i, w in enumerate(note_words):
        if i and w in ADD_CUES | {"vou", "pagar", "entrega", "retirar", "so", "isso"}:
            note_words = note_words[:i]
            break
    cleaned = " ".join(note_words).strip()
    return cleaned if len(cleaned) > 3 else None


# -- items -------------------------------------------------------------------------------

#: "três sabores", "8 pedaços": a number before these counts something else than items.
_COUNTED_NOT_ORDERED = frozenset(
    {"sabores", "sabor", "flavours", "flavors", "pedacos", "fatias", "slices", "litros", "ml"}
)
_NEGATIONS = frozenset({"sem", "without", "tirar", "tira"})
_SEPARATORS = frozenset({",", "com", "with", "e", "and", "mais", "plus"})


def _affirmed(words: list[str], state: OrderState) -> list[str]:
    """``words`` without what is negated ("sem azeitona" never adds olives)."""
    kept: list[str] = []
    negated = False
    for word in words:
        if word in _NEGATIONS or (word == "no" and state.lang == "en"):
            negated = True
            continue
        if word in _SEPARATORS:
            negated = False
        if not negated:
            kept.append(word)
    return kept


def _flavour_runs(words: list[str], mentions: list[Mention], state: OrderState) -> list[list[int]]:
    """Groups of mention indexes that are one pizza of several flavours."""
    runs: list[list[int]] = []
    i = 0
    while i < len(mentions):
        run = [i]
        item = mentions[i].item
        j = i + 1
        while j < len(mentions) and item.max_flavours > 1 and len(run) < item.max_flavours:
            between = [w for w in words[mentions[j - 1].end : mentions[j].start] if w != ","]
            other = mentions[j].item
            if (
                other.max_flavours > 1
                and other.flavour_key == item.flavour_key
                and all(
                    w in FLAVOUR_CUES | {"e", "and", "de", "a", "o", "outra", "other"}
                    for w in between
                )
            ):
                run.append(j)
                j += 1
            else:
                break
        cue_zone = words[max(0, mentions[i].start - 4) : mentions[run[-1]].end + 3]
        if len(run) > 1 and any(w in FLAVOUR_CUES for w in cue_zone):
            runs.append(run)
            i = j
        else:
            runs.append([i])
            i += 1
    return runs


def _utterance_size(words: list[str]) -> list[str]:
    return [w for w in words if stem(w) in {stem(s) for s in SIZE_WORDS}]


def _item_calls(words: list[str], mentions: list[Mention], state: OrderState) -> list[ToolCall]:
    calls: list[ToolCall] = []
    removing = False
    previous_end = 0
    norm_all = " ".join(words)
    correcting = _has(CORRECTION_PHRASES, norm_all)
    sizes_said = _utterance_size(words)
    for run in _flavour_runs(words, mentions, state):
        first, last = mentions[run[0]], mentions[run[-1]]
        following = mentions[run[-1] + 1].start if run[-1] + 1 < len(mentions) else len(words)
        pre = words[_clause_start(words, first.start, previous_end) : first.start]
        post = words[last.end : _clause_end(words, last.end, following)]
        tail = words[last.end : following]  # modifiers and notes run to the next item
        previous_end = last.end
        # A removal cue sticks to the following mentions ("tira a coca e a pizza") until
        # an add cue appears; cues only count inside the mention's own clause, so the
        # "sem" of "água sem gás" never removes the next item.
        clause = " ".join(pre)
        refused = _has(("nao quero", "dont want", "don t want", "do not want"), clause)
        if (
            refused
            or any(w in REMOVE_CUES for w in pre)
            or (pre and pre[-1] in ("sem", "without"))
            or (pre and pre[-1] == "no" and state.lang == "en")
        ):
            removing = True
        elif any(w in ADD_CUES for w in pre):
            removing = False
        if first.candidates and not removing:  # "frango": which of the chicken pizzas?
            calls.append(ToolCall("search_menu", {"query": words[first.start]}))
            continue
        item = first.item
        counted = [
            w
            for k, w in enumerate(pre)
            if not (k + 1 < len(pre) and pre[k + 1] in _COUNTED_NOT_ORDERED)
        ]
        quantity = _quantity(counted, articles=state.lang == "en" and not correcting)
        option = state.index.find_option(item, pre + post)
        if option is None and item.options and len(set(sizes_said)) == 1:
            option = state.index.find_option(
                item, sizes_said
            )  # "duas grandes, uma de X e uma de Y"
        in_cart = state.lines_for(item.item_id)
        if removing:
            args: dict[str, Any] = {"item_id": item.item_id}
            if option is not None:
                args["option_id"] = option.option_id
            if (
                quantity is not None
                and in_cart
                and quantity < sum(ln.quantity for ln in in_cart)
                and not any(w in ("a", "o", "the") for w in pre[-1:])
            ):
                args["quantity"] = quantity
            calls.append(ToolCall("remove_item", args))
            continue
        modifiers = [
            m.modifier_id for m in state.index.find_modifiers(item, _affirmed(tail, state))
        ]
        note = _note(tail) if item.notes_allowed else None
        flavours = [mentions[k].item.item_id for k in run[1:]]
        if correcting and in_cart and not flavours:
            args = {"item_id": item.item_id}
            if quantity is not None:
                args["quantity"] = quantity
            if option is not None and option.option_id not in {ln.option_id for ln in in_cart}:
                args["new_option_id"] = option.option_id
            calls.append(ToolCall("change_item", args))
            continue
        args = {"item_id": item.item_id, "quantity": quantity or 1}
        if option is not None:
            args["option_id"] = option.option_id
        if flavours:
            args["flavour_ids"] = flavours
        if modifiers:
            args["modifier_ids"] = modifiers
        if note:
            args["notes"] = note
        calls.append(ToolCall("add_item", args))
    return calls


def _swap(words: list[str], mentions: list[Mention], state: OrderState) -> ToolCall | None:
    if len(mentions) != 2 or not _has(SWAP_PHRASES, " ".join(words)):
        return None
    a, b = mentions[0].item, mentions[1].item
    old, new = (a, b)
    if not state.lines_for(old.item_id) and state.lines_for(new.item_id):
        old, new = b, a  # "quero Y em vez de X"
    if not state.lines_for(old.item_id):
        return None
    args: dict[str, Any] = {"item_id": old.item_id, "new_item_id": new.item_id}
    option = state.index.find_option(new, words[mentions[1].start :])
    if option is not None:
        args["new_option_id"] = option.option_id
    return ToolCall("replace_item", args)


def _focus_calls(words: list[str], norm: str, state: OrderState) -> list[ToolCall]:
    """Follow-ups about the item under discussion that do not name it again."""
    calls: list[ToolCall] = []
    content = [w for w in words if w not in FILLERS and w != ","]
    quantity = _quantity(content, articles=False)
    # "pode ser" / "sure" / "então quero uma" after an offer or a description
    if state.offered is not None:
        item = state.index.get(state.offered)
        accepts = _yes_no(words, norm, state) == "yes" or any(w in ADD_CUES for w in content)
        rest = [
            w
            for w in _leftover(content)
            if w not in YES_WORDS and w not in SIZE_WORDS and w not in _ACCEPT_WORDS
        ]
        if rest or _has(QUESTION_PHRASES, norm):
            accepts, quantity = False, None
        if (
            item is not None
            and (accepts or quantity is not None)
            and not any(w in NO_WORDS for w in content)
        ):
            asked_qty, asked_size = state.offered_for or (1, None)
            args: dict[str, Any] = {"item_id": item.item_id, "quantity": quantity or asked_qty}
            option = state.index.find_option(item, content) or state.index.option(item, asked_size)
            if option is not None:
                args["option_id"] = option.option_id
            return [ToolCall("add_item", args)]
    if state.candidates:
        ordinal = next((ORDINALS[w] for w in content if w in ORDINALS), None)
        if ordinal is not None and -len(state.candidates) <= ordinal < len(state.candidates):
            item = state.index.get(state.candidates[ordinal])
            if item is not None:
                args = {"item_id": item.item_id, "quantity": quantity or 1}
                option = state.index.find_option(item, content)
                if option is not None:
                    args["option_id"] = option.option_id
                return [ToolCall("add_item", args)]
    focus = state.index.get(state.focus) if state.focus else None
    if focus is None or not state.lines_for(focus.item_id):
        return calls
    removing = any(w in REMOVE_CUES for w in content)
    correcting = _has(CORRECTION_PHRASES, norm) or content[:1] in (["sao"], ["so"], ["make"])
    if removing and quantity is not None:
        return [ToolCall("remove_item", {"item_id": focus.item_id, "quantity": quantity})]
    option = state.index.find_option(focus, content)
    if correcting and (quantity is not None or option is not None):
        args = {"item_id": focus.item_id}
        if quantity is not None:
            args["quantity"] = quantity
        if option is not None:
            args["new_option_id"] = option.option_id
        return [ToolCall("change_item", args)]
    modifiers = [
        m.modifier_id for m in state.index.find_modifiers(focus, _affirmed(content, state))
    ]
    note = _note(content) if focus.notes_allowed else None
    if modifiers or note:
        args = {"item_id": focus.item_id}
        if modifiers:
            args["modifier_ids"] = modifiers
        if note:
            args["notes"] = note
        return [ToolCall("set_modifiers", args)]
    return calls


def _flavour_followup(
    words: list[str], mentions: list[Mention], state: OrderState
) -> ToolCall | None:
    """ "meio calabresa meio portuguesa" (or "a outra metade X") for the pizza just added."""
    focus = state.index.get(state.focus) if state.focus else None
    if focus is None or focus.max_flavours < 2 or not any(w in FLAVOUR_CUES for w in words):
        return None
    if not all(
        m.item.max_flavours > 1 and m.item.flavour_key == focus.flavour_key for m in mentions
    ):
        return None
    lines = state.lines_for(focus.item_id)
    if not lines or (any(w in ADD_CUES for w in words[: mentions[0].start]) and len(mentions) > 1):
        return None
    ids = [m.item.item_id for m in mentions]
    if focus.item_id not in ids and len(ids) + 1 <= focus.max_flavours:
        ids = [focus.item_id, *ids]
    if focus.item_id in ids:
        ids.remove(focus.item_id)
    return ToolCall("set_flavours", {"item_id": focus.item_id, "flavour_ids": ids})


# -- the whole utterance -----------------------------------------------------------------


def interpret(utterance: str, state: OrderState) -> Understanding:
    """Decide what to do with ``utterance`` given the conversation's state (no side effects)."""
    norm = normalise(utterance)
    raw_words = [w for w in norm.split() if w not in FILLERS]
    words = state.index.corrected(raw_words, _ALL_CUES)
    norm = " ".join(words)
    if not [w for w in words if w != ","]:
        return Understanding(say="not_understood", unknown=True)
    if _has(PERSON_PHRASES, norm):
        return Understanding(calls=[ToolCall("transfer_to_human")])
    if state.awaiting == "handoff":
        answer = _yes_no(words, norm, state)
        if answer == "yes":
            return Understanding(calls=[ToolCall("transfer_to_human")])
        if answer == "no":
            return Understanding(say="what_to_order")
    if _has(CLEAR_PHRASES, norm) and state.order is None:
        return Understanding(calls=[ToolCall("clear_cart")])
    mentions = [
        m
        for m in state.index.find_mentions(words)
        # "sem cebola" is a note even on a menu with "Atum com Cebola": an ingredient said
        # after a negation names an item only through one of its own aliases.
        if not (m.inferred and m.start > 0 and words[m.start - 1] in _NEGATIONS | {"no"})
    ]
    if _has(GOODBYE_PHRASES, norm) and not mentions:
        return Understanding(calls=[ToolCall("end_call")])

    # After the order is placed, "that's all" / "yes" / "no" all mean the customer is done.
    if state.order is not None:
        closing = _has(DONE_PHRASES, norm) or _yes_no(words, norm, state) is not None
        if closing or not mentions:
            return Understanding(calls=[ToolCall("end_call")])

    if state.awaiting == "usual" and not mentions and _yes_no(words, norm, state) == "yes":
        return Understanding(calls=[ToolCall("repeat_last_order")])
    if _has(TOTAL_PHRASES, norm) and not mentions:
        return Understanding(calls=[ToolCall("read_back_cart")])
    if _has(LAST_ORDER_PHRASES, norm) and not mentions:
        return Understanding(calls=[ToolCall("repeat_last_order")])

    # Facts said in passing: payment, name, pickup/delivery and address.
    slots: list[ToolCall] = []
    payment = payment_call(words, state)
    if payment is not None:
        slots.append(payment)
    name = name_call(utterance, words, state, mentions)
    if name is not None:
        slots.append(name)
    fulfilment_words = (
        state.awaiting in ("fulfilment", "address", "neighbourhood")
        or looks_like_address(utterance)
        or _has(PICKUP_PHRASES, norm)
        or _has(DELIVERY_PHRASES, norm)
    )
    if fulfilment_words and (not mentions or state.awaiting in ("address", "neighbourhood")):
        chosen = fulfilment_call(utterance, norm, words, state)
        if chosen is not None and not (
            state.awaiting == "fulfilment"
            and chosen.arguments.get("method") == "delivery"
            and not chosen.arguments.get("address")
            and not _has(DELIVERY_PHRASES, norm)
        ):
            slots.insert(0, chosen)
    if state.awaiting == "confirmation" and not mentions:
        answer = _yes_no(words, norm, state)
        if answer == "no" and not slots:
            return Understanding(say="what_to_change")
        if answer == "yes" or (slots and answer != "no"):
            return Understanding(calls=[*slots, ToolCall("confirm_order")])
    if slots and not mentions:
        return Understanding(calls=slots)

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

    done = _has(DONE_PHRASES, norm) or norm in ("so", "e so", "so so", "pronto", "done")
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
        swap = _swap(words, mentions, state)
        if swap is not None:
            return Understanding(calls=[swap, *slots], done=done)
        followup = _flavour_followup(words, mentions, state)
        if followup is not None:
            return Understanding(calls=[followup, *slots], done=done)
        return Understanding(calls=[*_item_calls(words, mentions, state), *slots], done=done)
    focused = _focus_calls(words, norm, state)
    if focused:
        return Understanding(calls=focused, done=done)
    if done:
        return Understanding(calls=[ToolCall("read_back_cart")])
    leftover = [w for w in _leftover(words) if w not in SIZE_WORDS]
    sole = state.index.sole_match(leftover) if leftover else None
    if sole is not None and not _has(QUESTION_PHRASES, norm):
        # Found by its short name: ordered, not just searched ("uma de queijos grande").
        start = words.index(leftover[0])
        end = words.index(leftover[-1], start) + 1
        return Understanding(
            calls=_item_calls(words, [Mention(sole, start, end)], state), done=done
        )
    if leftover:
        return Understanding(
            calls=[ToolCall("search_menu", {"query": " ".join(leftover)})], unknown=True
        )
    return Understanding(say="not_understood", unknown=True)


def menu_item(state: OrderState, item_id: str) -> MenuItem | None:
    return state.index.get(item_id)
