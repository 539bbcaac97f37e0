"""The menu as the ordering core sees it: lookup by id, phrase matching, search, pricing.

Built once per menu (the voice worker caches it per tenant) from the tenant's :class:`Menu`.
Everything here is pure and deterministic: the offline brain matches what the customer said
against item names and aliases, and the tools look items up by id and price them. Matching
works on normalised tokens (lower case, accents stripped, filler words dropped, a light
plural stem) so "duas Pizzas de Calabresa" finds the item named "Pizza Calabresa", and is
forgiving the way callers and speech-to-text are:

* **short names** — a word of an item's name that no other item has ("frango" for "Frango
  com Catupiry") names it; a word a few items share ("frango" for two chicken pizzas) is
  *ambiguous* and the brain asks which one;
* **misspellings** — a word that is not on the menu is corrected to the closest menu word
  when they are close enough ("catupiri" → "catupiry", "calabreza" → "calabresa").

Phrases are indexed by their first word, so matching an utterance costs a few dictionary
lookups per word whatever the menu's size.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from atende_shared.models.menu import Menu, MenuItem, MenuOption, Modifier, ModifierGroup
from atende_shared.ordering.numbers import UNITS

#: Words that never distinguish one item from another ("pizza DE calabresa").
_FILLER = frozenset({"de", "da", "do", "das", "dos", "of", "the", "o", "os", "as", "with"})
#: Words that never name an item on their own (sizes, cues, connectors, units).
_NEVER_ALONE = frozenset(
    {"com", "sem", "e", "a", "no", "na", "meio", "meia", "metade", "half", "and", "or", "ou",
     "grande", "media", "medio", "pequena", "pequeno", "broto", "familia", "large", "medium",
     "small", "big", "lata", "litro", "litros", "l", "ml", "2l", "600ml", "350ml", "500ml",
     "garrafa", "pizza", "pizzas", "borda", "extra", "mais", "tipo", "sabor", "sabores",
     "refrigerante", "refri", "suco", "bebida", "drink", "soda", "can", "bottle", "um", "uma",
     "zero", "diet", "natural", "especial", "tradicional", "classica", "pedaco", "fatias"}
)  # fmt: skip
#: Size words callers use for the same option in either language.
_SIZE_SYNONYMS: dict[str, frozenset[str]] = {
    "grande": frozenset({"grande", "large", "big", "g"}),
    "large": frozenset({"grande", "large", "big"}),
    "media": frozenset({"media", "medio", "medium", "m", "regular"}),
    "medium": frozenset({"media", "medio", "medium", "regular"}),
    "pequena": frozenset({"pequena", "pequeno", "small", "broto", "p"}),
    "small": frozenset({"pequena", "pequeno", "small", "broto"}),
    "broto": frozenset({"broto", "pequena", "small"}),
    "familia": frozenset({"familia", "family", "gigante"}),
}
SIZE_WORDS = frozenset(w for words in _SIZE_SYNONYMS.values() for w in words) - {"g", "m", "p"}
_TOKEN = re.compile(r"[a-z0-9]+|,")
#: Number words never name an item on their own ("dois" of "Coca-Cola dois litros").
_NUMBER_STEMS = frozenset(UNITS) | frozenset(
    w[:-2] if w.endswith("es") else w[:-1] if w.endswith("s") and len(w) > 3 else w for w in UNITS
)
_FUZZY_MIN = 0.8


def normalise(text: str) -> str:
    """Lower case, accents stripped, punctuation turned into spaces (commas kept)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_TOKEN.findall(plain))


def tokens(text: str) -> list[str]:
    """Normalised tokens, commas included as their own token (they separate clauses)."""
    return _TOKEN.findall(normalise(text))


def stem(token: str) -> str:
    """A light plural stem shared by both sides of every comparison ("cocas" ~ "coca")."""
    if len(token) > 3 and token.endswith("es") and token[:-2].endswith(("r", "l", "z")):
        return token[:-2]
    if len(token) > 3 and token.endswith("s"):
        return token[:-1]
    return token


