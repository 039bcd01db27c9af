"""Bytes -> text: UTF-8, UTF-16 and legacy encodings, decoded exactly or refused.

A wrong guess would put mojibake into the index and into citations, so every rule here
prefers skipping a file (with the reason) to guessing: damaged UTF-8, near ties between
detected encodings and readings that fit no language are all ``Unreadable``.
"""

from __future__ import annotations

import codecs
import re

_MESSY = 0.2  # charset_normalizer "chaos" above which a cp1252 reading is not trusted
# charset_normalizer "chaos" within which two readings tie, and above which a reading
# is a guess: either way the file is skipped rather than risk mojibake.
_NEAR_TIE = 0.05
_NEAR_TIE_WORDS = 0.1  # ... unless the other reading is clearly less like a language
_FOREIGN_RUN = re.compile(r"[^\W\d_\x00-\x7f]{4}")  # four non-ASCII letters in a row
# Accented letters of languages written in Windows-1252 / Windows-1250.
_WESTERN = ("àâæçéèêëîïôœùûüÿ", "äöüßé", "áéíñóúü", "áâãàçéêíóôõú", "àèéìíîòóùú",
            "áéëïóöüèêàíú", "åäæöøéüáðþóíúý", "àçèéíïòóúü")
_CENTRAL = ("áčďéěíňóřšťúůýž", "áäčďéíĺľňóôŕšťúýž", "ąćęłńóśźż", "áéíóöőúüű",
            "čćđšž", "ăâîșțşţ")
# Single-byte Cyrillic read as Shift-JIS turns into half-width katakana, which modern
# Japanese text hardly uses.
_HALFWIDTH_KANA = re.compile("[\uff66-\uff9f]")


class Unreadable(Exception):
    """A file (or line) that must be skipped; the message is the reason reported."""


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


class DamagedUtf8(Unreadable):
    """Mostly UTF-8 with a few invalid bytes (a cut-off or partly written file)."""


def _damaged_utf8(data: bytes, exc: UnicodeDecodeError) -> DamagedUtf8 | None:
    """Text that is UTF-8 apart from a few bad bytes must not be read as a legacy
    encoding: every accented letter would turn into mojibake."""
    valid = len(_UTF8_MULTIBYTE.findall(data))
    if not valid:
        return None
    invalid = data.decode("utf-8", "replace").count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if invalid > valid:  # legacy text: nearly every accented letter is an invalid byte
        return None
    return DamagedUtf8(f"damaged UTF-8: {exc.reason} at byte {exc.start} "
                       "(cut off or partly written?)")


