"""Bad files: one folder holding every kind of odd file goes through one real build.
Each file is indexed exactly or skipped with a reason; the build goes on; ``--strict``
turns any skip into a failed build that leaves the previous generation live."""

from __future__ import annotations

import codecs
import contextlib
import errno
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.engines import builder
from citeseek.engines.publish import build_collection
from citeseek.ingest.decoding import Unreadable, decode
from citeseek.ingest.formats import read_file
from citeseek.ingest.sources import SourceFile

from .conftest import assert_intact, cli, snapshot, write_articles

PROSE = {  # (encoding, text): every line a sentence, so cleaning keeps all of it
    "utf8.txt": ("utf-8", "Ein schöner Tag in München\n\nÜber die Brücke gingen wir zum "
                          "Dom und tranken danach Kaffee im Café am großen Platz."),
    "utf8-bom.md": ("utf-8-sig", "# Crème brûlée\n\nLa crème brûlée est un dessert "
                                 "français composé d’une crème à base de jaune d’œuf."),
    "cp1252.txt": ("cp1252", "L’été dernier\n\nNous sommes allés à la plage — c’était "
                             "génial, disait-il, et “tout le monde” était là."),
    "latin1.txt": ("latin-1", "Größere Straßen\n\nGrößere Straßen führen über die Brücke "
                              "nach Köln, sagte der Bürgermeister gestern Abend."),
    "cp1250.txt": ("cp1250", "Příliš žluťoučký kůň\n\nPříliš žluťoučký kůň úpěl ďábelské "
                             "ódy, když jsme v Praze čekali na tramvaj."),
    "cp1251.txt": ("cp1251", "Москва\n\nМосква является столицей России и крупнейшим "
                             "городом страны с долгой историей и множеством музеев."),
    "koi8r.txt": ("koi8-r", "Санкт-Петербург\n\nСанкт-Петербург был основан Петром "
                            "Первым в начале восемнадцатого века на берегах Невы."),
    "greek.txt": ("iso8859-7", "Αθήνα\n\nΗ Αθήνα είναι η πρωτεύουσα της Ελλάδας και μια "
                               "από τις αρχαιότερες πόλεις του κόσμου."),
    "shiftjis.txt": ("shift_jis", "東京\n\n東京は日本の首都であり、世界最大の都市圏の一つです。"
                                  "多くの人々が住んでいます。"),
    "gb18030.txt": ("gb18030", "北京\n\n北京是中华人民共和国的首都，也是全国的政治和文化中心。"
                               "这座城市有三千多年的历史。"),
    "utf16-bom.txt": ("utf-16", "Lighthouse keepers\n\nThe lighthouse keepers of the "
                                "northern coast kept logbooks for a whole century."),
    "utf16le.txt": ("utf-16-le", "Canal locks\n\nThe canal locks on the old waterway were "
                                 "rebuilt in stone after the great flood of the valley."),
    "utf16be.txt": ("utf-16-be", "Tram lines\n\nThe tram lines of the city were extended "
                                 "to the harbour district during the long dry summer."),
}
JSONL_GOOD = {"j1": "Das Café am Hafen öffnet um sieben Uhr für die Fischer.",
              "j7": "The ferry to the island leaves twice a day in summer."}
SKIPS = {  # file -> a phrase its skip reason must hold
    "binary.txt": "binary", "empty.txt": "empty file", "blank.md": "empty file",
    "wide-space.txt": "only whitespace", "damaged-utf8.txt": "damaged UTF-8",
    "navigation.html": "no main text", "dangling.txt": "dangling symbolic link",
    "loop-a.txt": "symbolic link loop", "loop-b.txt": "symbolic link loop",
    "pipe.txt": "not a regular file",
    "device.txt": "symbolic link out of",  # followed on request: "not a regular file"
    "locked.txt": "cannot read: Permission denied", "locked-folder": "cannot read folder",
    "vanished.txt": "cannot read: No such file", "slides.pdf": "damaged PDF",
    "slides.pptx": "unsupported file type",
    "nested/again": "symbolic link loop",
    "broken.jsonl:2": "invalid JSON", "broken.jsonl:3": "must be an object",
    "broken.jsonl:4": "no 'text'", "broken.jsonl:5": "invalid UTF-8",
    "broken.jsonl:6": "unpaired surrogate", "broken.jsonl:8": "duplicate id",
}
NAV_HTML = """<html><head><title>Menu</title></head><body><nav><ul>
<li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/about">About</a></li>
</ul></nav><footer><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a></footer>
</body></html>"""


