"""Search: a query becomes ranked ``Hit``s with their citations.

``retrieval`` runs dense, keyword and hybrid search over one generation with filters
applied before ranking, and checks ``k`` and the mode; ``filters`` holds ``Filters`` and
the one translation of a request's filter fields; ``fusion`` combines the retrievers'
rankings; ``hits`` holds ``Hit`` and ``HitList`` (text, dicts, DataFrames, HTML cards);
``compare`` shows one query in several modes side by side.
"""
