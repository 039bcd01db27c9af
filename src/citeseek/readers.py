"""Files -> ``Document``s: discovery, decoding, formats, cleaning and skip reasons."""

from __future__ import annotations

import codecs
import errno
import hashlib
import html as html_lib
import json
import os
import re
import stat
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .cleaning import clean_lines, parse_date

TEXT_EXTENSIONS = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md"}
HTML_EXTENSIONS = {".html": "html", ".htm": "html"}
JSONL_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl"}
FORMATS = {**TEXT_EXTENSIONS, **HTML_EXTENSIONS, **JSONL_EXTENSIONS}
MAX_FILE_BYTES = 512 * 1024 * 1024
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
_MENU_LINE = 40  # an HTML page whose extracted lines are all shorter may be only a menu


@dataclass
class Document:
    """One article as stored: ``text`` is what citations' offsets index into.

    ``line_map[i]`` is the 1-based line of the source file that holds line ``i`` of
    ``text``; for a JSONL record every line maps to the record's line.
    """

    doc_id: str
    source: str
    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    format: str = "txt"
    line_map: list[int] = field(default_factory=list)
    file_key: str = ""

    def __post_init__(self) -> None:
        if not self.line_map:
            self.line_map = list(range(1, self.text.count("\n") + 2))
        self._line_starts: list[int] | None = None

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.text, self.title or "", self.date or "", self.url or ""):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    def lines_for(self, start: int, end: int) -> tuple[int, int]:
        """Source lines (1-based, inclusive) holding ``text[start:end]``."""
        if self._line_starts is None:
            starts = [0]
            pos = self.text.find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = self.text.find("\n", pos + 1)
            self._line_starts = starts
        first = bisect_right(self._line_starts, start) - 1
        last = bisect_right(self._line_starts, max(start, end - 1)) - 1
        return self.line_map[first], self.line_map[last]


@dataclass(frozen=True)
class Skipped:
    """A file (or JSONL line) that was not indexed, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class SourceFile:
    """A file found under the paths given to a build."""

    path: Path
    doc_id: str  # path relative to the root it was found under (POSIX separators)

    @property
    def key(self) -> str:
        return str(self.path)


class Unreadable(Exception):
    """Raised inside this module for a file that must be skipped; carries the reason."""


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[SourceFile], list[Skipped]]:
    """Find the article files under ``paths`` (folders recursively, hidden files skipped)."""
    found: dict[str, SourceFile] = {}
    skipped: list[Skipped] = []
    for raw in paths:
        root = Path(raw).expanduser()
        if root.is_symlink() and not root.exists():
            skipped.append(Skipped(str(root), "dangling symbolic link"))
        elif root.is_file():
            _add(found, skipped, root, root.name)
        elif root.is_dir():
            for path, rel in _walk(root, skipped):
                _add(found, skipped, path, rel)
        else:
            skipped.append(Skipped(str(root), "no such file or folder"))
    return sorted(found.values(), key=lambda s: s.doc_id), skipped


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[Path, str]]:
    seen_dirs: set[tuple[int, int]] = set()

    def unreadable_folder(exc: OSError) -> None:  # reported, never silently left out
        skipped.append(Skipped(exc.filename or str(root),
                               f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True,
                                                onerror=unreadable_folder):
        try:
            st = os.stat(dirpath)
        except OSError as exc:  # removed or replaced while the walk was under way
            skipped.append(Skipped(dirpath, f"cannot read folder: {exc.strerror or exc}"))
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink loop: stop descending
            skipped.append(Skipped(dirpath, "symbolic link loop"))
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            yield path, path.relative_to(root).as_posix()


def _add(found: dict[str, SourceFile], skipped: list[Skipped], path: Path, rel: str) -> None:
    if path.suffix.lower() not in FORMATS:
        skipped.append(Skipped(str(path), f"unsupported file type {path.suffix or '(none)'}"))
        return
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            reason = "symbolic link loop"
        elif exc.errno == errno.ENOENT and path.is_symlink():
            reason = "dangling symbolic link"
        else:
            reason = f"cannot read: {exc.strerror or exc}"
        skipped.append(Skipped(str(path), reason))
        return
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the build, a device never end
        skipped.append(Skipped(str(path), "not a regular file"))
        return
    if st.st_size > MAX_FILE_BYTES:
        skipped.append(Skipped(str(path), f"larger than {MAX_FILE_BYTES >> 20} MiB"))
        return
    if rel in found:
        skipped.append(Skipped(str(path), f"document id {rel!r} already taken by {found[rel].path}"))
        return
    found[rel] = SourceFile(path=path.absolute(), doc_id=rel)


def read_source(path: Path) -> bytes:
    """A file's bytes, read once. Raises ``Unreadable`` for anything that is not a
    regular file of at most ``MAX_FILE_BYTES`` (checked on the open file itself, so a
    file swapped for a FIFO or a device after discovery cannot hang the build)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise Unreadable("not a regular file")
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(f"larger than {MAX_FILE_BYTES >> 20} MiB")
    return data


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


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"invalid {encoding}: {exc.reason} at byte {exc.start}") from None


