"""Numbers as callers say them (and STT writes them): digits or pt-BR/English words.

``words_to_int(["mil", "e", "quinhentos"]) == 1500``; ``"cem" → 100``; ``"fifty" → 50``.
Used for quantities, street numbers and the cash note to bring change for.
"""

from __future__ import annotations

UNITS: dict[str, int] = {
    "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5,
    "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12,
    "treze": 13, "catorze": 14, "quatorze": 14, "quinze": 15, "dezesseis": 16,
    "dezessete": 17, "dezoito": 18, "dezenove": 19, "vinte": 20, "trinta": 30,
    "quarenta": 40, "cinquenta": 50, "sessenta": 60, "setenta": 70, "oitenta": 80,
    "noventa": 90, "cem": 100, "cento": 100, "duzentos": 200, "trezentos": 300,
    "quatrocentos": 400, "quinhentos": 500, "seiscentos": 600, "setecentos": 700,
    "oitocentos": 800, "novecentos": 900,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"mil": 1000, "thousand": 1000, "hundred": 100}
_JOINERS = frozenset({"e", "and"})


def words_to_int(words: list[str]) -> int | None:
    """The number said by ``words`` (all of them number words or digits), else ``None``."""
    if not words:
        return None
    total, current, seen = 0, 0, False
    for word in words:
        if word.isdigit():
            current += int(word)
            seen = True
        elif word in UNITS:
            current += UNITS[word]
            seen = True
        elif word in _SCALES:
            scale = _SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
            seen = True
        elif word in _JOINERS and seen:
            continue
        else:
            return None
    return total + current if seen else None


def number_at(words: list[str], start: int) -> tuple[int, int] | None:
    """The longest number starting at ``words[start]``: (value, end index), else ``None``."""
    best: tuple[int, int] | None = None
    end = start
    while end < len(words) and (
        words[end].isdigit()
        or words[end] in UNITS
        or words[end] in _SCALES
        or (words[end] in _JOINERS and end > start)
    ):
        end += 1
        value = words_to_int(words[start:end])
        if value is not None and words[end - 1] not in _JOINERS:
            best = (value, end)
    return best