@lru_cache(maxsize=65_536)
def _phrase(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in tokens(text) if t != "," and t not in _FILLER)


@dataclass(frozen=True)
class Mention:
    """An item named in an utterance, at token positions ``start``..``end`` (exclusive).

    ``candidates`` is set when the words fit several items equally ("frango")."""

    item: MenuItem
    start: int
    end: int
    candidates: tuple[MenuItem, ...] = ()
    #: Named only by one word of its name ("cebola" of "Atum com Cebola"), not by an alias.
    inferred: bool = False


class MenuIndex:
    """Read-only view of a tenant's menu for matching, search and pricing."""

    def __init__(self, menu: Menu) -> None:
        self.menu = menu
        self._by_id = menu.by_id()
        # first word → [(phrase, items)], longest phrase first
        phrases: dict[tuple[str, ...], list[MenuItem]] = defaultdict(list)
        for item in menu.items:
            for text in dict.fromkeys((item.name, *item.aliases)):
                phrase = _phrase(text)
                if phrase and item not in phrases[phrase]:
                    phrases[phrase].append(item)
        groups = {id(g): g for item in menu.items for g in item.modifier_groups}
        groups.update({id(g): g for g in menu.modifier_groups})
        self._library = {g.group_id: g for g in menu.modifier_groups}
        self._groups: dict[str, list[ModifierGroup]] = {}
        modifier_words = {
            w
            for group in groups.values()
            for m in group.modifiers
            for text in (m.name, *m.aliases)
            for w in _phrase(text)
        }
        # Short names: single words of names/aliases, unique → the item, shared → ambiguous.
        owners: dict[str, list[MenuItem]] = defaultdict(list)
        for item in menu.items:
            words = {w for text in (item.name, *item.aliases) for w in _phrase(text)}
            for word in words:
                if (
                    word in _NEVER_ALONE
                    or word in _NUMBER_STEMS
                    or word in modifier_words
                    or word.isdigit()
                    or len(word) < 3
                ):
                    continue
                owners[word].append(item)
        self._ambiguous: dict[str, tuple[MenuItem, ...]] = {}
        self._inferred: set[tuple[str, ...]] = set()
        for word, items in owners.items():
            if (word,) in phrases:
                continue
            if len(items) == 1:
                phrases[(word,)].append(items[0])
                self._inferred.add((word,))
            elif len(items) <= 6:
                self._ambiguous[word] = tuple(items)
        self._by_first: dict[str, list[tuple[tuple[str, ...], list[MenuItem]]]] = defaultdict(list)
        for phrase, items in phrases.items():
            self._by_first[phrase[0]].append((phrase, items))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))
        # Vocabulary for spelling correction, bucketed by first letter.
        self._vocab = {w for p in phrases for w in p} | set(owners) | modifier_words
        self._vocab_by_letter: dict[str, list[str]] = defaultdict(list)
        for word in self._vocab:
            if len(word) >= 4 and not word.isdigit():
                self._vocab_by_letter[word[0]].append(word)
        self._corrections: dict[str, str | None] = {}
        self._item_words: dict[str, frozenset[str]] = {}
        self._name_index: dict[str, set[int]] | None = None
        # Per item, the stemmed words of its name/aliases/category and of its description,
        # built with the index (off the call's event loop): a search only intersects sets.
        self._search_words = [
            (
                item,
                frozenset(_phrase(" ".join([item.name, *item.aliases, item.category]))),
                frozenset(_phrase(item.description)),
            )
            for item in menu.items
        ]

    def _words_of(self, item: MenuItem) -> frozenset[str]:
        words = self._item_words.get(item.item_id)
        if words is None:
            words = frozenset(w for text in (item.name, *item.aliases) for w in _phrase(text))
            self._item_words[item.item_id] = words
        return words

    def groups(self, item: MenuItem) -> list[ModifierGroup]:
        """The item's modifier groups: its own, then the menu's shared ones it names."""
        found = self._groups.get(item.item_id)
        if found is None:
            found = [*item.modifier_groups]
            found += [self._library[g] for g in item.modifier_group_ids if g in self._library]
            self._groups[item.item_id] = found
        return found

    def modifier(self, item: MenuItem, modifier_id: str) -> tuple[ModifierGroup, Modifier] | None:
        for group in self.groups(item):
            for modifier in group.modifiers:
                if modifier.modifier_id == modifier_id:
                    return group, modifier
        return None

    @property
    def currency(self) -> str:
        return self.menu.currency

    def get(self, item_id: str) -> MenuItem | None:
        return self._by_id.get(item_id)

    def option(self, item: MenuItem, option_id: str | None) -> MenuOption | None:
        if option_id is None:
            return None
        return next((o for o in item.options if o.option_id == option_id), None)

    def unit_price(self, item: MenuItem, option: MenuOption | None) -> int:
        """Integer cents: an option's price replaces the item's (the menu contract)."""
        return option.price_cents if option is not None else item.price_cents

    # -- spelling ------------------------------------------------------------------------

    def correct(self, word: str, protected: frozenset[str] = frozenset()) -> str:
        """``word``, or the menu word it most likely misspells ("catupiri" → "catupiry")."""
        if len(word) < 5 or word in protected or word.isdigit():
            return word
        stemmed = stem(word)
        if stemmed in self._vocab or word in self._vocab:
            return word
        if word not in self._corrections:
            best, best_ratio = None, _FUZZY_MIN
            for candidate in self._vocab_by_letter.get(word[0], ()):
                if abs(len(candidate) - len(stemmed)) > 2:
                    continue
                ratio = SequenceMatcher(None, stemmed, candidate).ratio()
                if ratio > best_ratio:
                    best, best_ratio = candidate, ratio
            if len(self._corrections) > 10_000:
                self._corrections.clear()
            self._corrections[word] = best
        return self._corrections[word] or word

    def corrected(self, words: list[str], protected: frozenset[str] = frozenset()) -> list[str]:
        return [self.correct(w, protected) for w in words]

    # -- matching ------------------------------------------------------------------------

    def find_mentions(self, words: list[str]) -> list[Mention]:
        """Items named in ``words`` (normalised tokens), non-overlapping, in spoken order."""
        stems = [stem(w) for w in words]
        # Filler words are skipped when comparing, so keep a map to original positions.
        positions = [i for i, w in enumerate(words) if w != "," and w not in _FILLER]
        compact = [stems[i] for i in positions]
        found: list[Mention] = []
        k = 0
        while k < len(compact):
            match = None
            for phrase, items in self._by_first.get(compact[k], ()):
                size = len(phrase)
                if tuple(compact[k : k + size]) == phrase:
                    match = (size, items, phrase in self._inferred)
                    break
            if match is not None:
                size, items, inferred = match
                # "agua sem gas" for "Água mineral sem gás": the item's own words that follow
                # belong to the same mention.
                own = self._words_of(items[0])
                while k + size < len(compact) and compact[k + size] in own:
                    size += 1
                start, end = positions[k], positions[k + size - 1] + 1
                found.append(
                    Mention(
                        items[0],
                        start,
                        end,
                        tuple(items) if len(items) > 1 else (),
                        inferred=inferred and size == 1,
                    )
                )
                k += size
                continue
            shared = self._ambiguous.get(compact[k])
            if shared is not None:
                found.append(
                    Mention(shared[0], positions[k], positions[k] + 1, shared, inferred=True)
                )
            k += 1
        return found

    def find_option(self, item: MenuItem, words: list[str]) -> MenuOption | None:
        """The option of ``item`` named in ``words`` (by name, id or a size synonym)."""
        said = {stem(w) for w in words}
        for option in item.options:
            # Only the option's head word ("Grande (8 fatias)" → grande): the rest are
            # details ("8 fatias") that would mistake a quantity for a size.
            head = _phrase(option.name)[:1]
            names = set(head) | set(_phrase(option.option_id.replace("-", " ")))
            expanded = set(names)
            for name in names:
                expanded |= _SIZE_SYNONYMS.get(name, frozenset())
            if said & {stem(n) for n in expanded}:
                return option
        return None

    def find_modifiers(self, item: MenuItem, words: list[str]) -> list[Modifier]:
        """Modifiers of ``item`` named in ``words`` ("borda de catupiry", "extra bacon")."""
        said = [stem(w) for w in words if w not in _FILLER and w != ","]
        text = f" {' '.join(said)} "
        found: list[tuple[int, Modifier]] = []
        for group in self.groups(item):
            group_words = set(_phrase(group.name))
            for modifier in group.modifiers:
                for name in (modifier.name, *modifier.aliases):
                    phrase = _phrase(name)
                    short = tuple(w for w in phrase if w not in group_words) or phrase
                    for candidate in (phrase, short):
                        at = text.find(f" {' '.join(candidate)} ")
                        if candidate and at >= 0:
                            found.append((at, modifier))
                            break
                    else:
                        continue
                    break
        found.sort(key=lambda f: f[0])
        unique: dict[str, Modifier] = {}
        for _, modifier in found:
            unique.setdefault(modifier.modifier_id, modifier)
        return list(unique.values())

    def flavour_partners(self, item: MenuItem) -> list[MenuItem]:
        """Items that can share a pizza with ``item`` (same flavour group, fractional)."""
        if item.max_flavours < 2:
            return []
        return [
            i
            for i in self.menu.items
            if i.max_flavours > 1 and i.flavour_key == item.flavour_key and i is not item
        ]

    def sole_match(self, words: list[str]) -> MenuItem | None:
        """The one item whose name or aliases hold every word in ``words`` (a short name
        the phrase matcher did not take, "queijos" for "Quatro Queijos"), else ``None``."""
        wanted = {stem(w) for w in words if w not in _FILLER and w != ","}
        if not wanted:
            return None
        if self._name_index is None:
            index: dict[str, set[int]] = defaultdict(set)
            for n, item in enumerate(self.menu.items):
                for word in self._words_of(item):
                    index[word].add(n)
            self._name_index = index
        sets = [self._name_index.get(w, set()) for w in wanted]
        common = set.intersection(*sets) if sets else set()
        if len(common) != 1:
            return None
        return self.menu.items[next(iter(common))]

    def search(self, query: str, *, limit: int = 5) -> list[MenuItem]:
        """Items whose name, alias, description or category shares a word with ``query``.

        An empty query lists the menu (first ``limit`` sellable items)."""
        wanted = {self.correct(w) for w in _phrase(query)}
        if not wanted:
            return [i for i in self.menu.items if i.sellable][:limit]
        scored: list[tuple[int, int, MenuItem]] = []
        for order, (item, haystack, described) in enumerate(self._search_words):
            score = 3 * len(wanted & haystack) + len(wanted & described)
            if score:
                scored.append((-score, order, item))
        scored.sort(key=lambda s: (s[0], s[1]))
        return [s[2] for s in scored[:limit]]

    def alternative_for(self, item: MenuItem) -> MenuItem | None:
        """A sellable item of the same category to offer instead of ``item`` (a pizza for a
        pizza, never a water): the one sharing most words with it, else the first."""
        same = [
            i
            for i in self.menu.items
            if i.category == item.category and i.sellable and i.item_id != item.item_id
        ]
        if not same:
            return None
        words = set(_phrase(item.name))
        return max(same, key=lambda i: len(words & set(_phrase(i.name))))
