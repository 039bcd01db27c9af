"""``Filters``: which documents a search may return, checked before anything runs.

Sources are glob patterns over a document's source path or id; dates are ISO 8601 and
mean their whole period (``2021`` is all of 2021, ``2021-03`` all of March); document
ids are exact. A wrong kind of value, a date in another format or a pattern SQLite
cannot take is a ``UsageError`` that names the argument, never a silent empty result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ..dates import date_bound
from ..errors import UsageError, unicode_text
from ..storage.database import GenerationDB

MAX_PATTERN_BYTES = 50_000  # SQLite's limit on a GLOB pattern


@dataclass(frozen=True, kw_only=True)
class Filters:
    """Restrict a search to some documents. Applied before ranking, so top-k is complete.

    ``sources``: glob patterns matched against the source path or the document id;
    ``date_from`` / ``date_to``: first and last day, inclusive (documents without a date
    are left out while either is set); ``doc_ids``: exact document ids. Build one with
    ``Filters.of`` from what a caller passed, or with ``Filters.from_request`` from a
    request's or the command line's fields. ``Collection.search``, ``ask`` and
    ``more_like`` take these fields by name (``FILTERS``).
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    doc_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, sources: object = None, date_from: object = None, date_to: object = None,
           doc_ids: object = None) -> Filters:
        """Filters from a caller's values, checked: text or lists of text, ISO dates."""
        patterns = texts(sources, "sources")
        for pattern in patterns:
            if len(pattern.encode("utf-8", "surrogatepass")) > MAX_PATTERN_BYTES:
                raise UsageError(f"a sources pattern is {len(pattern):,} characters; the "
                                 f"limit is {MAX_PATTERN_BYTES:,} bytes", field="sources")
        return cls(sources=patterns, date_from=date_bound(date_from, "date_from"),
                   date_to=date_bound(date_to, "date_to", last=True),
                   doc_ids=texts(doc_ids, "doc_ids"))

    @classmethod
    def from_request(cls, *, source: object = None, date_from: object = None,
                     date_to: object = None, doc_id: object = None,
                     resolve: Callable[[str], str] | None = None) -> Filters:
        """Filters from the fields of an HTTP request or the command line, which name the
        repeatable ones ``source`` and ``doc_id``. ``resolve`` turns each given document id
        (an id or the start of one) into the id it stands for: ``Collection.resolve_doc_id``,
        whose ``DocumentNotFound`` names the ids meant."""
        ids = texts(doc_id, "doc_id")
        patterns = texts(source, "source")
        if resolve is not None:
            ids = tuple(resolve(given) for given in ids)
        return cls.of(sources=patterns, date_from=date_from, date_to=date_to, doc_ids=ids)

    def options(self) -> dict[str, Any]:
        """The filters as the keyword arguments of ``Collection.search``, ``ask`` and
        ``more_like``."""
        return {name: getattr(self, name) for name in FILTERS}

    @property
    def active(self) -> bool:
        return bool(self.sources or self.date_from or self.date_to or self.doc_ids)

    def allowed_chunk_ids(self, db: GenerationDB) -> list[int] | None:
        """The passages the filters leave, or None when no filter is set."""
        if not self.active:
            return None
        return db.selection.chunk_ids_matching(sources=self.sources, date_from=self.date_from,
                                        date_to=self.date_to, doc_ids=self.doc_ids)


FILTERS = tuple(f.name for f in fields(Filters))  # the filters' keyword names, in order


def texts(value: object, name: str) -> tuple[str, ...]:
    """``value`` as a tuple of text: None is empty, one text is one item. Text that is
    not Unicode (a lone surrogate) is a ``UsageError`` naming ``name``."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (unicode_text(value, name),)
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes) and \
            all(isinstance(v, str) for v in value):
        return tuple(unicode_text(v, name) for v in value)
    raise UsageError(f"{name} must be text or a list of text, not {value!r:.80}", field=name)