def _checked(text: str) -> str:
    controls = sum(
        1 for c in text[:20000] if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v"
    )
    if controls > max(2, len(text[:20000]) // 100):
        raise Unreadable("binary file (control characters)")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_file(source: SourceFile, data: bytes) -> tuple[list[Document], list[Skipped]]:
    """Parse one file's bytes into documents; problems come back as ``Skipped``."""
    fmt = FORMATS[source.path.suffix.lower()]
    name = str(source.path)
    if not data.strip():
        return [], [Skipped(name, "empty file")]
    if fmt == "jsonl" and _mixed_utf8(data):
        # JSON is UTF-8: decode line by line so one bad line costs only itself.
        return _read_jsonl(source, _utf8_lines(data))
    try:
        text = decode(data)
    except Unreadable as exc:
        return [], [Skipped(name, str(exc))]
    if not text.strip():
        return [], [Skipped(name, "only whitespace")]
    if fmt == "jsonl":
        return _read_jsonl(source, text.split("\n"))
    if fmt == "html":
        doc = _read_html(source, text)
        return ([doc], []) if doc else ([], [Skipped(name, "no main text found in the HTML")])
    doc = _read_text(source, text, fmt)
    return ([doc], []) if doc else ([], [Skipped(name, "nothing left after removing boilerplate")])


def _read_text(source: SourceFile, text: str, fmt: str) -> Document | None:
    lines = text.split("\n")
    cleaned = clean_lines(lines)
    out: list[str] = []
    line_map: list[int] = []
    prev: int | None = None
    for i in cleaned.kept:
        if not lines[i].strip():
            continue
        if prev is not None and i != prev + 1:
            out.append("")  # a paragraph break where blank or dropped lines were
            line_map.append(i)
        out.append(lines[i])
        line_map.append(i + 1)
        prev = i
    if not out:
        return None
    return Document(
        doc_id=source.doc_id, source=str(source.path), text="\n".join(out),
        title=cleaned.title, date=cleaned.date, format=fmt, line_map=line_map,
        file_key=source.key,
    )


def _read_html(source: SourceFile, raw: str) -> Document | None:
    import trafilatura

    extracted = trafilatura.extract(raw, include_comments=False, include_tables=True)
    if not extracted or not extracted.strip():
        return None
    if max(len(line.strip()) for line in extracted.split("\n")) < _MENU_LINE:
        # Only short lines: trafilatura's fallback returns a page's menu when there is
        # no article; its precise mode says whether anything else is there.
        precise = trafilatura.extract(raw, include_comments=False, include_tables=True,
                                      favor_precision=True)
        if not precise or not precise.strip():
            return None
    meta = trafilatura.extract_metadata(raw)
    lines = [line for line in extracted.replace("\r\n", "\n").split("\n") if line.strip()]
    # Map each extracted line to the HTML source line that holds its first words.
    plain = html_lib.unescape(raw)
    line_map: list[int] = []
    pos, line_no = 0, 1
    for line in lines:
        probe = line.strip()[:40]
        at = plain.find(probe, pos) if probe else -1
        if at != -1:
            line_no += plain.count("\n", pos, at)
            pos = at
        line_map.append(line_no)
    return Document(
        doc_id=source.doc_id, source=str(source.path), text="\n".join(lines),
        title=(meta.title if meta and meta.title else None),
        date=_iso_date(meta.date) if meta and meta.date else None,
        url=(meta.url if meta and meta.url else None), format="html",
        line_map=line_map, file_key=source.key,
    )


def _iso_date(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return parse_date(text)


def _mixed_utf8(data: bytes) -> bool:
    """UTF-8 text with some lines that are not (records appended from elsewhere)."""
    if b"\x00" in data[:8192] or not _UTF8_MULTIBYTE.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _utf8_lines(data: bytes) -> list[str | Unreadable]:
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


def _unpaired_surrogate(*values: object) -> bool:
    """True when a JSON string held an escape such as \\ud800 with no partner: no
    UTF-8 (SQLite, tokenizers) can carry it."""
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _read_jsonl(source: SourceFile,
                lines: list[str] | list[str | Unreadable]) -> tuple[list[Document], list[Skipped]]:
    docs: list[Document] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for line_no, line in enumerate(lines, start=1):
        where = f"{source.path}:{line_no}"
        if isinstance(line, Unreadable):
            skipped.append(Skipped(where, str(line)))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(where, f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            skipped.append(Skipped(where, "a JSONL line must be an object"))
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            skipped.append(Skipped(where, "no 'text' field with text"))
            continue
        if _unpaired_surrogate(body, record.get("title"), record.get("_id"),
                               record.get("id"), record.get("url"), record.get("date")):
            skipped.append(Skipped(where, "a string holds an unpaired surrogate escape"))
            continue
        raw_id = record.get("_id", record.get("id"))
        doc_id = str(raw_id) if raw_id not in (None, "") else f"{source.doc_id}#{line_no}"
        if doc_id in seen:
            skipped.append(Skipped(where, f"duplicate id {doc_id!r}"))
            continue
        seen.add(doc_id)
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        title = record.get("title")
        url = record.get("url")
        docs.append(
            Document(
                doc_id=doc_id, source=str(source.path), text=body,
                title=str(title).strip() or None if title else None,
                date=_iso_date(record.get("date")), url=str(url) if url else None,
                format="jsonl", line_map=[line_no] * (body.count("\n") + 1),
                file_key=source.key,
            )
        )
    return docs, skipped
