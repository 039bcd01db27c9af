"""Document ids as people type them: the exact id, or a prefix that only one id starts
with, in whichever Unicode form (composed or decomposed) it was typed or stored; anything
else is a ``DocumentNotFound`` that names the ids meant most likely."""

from __future__ import annotations

import difflib

from ..errors import DocumentNotFound, unicode_text
from .database import GenerationDB
from .selection import nfc

SHOWN = 5  # ids named in an error


def resolve_doc_id(db: GenerationDB, doc_id: str, where: str) -> str:
    """``doc_id`` itself when a document has it, else the one id starting with it
    (``where`` names the collection in errors). Ids are compared in NFC when the id as
    typed is not stored as such: ``café.txt`` typed composed finds the file stored
    decomposed."""
    unicode_text(doc_id, "doc_id")
    if db.document_owner(doc_id) is not None:
        return doc_id
    matches = db.selection.doc_ids_from(doc_id, SHOWN + 1) if doc_id else []
    if not matches and doc_id:  # typed in another Unicode form than it is stored in
        key, ids = nfc(doc_id), db.selection.doc_ids()
        matches = [i for i in ids if nfc(i) == key] or \
            sorted(i for i in ids if nfc(i).startswith(key))[:SHOWN + 1]
    if len(matches) == 1:
        return matches[0]
    if matches:
        more = " and more" if len(matches) > SHOWN else ""
        raise DocumentNotFound(f"{doc_id!r} starts several document ids in {where}: "
                               f"{', '.join(matches[:SHOWN])}{more}")
    raise DocumentNotFound(unknown_doc_id(db, doc_id, where))


def unknown_doc_id(db: GenerationDB, doc_id: str, where: str) -> str:
    """The message for an id no document has: the closest ids, when some are close."""
    close = difflib.get_close_matches(doc_id, db.selection.doc_ids(), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"no document {doc_id!r} in {where}{hint}"
