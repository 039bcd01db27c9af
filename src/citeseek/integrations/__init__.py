"""citeseek where its users already work, each behind its own extra: ``mcp_server``
(``citeseek mcp``: search, ask, show and docs as tools for AI agents over the Model
Context Protocol, the ``mcp`` extra), ``langchain`` and ``llama_index`` (retrievers for
those frameworks: the ``langchain`` and ``llama-index`` extras), ``watch`` (``citeseek
watch``: a folder re-indexed as its files change, the ``watch`` extra), and
``citations`` (a hit's citation as the flat metadata both retrievers carry). Nothing
here is imported by the library itself."""
