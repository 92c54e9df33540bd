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
    return "".join(unicodedata.normalize("NFD", ch)[0] for ch in text)


def _words(phrase: str) -> str:
    """A phrase as a pattern: bounded by non-word characters, any run of spaces or commas between words."""
    parts = [re.escape(p) for p in re.split(r"[\s,]+", fold(normalise(phrase)).strip()) if p]
    return r"(?<!\w)" + r"[\s,]+".join(parts) + r"(?!\w)"


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


def matchers_for(people: Iterable[HasIdentifiers]) -> list[Matcher]:
    found: dict[str, Matcher] = {}

    def add(label: str, pattern: str) -> None:
        found.setdefault(pattern, Matcher(label, re.compile(pattern, re.IGNORECASE)))

    for person in people:
        for phrase in [person.name, *(person.aliases or [])]:
            if not phrase or not phrase.strip():
                continue
            add(phrase, _words(phrase))
            for part in re.split(r"[\s,]+", phrase.strip()):
                if len(part.strip(".'-")) >= MIN_PART_LENGTH:
                    add(part, _words(part))
        if person.date_of_birth:
            for pattern in _dob_patterns(person.date_of_birth):
                add("date of birth", pattern)
        if person.address and person.address.strip():
            address = person.address.strip()
            add(address, _words(address))
            first_line = re.split(r"[,\n]", address)[0].strip()
            if first_line != address and re.search(r"\d", first_line) and len(first_line) >= 6:
                add(first_line, _words(first_line))
            for postcode in POSTCODE.findall(address):
                add(postcode, r"(?<!\w)" + r"\s*".join(map(re.escape, postcode.replace(" ", ""))) + r"(?!\w)")
    return list(found.values())


def find_identifiers(text: str | None, matchers: list[Matcher]) -> list[str]:
    """The identifying words found in text, as they were written there, in order of appearance."""
    if not text:
        return []
    text = normalise(text)
    folded = fold(text)
    hits: list[tuple[int, str]] = []
    for matcher in matchers:
        for match in matcher.pattern.finditer(folded):
            hits.append((match.start(), text[match.start() : match.end()]))
    words: list[str] = []
    for _pos, word in sorted(hits):
        if word not in words:
            words.append(word)
    return words
