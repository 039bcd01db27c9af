"""Text safe to print on a terminal: article text, file names and answers can hold
control characters and escape sequences a terminal would act on rather than show; they
are written as escapes instead, in plain output and in JSON alike."""

from __future__ import annotations

import re

# What a terminal would act on rather than show: C0 controls but tab and line feed, DEL,
# C1 controls (CSI, OSC: colours, titles, clipboard writes), bidirectional overrides
# that reorder what is shown, and lone surrogates no encoder can write.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")
# The same inside JSON text, which escapes C0 controls itself.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters, escape sequences and
    bidirectional overrides written as ``\\x1b``-style escapes; tabs and line breaks
    kept."""
    return _UNPRINTABLE.sub(_escape, text)


def printable_json(text: str) -> str:
    """A JSON document safe to print: the characters ``printable`` escapes, as JSON's own
    ``\\u`` escapes (so it still parses to the same values)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
