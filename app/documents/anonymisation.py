"""Finds identifiers of a review's people in text meant for the Home Office or the public.

Names and aliases match case-insensitively on word boundaries (each part of a name too: a first
name alone identifies); dates of birth in the usual written forms; addresses by their full text,
their first line and their postcode.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Protocol

MONTHS = [
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may", "may"),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sept?"), ("october", "oct"),
    ("november", "nov"), ("december", "dec"),
]
POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b", re.IGNORECASE)
# Name parts this short ("Jo", initials) would match ordinary words too often to be useful alone.
MIN_PART_LENGTH = 3


class HasIdentifiers(Protocol):
    name: str
    aliases: list
    date_of_birth: dt.date | None
    address: str | None


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u2018", "'")


def fold(text: str) -> str:
    """Accents folded one character for one, so "Zoe" finds "Zoë" and offsets still match the text."""
    if text.isascii():
        return text
    return "".join(unicodedata.normalize("NFD", ch)[0] for ch in text)


def _words(phrase: str) -> str:
    """A phrase as a pattern: bounded by non-word characters, any run of spaces or commas between words."""
    parts = [re.escape(p) for p in re.split(r"[\s,]+", fold(normalise(phrase)).strip()) if p]
    return r"(?<!\w)" + r"[\s,]+".join(parts) + r"(?!\w)"


def _needle(phrase: str) -> str:
    """The phrase's longest word as it appears in folded, lower-cased text (every match holds it)."""
    words = re.split(r"[\s,]+", fold(normalise(phrase)).strip())
    return max(words, key=len).lower() if words else ""


def _dob_patterns(born: dt.date) -> list[str]:
    d, m, y = born.day, born.month, born.year
    day = rf"0?{d}(?:st|nd|rd|th)?"
    month_names = "|".join(MONTHS[m - 1])
    month_word = rf"(?:{month_names})\.?"
    years = rf"(?:{y}|'?{y % 100:02d})"
    numeric_month = rf"0?{m}"
    sep = r"[/.\-]"
    return [
        rf"(?<!\d){y}-{m:02d}-{d:02d}(?!\d)",
        rf"(?<!\d)0?{d}{sep}{numeric_month}{sep}{years}(?!\d)",
        rf"(?<!\w){day}\s+(?:of\s+)?{month_word},?\s+{y}(?!\d)",
        rf"(?<!\w){month_word}\s+{day},?\s+{y}(?!\d)",
    ]


@dataclass(frozen=True)
class Matcher:
    label: str
    pattern: re.Pattern[str]
    # What a publication version prints instead (guidance 9.2: the agreed pseudonym).
    replacement: str = ""
    # Lower-case text every match contains: a substring test skips the regex on most texts.
    needle: str = ""

    def finditer(self, folded: str, lowered: str):
        return self.pattern.finditer(folded) if self.needle in lowered else ()


class HasPseudonym(HasIdentifiers, Protocol):
    pseudonym: str


def _part_replacement(index: int, pseudonym: str) -> str:
    """A first name becomes the pseudonym's first name, any other part its last: "Zoë" -> "Anna"."""
    parts = pseudonym.split()
    if not parts:
        return pseudonym
    return parts[0] if index == 0 else parts[-1]


class Matchers(list):
    """The matchers for one review's people, with one quick test that a text might hold any of them."""

    def __init__(self, matchers: Iterable[Matcher]) -> None:
        super().__init__(matchers)
        needles = sorted({m.needle for m in self if m.needle}, key=len, reverse=True)
        self._any = re.compile("|".join(map(re.escape, needles))) if needles else None

    def could_match(self, lowered: str) -> bool:
        return self._any is not None and self._any.search(lowered) is not None


def matchers_for(people: Iterable[HasIdentifiers]) -> Matchers:
    found: dict[str, Matcher] = {}

    def add(label: str, pattern: str, replacement: str, needle: str) -> None:
        found.setdefault(pattern, Matcher(label, re.compile(pattern, re.IGNORECASE), replacement, needle))

    for person in people:
        pseudonym = (getattr(person, "pseudonym", "") or "").strip() or "[name removed]"
        for phrase in [person.name, *(person.aliases or [])]:
            if not phrase or not phrase.strip():
                continue
            add(phrase, _words(phrase), pseudonym, _needle(phrase))
            for index, part in enumerate(re.split(r"[\s,]+", phrase.strip())):
                if len(part.strip(".'-")) >= MIN_PART_LENGTH:
                    add(part, _words(part), _part_replacement(index, pseudonym), _needle(part))
        if person.date_of_birth:
            for pattern in _dob_patterns(person.date_of_birth):
                # Every written form of the date has the year's last two digits.
                add("date of birth", pattern, "[date of birth removed]", f"{person.date_of_birth.year % 100:02d}")
        if person.address and person.address.strip():
            address = person.address.strip()
            add(address, _words(address), "[address removed]", _needle(address))
            first_line = re.split(r"[,\n]", address)[0].strip()
            if first_line != address and re.search(r"\d", first_line) and len(first_line) >= 6:
                add(first_line, _words(first_line), "[address removed]", _needle(first_line))
            for postcode in POSTCODE.findall(address):
                compact = postcode.replace(" ", "")
                add(postcode, r"(?<!\w)" + r"\s*".join(map(re.escape, compact)) + r"(?!\w)", "[postcode removed]", compact[:2].lower())
    return Matchers(found.values())


def pseudonymise(text: str | None, matchers: list[Matcher]) -> str:
    """The text with every identifier replaced; the longest match wins where two overlap."""
    if not text:
        return text or ""
    text = normalise(text)
    folded = fold(text)
    lowered = folded.lower()
    if isinstance(matchers, Matchers) and not matchers.could_match(lowered):
        return text
    spans = sorted(
        ((m.start(), -m.end(), matcher.replacement) for matcher in matchers for m in matcher.finditer(folded, lowered)),
    )
    out: list[str] = []
    position = 0
    for start, negative_end, replacement in spans:
        if start < position:
            continue  # inside a longer identifier already replaced
        out.append(text[position:start])
        out.append(replacement)
        position = -negative_end
    out.append(text[position:])
    return "".join(out)


def find_identifiers(text: str | None, matchers: list[Matcher]) -> list[str]:
    """The identifying words found in text, as they were written there, in order of appearance."""
    if not text:
        return []
    text = normalise(text)
    folded = fold(text)
    lowered = folded.lower()
    if isinstance(matchers, Matchers) and not matchers.could_match(lowered):
        return []
    hits: list[tuple[int, str]] = []
    for matcher in matchers:
        for match in matcher.finditer(folded, lowered):
            hits.append((match.start(), text[match.start() : match.end()]))
    words: list[str] = []
    for _pos, word in sorted(hits):
        if word not in words:
            words.append(word)
    return words
