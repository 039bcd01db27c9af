"""citeseek's own exceptions. The CLI maps them to messages and exit codes."""

from __future__ import annotations


class CiteseekError(Exception):
    """Base class of every error citeseek raises on purpose."""


class UsageError(CiteseekError):
    """The caller asked for something invalid (bad argument, bad query, bad k)."""


class DocumentNotFound(CiteseekError):
    """No document with that id in the collection."""


class CollectionNotFound(CiteseekError):
    """No collection lives at the given path."""


class CorruptCollection(CiteseekError):
    """A generation's files are missing, truncated or altered (checksum mismatch)."""


class NoGoodGeneration(CiteseekError):
    """A rollback found no good generation to make live."""


class ModelMismatch(CiteseekError):
    """The collection was built with another model or dimension than the one requested."""


class CollectionLocked(CiteseekError):
    """Another process is building this collection."""


class LLMError(CiteseekError):
    """A language model gave no usable answer (the message says why); ``ask`` then keeps
    its extractive answer."""


class BuildError(CiteseekError):
    """A build failed; the previous generation stays live."""
