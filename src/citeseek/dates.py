"""Month and weekday names, and reading dates: the one home of both for every stage.

``MONTHS`` and ``WEEKDAYS`` hold every spelling citeseek recognises. Each consumer
builds what it needs from them with ``month_names``/``weekday_names`` (sets of words)
or ``month_pattern``/``weekday_pattern`` (regular expressions), and says its stricter
needs with their flags rather than with a list of its own:

- the readers (``parse_date``, ``find_date``, HTML time words) take any case and any
  spelling of a month, "Sept." and "sept" alike: a date line in a scraped page is often
  in capitals. A date line names its weekday in full ("Friday, April 26, 2024"); an
  HTML timestamp abbreviates it ("Fri 10:00 GMT");
- the answer stage (``answer.spans``) takes capitalised names only, because "may" and
  "march" are verbs; weekdays in full, because "Wed" and "Sat" are words too; and month
  abbreviations only with their full stop, because "Jan" is also a person's name. It
  takes every abbreviation with its stop: "Mar.", "Apr.", "Jun." and "Jul." included,
  which AP style never writes but other styles and sources do;
- sentence splitting (``sentences``) knows the abbreviations, so "Jan. 5" does not end
  a sentence while "in May. Then" does.

A name matches as a whole word: "Marching" and "Mayor" hold no month.

Dates are read into ISO 8601 (``YYYY-MM-DD``): ``parse_date`` for a line that is only a
date, ``find_date`` for a date written in running text, ``iso_date`` for a value a file
gives as its date, ``pdf_date`` for a PDF's date stamp, and ``date_bound`` for a search
filter's ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date

from .errors import UsageError

# Every spelling of each month, its full name first; then of each weekday, Monday first.
_MONTH_SPELLINGS = (
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec"),
)
_WEEKDAY_SPELLINGS = (
    ("monday", "mon"), ("tuesday", "tue"), ("wednesday", "wed"), ("thursday", "thu"),
    ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun"),
)
MONTHS: dict[str, int] = {name: number
                          for number, names in enumerate(_MONTH_SPELLINGS, start=1)
                          for name in names}
"""Every spelling of a month, lower case -> its number, 1 to 12."""
WEEKDAYS: dict[str, int] = {name: number for number, names in enumerate(_WEEKDAY_SPELLINGS)
                            for name in names}
"""Every spelling of a weekday, lower case -> its number, Monday 0 to Sunday 6
(``date.weekday()``)."""
_FULL_NAMES = frozenset(names[0] for names in _MONTH_SPELLINGS + _WEEKDAY_SPELLINGS)

_ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _names(table: Iterable[str], full: bool, abbreviations: bool) -> frozenset[str]:
    return frozenset(name for name in table
                     if (full if name in _FULL_NAMES else abbreviations))


def month_names(*, full: bool = True, abbreviations: bool = True) -> frozenset[str]:
    """Month spellings in lower case: full names ("january"), abbreviations ("jan",
    "sept") or both."""
    return _names(MONTHS, full, abbreviations)


def weekday_names(*, full: bool = True, abbreviations: bool = True) -> frozenset[str]:
    """Weekday spellings in lower case: full names ("monday"), abbreviations ("mon") or
    both."""
    return _names(WEEKDAYS, full, abbreviations)


def _pattern(names: frozenset[str], capitalised: bool, dotted: bool) -> str:
    alternatives = []
    for name in sorted(names, key=lambda n: (-len(n), n)):  # "sept" before "sep"
        written = re.escape(name.capitalize() if capitalised else name)
        stop = dotted and name not in _FULL_NAMES
        alternatives.append(written + (r"\." if stop else r"\b"))
    # The case rule travels with the group, whatever flags the whole is compiled with.
    return f"(?{'-i' if capitalised else 'i'}:{'|'.join(alternatives)})"


def month_pattern(*, full: bool = True, abbreviations: bool = True,
                  capitalised: bool = False, dotted: bool = False) -> str:
    """A regular expression group that matches one month's name as a whole word.

    ``capitalised``: only as a name is written in running text ("March", never "march"
    or "MARCH"); otherwise case is ignored. ``dotted``: abbreviations only with their
    full stop, which is part of the match ("Jan.", never "Jan")."""
    return _pattern(month_names(full=full, abbreviations=abbreviations), capitalised, dotted)


def weekday_pattern(*, full: bool = True, abbreviations: bool = True,
                    capitalised: bool = False, dotted: bool = False) -> str:
    """A regular expression group that matches one weekday's name as a whole word; the
    flags are ``month_pattern``'s."""
    return _pattern(weekday_names(full=full, abbreviations=abbreviations), capitalised,
                    dotted)


_MONTH = rf"(?P<month>{month_pattern()})\.?"
_DAY_NAME = rf"(?:{weekday_pattern(abbreviations=False)},?\s+)?"  # "Friday, " before it
_DATE_PATTERNS = [
    re.compile(rf"^{_DAY_NAME}{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})$", re.I),
    re.compile(rf"^{_DAY_NAME}(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})$", re.I),
    re.compile(r"^(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})(?:[T ][\d:.+\-Z]*)?$"),
]
# "March 5, 2020", "Sept. 5 2020" or "5 March 2020" inside a line of text.
_IN_TEXT = re.compile(
    rf"\b({month_pattern()}\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{month_pattern()}\.?,?\s+"
    r"\d{4})\b", re.I)


def parse_date(line: str) -> str | None:
    """Return an ISO 8601 date for a line that is only a date, else None."""
    text = line.strip()
    if len(text) > 40:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        groups = m.groupdict()
        month = int(groups["mnum"]) if groups.get("mnum") else MONTHS[groups["month"].lower()]
        try:
            return date(int(groups["year"]), month, int(groups["day"])).isoformat()
        except ValueError:
            return None
    return None


def find_date(text: str) -> str | None:
    """The first real date written in ``text`` ("published March 5, 2020"), as ISO
    8601; None when there is none."""
    for written in _IN_TEXT.finditer(text):
        parsed = parse_date(written.group(1))
        if parsed:
            return parsed
    return None


def iso_date(value: object) -> str | None:
    """A date given as a file's own field (an ISO timestamp or a written date) as ISO
    8601; None when it is neither."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return parse_date(text)


def pdf_date(stamp: str) -> str | None:
    """A PDF date stamp ("D:20240426093000+02'00'") as ISO 8601 where it is plausible:
    from 1990 on and not in the future."""
    found = re.match(r"^(?:D:)?(\d{4})(\d{2})(\d{2})", stamp)
    if not found:
        return None
    try:
        when = date(*(int(part) for part in found.groups()))
    except ValueError:
        return None
    if 1990 <= when.year <= date.today().year + 1 and when <= date.today():
        return when.isoformat()
    return None


def date_bound(value: object, name: str, *, last: bool = False) -> str | None:
    """An ISO date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) as the first day of its
    period, or with ``last`` the last day; None for no bound. Anything else is a
    ``UsageError`` that names the argument ``name``."""
    if value is None or value == "":
        return None
    match = _ISO.fullmatch(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError
        year, month, day = int(match[1]), int(match[2] or 0), int(match[3] or 0)
        if last:
            month = month or 12
            day = day or calendar.monthrange(year, month)[1]
        return date(year, month or 1, day or 1).isoformat()
    except ValueError:
        raise UsageError(f"{name} must be an ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD), "
                         f"not {value!r:.80}", field=name) from None
