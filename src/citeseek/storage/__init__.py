"""Storage: a collection on disk, and the only place that speaks SQL.

``layout`` is the collection folder (generations, the atomic ``CURRENT`` pointer, the
build lock); ``manifest`` a generation's ``manifest.json`` as typed records, read and
checked in one place (``manifest_fields``: each value with its field's name, and a
file's sum); ``levels`` the store's levels, a base and the deltas stacked on it;
``database`` the SQLite store of a generation over all its levels (transactions, sizes,
flattening), with ``records`` (files, documents, passages) and its parts
``tantivy_index`` (Tantivy BM25 in the generation's ``keywords/``; a schema-1 store's
FTS5 table is ``keyword_index``), ``embedding_cache`` (vectors by model and text hash)
and ``selection`` (ids that filters and prefixes choose), over ``sql`` (the schema,
shared pieces); ``doc_ids`` resolves typed document ids; ``vector_index`` the FAISS index
(choice by size, verified save and memory-mapped load, filtered search), ``vector_levels``
the indexes of a store's levels searched as one, and ``tuning`` the recall-tuned search
setting; ``generation`` opens one generation whole and follows the live one through
rebuilds; ``recovery`` checks every generation and rolls back to a good one.
"""