def decode(data: bytes) -> str:
    """Bytes -> text: UTF-8 (BOM stripped), UTF-16 by BOM or shape, else a detected
    legacy encoding. Raises ``Unreadable`` rather than guessing into mojibake."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _checked(_strict(data, "utf-16"))
    if b"\x00" in data[:8192]:
        sample = data[:8192]
        odd_zeros = sample[1::2].count(0) / max(1, len(sample) // 2)
        even_zeros = sample[0::2].count(0) / max(1, len(sample) // 2)
        if odd_zeros > 0.3 and even_zeros < 0.05:
            return _checked(_strict(data, "utf-16-le"))
        if even_zeros > 0.3 and odd_zeros < 0.05:
            return _checked(_strict(data, "utf-16-be"))
        raise Unreadable("binary file (contains NUL bytes)")
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        damaged = _damaged_utf8(data, exc)
        if damaged is not None:
            raise damaged from None
    western = _plausible_cp1252(data)
    if western is not None:
        return _checked(western)
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None or best.encoding.startswith("utf"):
        raise Unreadable("not valid UTF-8 and no legacy encoding fits")
    text = str(best)
    if len(_HALFWIDTH_KANA.findall(text)) > len(text) // 10:
        raise Unreadable(f"legacy encoding unclear (read as {best.encoding}, it is mostly "
                         "half-width katakana); save the file as UTF-8")
    if "jis" not in best.encoding and best.encoding != "cp932" and _reads_as_japanese(data):
        raise Unreadable(f"legacy encoding unclear ({best.encoding} or Shift-JIS); "
                         "save the file as UTF-8")
    if best.chaos > _NEAR_TIE:
        raise Unreadable(f"legacy encoding unclear (perhaps {best.encoding}); "
                         "save the file as UTF-8")
    for other in results:  # a near tie that reads differently is a guess: skip, not mojibake
        if other.chaos <= best.chaos + _NEAR_TIE and \
                other.coherence >= best.coherence - _NEAR_TIE_WORDS and str(other) != text:
            raise Unreadable(f"legacy encoding unclear ({best.encoding} or "
                             f"{other.encoding}); save the file as UTF-8")
    return _checked(text)


def _plausible_cp1252(data: bytes) -> str | None:
    """Windows-1252, the commonest legacy encoding of Western text, when it fits.

    Detectors guess poorly on short Western texts (cp1257 for French, say), so cp1252
    is tried first and kept only if accented letters are sparse among the letters, as
    in real Latin-script text; Cyrillic or Greek read as cp1252 is nearly all accents,
    and whole words of them (four accented letters in a row). Where the accents fit no
    Western alphabet but their Windows-1250 reading fits a Central European one (ř, ě,
    ů rather than ø, ì, ù), it is left to the detector.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    letters = [c for c in text if c.isalpha()]
    if not letters or _FOREIGN_RUN.search(text):
        return None
    accented = sum(1 for c in letters if ord(c) > 127)
    if accented / len(letters) >= 0.3 and not _one_alphabet(text, _WESTERN):
        return None
    from charset_normalizer.md import mess_ratio

    mess = mess_ratio(text, 1.0)
    if mess > _MESSY:  # letters cut up by symbols: another encoding's bytes
        return None
    try:  # Central European text (cp1250) also reads as sparse accents
        central = data.decode("cp1250")
    except UnicodeDecodeError:
        return text
    if central != text and not _one_alphabet(text, _WESTERN) and \
            _one_alphabet(central, _CENTRAL):
        return None  # "pøístav" is "přístav": the detector will say cp1250
    return text


def _reads_as_japanese(data: bytes) -> bool:
    """Shift-JIS bytes whose reading is largely kana: Japanese, whatever a detector says
    (hiragana-rich Shift-JIS also decodes as rare Korean syllables)."""
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        return False
    kana = sum(1 for c in text if "\u3041" <= c <= "\u30ff")
    return kana > len(text) // 5


def _one_alphabet(text: str, alphabets: tuple[str, ...]) -> bool:
    """True when the accented letters of ``text`` all belong to one of ``alphabets``."""
    accented = {c for c in text.casefold() if c.isalpha() and ord(c) > 127}
    return any(accented <= set(letters) for letters in alphabets)


# Unicode category Cc (C0 and C1 controls) less tab, line feed, vertical tab, form feed
# and carriage return: a regex, as a per-character category lookup cost more than the
# rest of reading a file.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"invalid {encoding}: {exc.reason} at byte {exc.start}") from None


def _checked(text: str) -> str:
    controls = len(_CONTROLS.findall(text, 0, 20000))
    if controls > max(2, len(text[:20000]) // 100):
        raise Unreadable("binary file (control characters)")
    text = text.lstrip("\ufeff")
    if "\n" not in text:
        return text.replace("\r", "\n")  # classic Mac line ends
    # A carriage return inside a file of LF lines is no line break for grep -n or an
    # editor, so it must not be one for citations: it becomes a space.
    return text.replace("\r\n", "\n").replace("\r", " ")


def mixed_utf8(data: bytes) -> bool:
    """UTF-8 text with some lines that are not (records appended from elsewhere)."""
    if b"\x00" in data[:8192] or not _UTF8_MULTIBYTE.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def utf8_lines(data: bytes) -> list[str | Unreadable]:
    """A JSONL file's lines, each decoded on its own; a line that is not UTF-8 becomes
    the ``Unreadable`` saying why."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    out: list[str | Unreadable] = []
    for raw in data.split(b"\n"):
        try:
            out.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError as exc:
            out.append(Unreadable(f"invalid UTF-8: {exc.reason} at byte {exc.start}"))
    return out
