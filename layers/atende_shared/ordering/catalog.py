"""The menu as the agent sees it: lookup by id, phrase matching, search, alternatives.

Built once per call from the tenant's :class:`Menu`. Everything here is pure and
deterministic: the offline brain matches what the caller said against item names and
aliases, and the tools look items up by id and price them. Matching works on normalised
tokens (lower case, accents stripped, filler words dropped, a light plural stem) so
"duas Pizzas de Calabresa" finds the item named "Pizza Calabresa".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from atende_shared.models.menu import Menu, MenuItem, MenuOption

#: Words that never distinguish one item from another ("pizza DE calabresa").
_FILLER = frozenset({"de", "da", "do", "das", "dos", "of", "the", "o", "os", "as", "with"})
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
_TOKEN = re.compile(r"[a-z0-9]+|,")


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


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in tokens(text) if t != "," and t not in _FILLER)


@dataclass(frozen=True)
class Mention:
    """An item named in an utterance, at token positions ``start``..``end`` (exclusive)."""

    item: MenuItem
    start: int
    end: int


class MenuIndex:
    """Read-only view of a tenant's menu for matching, search and pricing."""

    def __init__(self, menu: Menu) -> None:
        self.menu = menu
        self._by_id = menu.by_id()
        self._phrases: list[tuple[tuple[str, ...], MenuItem]] = []
        for item in menu.items:
            seen: set[tuple[str, ...]] = set()
            for text in (item.name, *item.aliases):
                phrase = _phrase(text)
                if phrase and phrase not in seen:
                    seen.add(phrase)
                    self._phrases.append((phrase, item))
        # Longest phrases first so "pizza calabresa grande" beats "calabresa".
        self._phrases.sort(key=lambda p: -len(p[0]))
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

    def find_mentions(self, words: list[str]) -> list[Mention]:
        """Items named in ``words`` (normalised tokens), non-overlapping, in spoken order."""
        stems = [stem(w) for w in words]
        # Filler words are skipped when comparing, so keep a map to original positions.
        positions = [i for i, w in enumerate(words) if w != "," and w not in _FILLER]
        compact = [stems[i] for i in positions]
        taken = [False] * len(compact)
        found: list[Mention] = []
        for phrase, item in self._phrases:
            size = len(phrase)
            for start in range(len(compact) - size + 1):
                if any(taken[start : start + size]):
                    continue
                if tuple(compact[start : start + size]) == phrase:
                    for k in range(start, start + size):
                        taken[k] = True
                    found.append(Mention(item, positions[start], positions[start + size - 1] + 1))
        found.sort(key=lambda m: m.start)
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

    def search(self, query: str, *, limit: int = 5) -> list[MenuItem]:
        """Items whose name, alias, description or category shares a word with ``query``.

        An empty query lists the menu (first ``limit`` sellable items)."""
        wanted = set(_phrase(query))
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
        """A sellable item to offer instead of ``item``: same category first, then any."""
        same = [i for i in self.menu.items if i.category == item.category and i.sellable]
        others = [i for i in self.menu.items if i.sellable]
        for candidate in (*same, *others):
            if candidate.item_id != item.item_id:
                return candidate
        return None
