"""Storage: a collection on disk, and the only place that speaks SQL.

``layout`` is the collection folder (generations, the atomic ``CURRENT`` pointer, the
build lock); ``manifest`` a generation's ``manifest.json`` as typed records, read and
checked in one place; ``database`` the SQLite file of a generation (files,
documents, passages, transactions), with its parts ``tantivy_index`` (Tantivy BM25 in
the generation's ``keywords/``; a schema-1 store's FTS5 table is ``keyword_index``),
``embedding_cache`` (vectors by model and text hash) and ``selection`` (ids that filters
and prefixes choose), over ``sql`` (the schema, shared pieces); ``doc_ids`` resolves typed
document ids; ``vector_index`` the FAISS index (choice by size, verified save and load,
filtered search) and ``tuning`` its recall-tuned search setting; ``generation`` opens one
generation whole and follows the live one through rebuilds.
"""
