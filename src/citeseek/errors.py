"""citeseek's own exceptions (the CLI maps them to messages and exit codes), and the
check that a text argument is text at all."""

from __future__ import annotations


class CiteseekError(Exception):
    """Base class of every error citeseek raises on purpose."""


class UsageError(CiteseekError):
    """The caller asked for something invalid (bad argument, bad query, bad k).
    ``field`` names the argument or request field at fault, where one is."""

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


def unicode_text(value: str, name: str) -> str:
    """``value`` when it is valid Unicode; a lone surrogate (from a JSON ``\\ud800``
    escape, or bytes that are not UTF-8 in a command-line argument) is a ``UsageError``
    naming ``name`` and where the surrogate is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{name} holds a lone surrogate ({value[exc.start]!r} at character "
                         f"{exc.start}), which is not text: {value!r:.80}",
                         field=name) from None
    return value