def make_zoo(root: Path) -> dict[str, Any]:
    """Write the folder of odd files; returns facts the checks need."""
    write_articles(root, 3)
    for name, (encoding, text) in PROSE.items():
        (root / name).write_bytes(text.encode(encoding))
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_bytes(b"  \n\t \r\n\n")
    (root / "wide-space.txt").write_text("\u3000\u00a0\n\u2003\n", encoding="utf-8")
    # A UTF-8 file cut off in the middle of a character, as while it is being written.
    (root / "damaged-utf8.txt").write_bytes("Die Straße über den Fluß führt nach Süden.\n"
                                            .encode() + "é".encode()[:1])
    (root / "navigation.html").write_text(NAV_HTML, encoding="utf-8")
    (root / "dangling.txt").symlink_to("no-such-target.txt")
    (root / "loop-a.txt").symlink_to("loop-b.txt")
    (root / "loop-b.txt").symlink_to("loop-a.txt")
    (root / "nested").mkdir()
    (root / "nested" / "again").symlink_to("..", target_is_directory=True)
    os.mkfifo(root / "pipe.txt")  # reading it would wait for a writer forever
    (root / "device.txt").symlink_to("/dev/zero")  # reading it would never end
    (root / "locked.txt").write_text("A locked article about secret canals.\n")
    (root / "locked-folder").mkdir()
    (root / "locked-folder" / "inside.txt").write_text("An article no one may read.\n")
    (root / "vanished.txt").write_text("An article deleted while the build runs.\n")
    (root / "slides.pdf").write_bytes(b"%PDF-1.4\n")  # a header and nothing after it
    (root / "slides.pptx").write_bytes(b"PK\x03\x04")
    long_line = " ".join(f"Dr. Smith met Mr. Jones and J. K. Rowling at dock {i}."
                         for i in range(20_000))  # ~1 MB on one line, full of abbreviations
    (root / "long-line.txt").write_text(long_line + "\n", encoding="utf-8")
    paragraph = " ".join(f"word{i}" for i in range(40_000))  # no sentence ends at all
    (root / "huge-paragraph.txt").write_text(paragraph + "\n", encoding="utf-8")
    duplicate = ("Identical twins\n\nThis syndicated article about identical twin "
                 "lighthouses appears twice under different file names.\n")
    (root / "copy-one.txt").write_text(duplicate, encoding="utf-8")
    (root / "copy-two.txt").write_text(duplicate, encoding="utf-8")
    (root / "broken.jsonl").write_bytes(b"\n".join([
        json.dumps({"id": "j1", "text": JSONL_GOOD["j1"]}, ensure_ascii=False).encode(),
        b'{"id": "j2", "text": "unterminated',
        b'["an", "array"]',
        b'{"id": "j4", "title": "no text"}',
        b'{"id": "j5", "text": "Latin-1 bytes \xe9t\xe9 in a UTF-8 file"}',
        b'{"id": "j6", "text": "a lone \\ud800 surrogate escape"}',
        json.dumps({"id": "j7", "text": JSONL_GOOD["j7"]}, ensure_ascii=False).encode(),
        b'{"id": "j1", "text": "the same id again"}',
    ]) + b"\n")
    return {"long_line": long_line, "paragraph": paragraph}


