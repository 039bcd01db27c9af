"""Ingest: files become ``Document``s, documents become passages (``Chunk``s).

``discovery`` finds article files and reads their bytes safely; ``decoding`` turns bytes
into text without guessing into mojibake; ``cleaning`` drops scraped boilerplate lines;
``readers`` parses each format into documents; ``chunking`` splits a document into
passages sized by the model's own tokenizer, with exact offsets and source lines.
"""
