"""Ingest: files become ``Document``s, documents become passages (``Chunk``s).

``formats`` is the table of the file formats read, from which the rest learns which
files are articles and which reader reads each; ``discovery`` finds article files and
reads their bytes safely, each a ``SourceFile`` (``sources``, with ``Skipped`` for what
is left out, and why); ``decoding`` turns bytes into text without guessing into
mojibake; ``readers`` parses each format into documents: ``cleaning`` drops scraped
boilerplate lines of text and Markdown, ``html`` (on ``html_source``) keeps a page's
article, ``pdf`` (on ``pdf_layout`` and ``pdf_running``) a PDF's text in reading order,
its running headers out, with the page labels ``page_labels`` reads; ``chunking`` splits
a document into passages sized by the model's own tokenizer, with exact offsets and
source lines.
"""