def _deny(path: Path, func: Any) -> Any:
    """``func`` failing with EACCES for ``path``: chmod 000 does not stop root."""
    def guarded(target: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fspath(target) == os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(target))
        return func(target, *args, **kwargs)
    return guarded


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The zoo built once: the report, the collection and the facts."""
    root = tmp_path_factory.mktemp("zoo") / "articles"
    root.mkdir()
    facts = make_zoo(root)
    (root / "locked.txt").chmod(0)
    (root / "locked-folder").chmod(0)
    fake = HashingEmbedder(record=True)

    class DeletesAfterDiscovery(builder.Builder):
        def discover(self, sources: Any) -> Any:
            found = super().discover(sources)
            (root / "vanished.txt").unlink()  # gone between discovery and reading
            return found

    store = root.parent / "store"
    try:
        # Running as root, a file with no permissions is still readable: the OS's
        # refusal is played by os.open and os.scandir for those two paths.
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(os, "open", _deny(root / "locked.txt", os.open))
            mp.setattr(os, "scandir", _deny(root / "locked-folder", os.scandir))
            report = build_collection([root], store, model=fake, progress=False,
                                      builder_class=DeletesAfterDiscovery).report
    finally:
        (root / "locked.txt").chmod(0o644)
        (root / "locked-folder").chmod(0o755)
    col = citeseek.open(store, model=fake)
    skipped = {os.path.relpath(s.source, root): s.reason for s in report.skipped}
    return {"root": root, "col": col, "fake": fake, "skipped": skipped,
            "docs": {d["doc_id"]: d for d in col.documents()}, **facts}


@pytest.mark.parametrize("name", sorted(SKIPS))
def test_bad_file_is_skipped_with_its_reason(zoo: dict[str, Any], name: str) -> None:
    assert SKIPS[name] in zoo["skipped"].get(name, ""), (name, zoo["skipped"])
    assert name.split(":")[0] not in zoo["docs"]


def test_nothing_is_skipped_without_a_reason_and_good_files_load(zoo: dict[str, Any]) -> None:
    assert set(zoo["skipped"]) == set(SKIPS)
    expected = ({f"article{i:02d}.txt" for i in range(3)} | set(PROSE) | set(JSONL_GOOD)
                | {"long-line.txt", "huge-paragraph.txt", "copy-one.txt", "copy-two.txt"})
    assert set(zoo["docs"]) == expected
    assert zoo["col"].search("harbour crane", k=1)[0].doc_id.startswith("article")


@pytest.mark.parametrize("name", sorted(PROSE))
def test_encodings_decode_exactly_never_mojibake(zoo: dict[str, Any], name: str) -> None:
    doc = zoo["col"].document(name)
    assert doc.text == PROSE[name][1]  # BOM gone, every character as written


def test_jsonl_good_lines_load_beside_bad_ones(zoo: dict[str, Any]) -> None:
    for doc_id, text in JSONL_GOOD.items():
        doc = zoo["col"].document(doc_id)
        assert doc.text == text and doc.source.endswith("broken.jsonl")
    assert zoo["col"].document("j7").line_map == [7]


def test_long_line_and_huge_paragraph_are_chunked_within_the_limit(zoo: dict[str, Any]) -> None:
    col, fake = zoo["col"], zoo["fake"]
    for name, original in (("long-line.txt", zoo["long_line"]),
                           ("huge-paragraph.txt", zoo["paragraph"])):
        doc = col.document(name)
        assert doc.text == original
        chunks = [(p["start"], p["end"], p["text"]) for p in col.passages()
                  if p["doc_id"] == name]  # in passage order
        assert len(chunks) > 100
        assert chunks[0][0] == 0 and chunks[-1][1] == len(original)
        for (start, end, text), (nxt, _, _) in zip(chunks, chunks[1:] + [(len(original),)
                                                                        * 3], strict=True):
            assert original[start:end] == text and nxt <= end + 1  # nothing left out
            assert fake.count_tokens([text])[0] <= fake.max_seq_length
    hit = col.search("word31234", k=1, mode="keyword")[0]
    assert "word31234" in hit.text and hit.line_start == hit.line_end == 1


def test_duplicate_articles_are_kept_and_embedded_and_shown_once(zoo: dict[str, Any]) -> None:
    col, fake = zoo["col"], zoo["fake"]
    assert col.document("copy-one.txt").text == col.document("copy-two.txt").text
    twins = [t for t in fake.encoded if "identical twin lighthouses" in t]
    assert len(twins) == 1  # one embedding for the shared passage
    hits = col.search("identical twin lighthouses syndicated", k=5, mode="keyword")
    assert [h.doc_id for h in hits].count("copy-one.txt") + \
        [h.doc_id for h in hits].count("copy-two.txt") == 1


class RewritesAfterReading(builder.Builder):
    """The local builder, with ``article01.txt`` rewritten just after its bytes are read."""

    def process(self, changed: Any, report: Any) -> None:
        def then_rewrite() -> Iterator[tuple[SourceFile, bytes, str]]:
            for source, data, sha in changed:
                if source.path.name == "article01.txt":  # read; now the file moves on
                    source.path.write_text("Rewritten\n\nThe article now speaks of "
                                           "zeppelins over the harbour instead of cranes.\n",
                                           encoding="utf-8")
                yield source, data, sha

        super().process(then_rewrite(), report)


def test_file_changed_after_reading_is_picked_up_next_build(tmp_path: Path) -> None:
    folder = write_articles(tmp_path / "in", 2)
    fake = HashingEmbedder()
    build_collection([folder], tmp_path / "store", model=fake, progress=False,
                     builder_class=RewritesAfterReading)
    col = citeseek.open(tmp_path / "store", model=fake)
    text = col.document("article01.txt").text  # the bytes read, not the file's new ones
    assert "harbour crane number" in text and "zeppelins" not in text
    again = citeseek.build(folder, tmp_path / "store", model=fake, progress=False)
    assert again.last_build.files_changed == 1  # the hash was of the bytes indexed
    assert "zeppelins" in again.document("article01.txt").text


def test_cli_strict_fails_with_exit_1_and_keeps_the_previous_generation(
        zoo: dict[str, Any], tmp_path: Path) -> None:
    good = write_articles(tmp_path / "good", 3)
    store = tmp_path / "store"
    code, report, err = cli("index", str(good), "--store", str(store), "--json", "--strict")
    assert code == 0, err
    before = snapshot(store)
    copy = tmp_path / "zoo"
    shutil.copytree(zoo["root"], copy, symlinks=True, ignore=lambda d, names: [
        n for n in names if n in ("pipe.txt",)])
    os.mkfifo(copy / "pipe.txt")
    code, error, err = cli("index", str(copy), "--store", str(store), "--json", "--strict")
    assert code == 1 and "strict" in error["error"] and error["type"] == "BuildError"
    assert "pipe.txt" in error["error"] and "strict" in err
    assert_intact(store, before, HashingEmbedder())
    code, report, err = cli("index", str(copy), "--store", str(store), "--json")
    assert code == 0, err
    reasons = {Path(s["source"]).name: s["reason"] for s in report["skipped"]}
    assert reasons["pipe.txt"] == "not a regular file"
    assert "damaged UTF-8" in reasons["damaged-utf8.txt"]
    # Readable in the copy: locked.txt and locked-folder/inside.txt (vanished.txt is gone).
    assert report["documents"] == len(zoo["docs"]) + 2


# -- property tests -------------------------------------------------------------------

LEGACY = {  # script -> the encodings its text is really found in
    "french": ["cp1252", "latin-1"], "german": ["cp1252", "latin-1"],
    "english": ["cp1252", "latin-1"], "czech": ["cp1250"], "russian": ["cp1251", "koi8-r"],
    "greek": ["iso8859-7"], "japanese": ["shift_jis"], "chinese": ["gb18030"],
}
UNICODE = ["utf-16", "utf-16-le", "utf-16-be", "utf-8", "utf-8-sig"]
SENTENCES = {  # sentences of real articles, one language each
    "french": ["Le port de la ville a été agrandi après la crue de l'année dernière.",
               "Les élèves du lycée ont visité le château près de la rivière.",
               "Déjà très tôt, les pêcheurs préparent leurs bateaux à quai.",
               "Où trouve-t-on la meilleure crème brûlée de la région côtière ?",
               "Le garçon a reçu une lettre de sa tante qui habite à Genève.",
               "Après la réunion, le maire a annoncé des mesures économiques."],
    "german": ["Der Hafen der Stadt wurde nach dem Hochwasser gründlich erneuert.",
               "Über die alte Brücke fahren täglich mehr als tausend Lastwagen.",
               "Die Bürger von Köln wählten gestern einen neuen Bürgermeister.",
               "Das Mädchen war müde, aber die Straße zum Bahnhof war noch weit.",
               "Für die Größe des Projekts fehlen noch einige Genehmigungen.",
               "Schöne Häuser säumen das Ufer des Flusses im Süden der Stadt."],
    "english": ["The harbour crane moved cargo from the ship to the dock.",
                "Heavy rain closed the river bridge for most of the morning.",
                "City officials said the new ferry will run twice a day.",
                "A café near the station serves coffee to the night shift.",
                "The council approved the budget after a long debate.",
                "Fishermen returned early because of the strong wind."],
    "czech": ["Přístav ve městě byl po povodni rozšířen a opraven.",
              "Příliš žluťoučký kůň úpěl ďábelské ódy na kraji lesa.",
              "Lidé čekali na tramvaj dlouho, protože v létě jezdí méně často.",
              "Řeka Vltava protéká Prahou a dělí město na dvě části.",
              "Starosta oznámil, že nový most bude hotový příští rok.",
              "Děti si hrály na břehu řeky až do pozdního večera."],
    "russian": ["Москва является столицей России и крупнейшим городом страны.",
                "Порт города был расширен после сильного наводнения.",
                "Люди долго ждали трамвай, потому что летом он ходит реже.",
                "Река делит город на две части, соединённые мостами.",
                "Мэр объявил, что новый мост будет готов в следующем году.",
                "Дети играли на берегу реки до позднего вечера."],
    "greek": ["Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και μεγάλη πόλη.",
              "Το λιμάνι της πόλης επεκτάθηκε μετά την πλημμύρα.",
              "Οι άνθρωποι περίμεναν πολύ το τραμ το καλοκαίρι.",
              "Ο δήμαρχος ανακοίνωσε ότι η νέα γέφυρα θα είναι έτοιμη.",
              "Τα παιδιά έπαιζαν στην ακτή μέχρι αργά το βράδυ.",
              "Η ιστορία της πόλης είναι γραμμένη στους δρόμους της."],
    "japanese": ["東京は日本の首都であり、世界最大の都市圏の一つです。",
                 "洪水の後、港は大きく拡張されました。",
                 "夏は電車が少ないので、人々は長い間待っていました。",
                 "市長は新しい橋が来年完成すると発表しました。",
                 "子供たちは夜遅くまで川岸で遊んでいました。",
                 "この町の歴史は古い通りに残っています。"],
    "chinese": ["北京是中华人民共和国的首都，也是全国的政治和文化中心。",
                "洪水过后，城市的港口得到了扩建。",
                "夏天电车很少，人们等了很长时间。",
                "市长宣布新桥将于明年建成。",
                "孩子们在河边一直玩到深夜。",
                "这座城市的历史留在古老的街道上。"],
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SENTENCES)), st.data(),
       st.lists(st.integers(0, 5), min_size=3, max_size=12))
def test_property_legacy_text_decodes_right_or_is_skipped(language, data, picks):
    encoding = data.draw(st.sampled_from(LEGACY[language] + UNICODE), label="encoding")
    text = "\n\n".join(SENTENCES[language][i] for i in picks)
    with contextlib.suppress(Unreadable):  # skipped with a reason is allowed...
        assert decode(text.encode(encoding)) == text  # ...a wrong text is not


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.sampled_from(["a.txt", "a.md", "a.jsonl"]))
def test_property_any_bytes_are_read_or_skipped(tmp_path_factory, raw: bytes,
                                                name: str) -> None:
    path = tmp_path_factory.getbasetemp() / name
    docs, skipped = read_file(SourceFile(path=path, doc_id=name), raw)
    assert docs or skipped
    for s in skipped:
        assert s.reason
    for doc in docs:
        doc.text.encode("utf-8")  # storable: no lone surrogates
        assert len(doc.line_map) == doc.text.count("\n") + 1


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=400), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_property_utf_text_round_trips(text: str, encoding: str) -> None:
    if "\x00" in text or not text.strip():
        return
    try:
        decoded = decode(text.encode(encoding))
    except Unreadable:
        return  # control-heavy text is read as binary: skipped, never altered
    raw = codecs.decode(text.encode(encoding), encoding).lstrip("\ufeff")
    # Line ends as grep -n and editors count them: CR alone ends lines only in a file
    # without LF (classic Mac); in a file of LF lines a lone CR is no break, a space.
    lines = raw.replace("\r", "\n") if "\n" not in raw else \
        raw.replace("\r\n", "\n").replace("\r", " ")
    assert decoded == lines


def test_folder_indexed_from_a_new_path_keeps_every_document(tmp_path: Path) -> None:
    """The same relative names from another folder: the old files leave before the new
    ones claim their document ids, so nothing is skipped and nothing is lost."""
    fake = HashingEmbedder()
    old = write_articles(tmp_path / "old", 4)
    store = tmp_path / "store"
    citeseek.build(old, store, model=fake, progress=False)
    new = tmp_path / "moved"
    shutil.move(old, new)
    col = citeseek.build(new, store, model=fake, progress=False)
    assert col.last_build.skipped == [] and col.last_build.files_removed == 4
    assert {d["doc_id"] for d in col.documents()} == {f"article{i:02d}.txt" for i in range(4)}
    assert all(d["source"].startswith(str(new)) for d in col.documents())
