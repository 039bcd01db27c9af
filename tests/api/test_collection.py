from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import (
    CollectionLocked,
    CollectionNotFound,
    CorruptCollection,
    ModelMismatch,
    UsageError,
)
from citeseek.storage import layout


def test_build_search_and_exact_citations(sample_dir: Path, tmp_path: Path, build) -> None:
    col = build(sample_dir, tmp_path / "col")
    assert col.last_build.documents == 5 and col.last_build.chunks >= 5
    hits = col.search("Mostazafan Foundation sanctions Treasury", k=3)
    assert hits and hits[0].doc_id == "002_e43f018c271d3215.txt"
    for mode in ("dense", "keyword", "hybrid"):
        for hit in col.search("1988 massacre political prisoners", k=5, mode=mode):
            doc = col.document(hit.doc_id)
            assert doc.text[hit.start:hit.end] == hit.text
            lines = Path(hit.source).read_text(encoding="utf-8").split("\n")
            block = "\n".join(lines[hit.line_start - 1:hit.line_end])
            for piece in hit.text.split("\n"):
                assert piece in block
            assert [h.rank for h in col.search("1988", k=3, mode=mode)] == [1, 2, 3]


def test_rebuild_unchanged_embeds_nothing_and_writes_no_generation(sample_dir, tmp_path,
                                                                      fake, build) -> None:
    store = tmp_path / "col"
    col = build(sample_dir, store)
    first_gen = col.generation
    calls = fake.calls
    again = build(sample_dir, store)
    assert fake.calls == calls
    assert again.last_build.unchanged and again.generation == first_gen


def test_changed_and_deleted_files(sample_dir, tmp_path, fake, build) -> None:
    store = tmp_path / "col"
    build(sample_dir, store)
    fake.encoded.clear()
    target = sample_dir / "004_4711baa52dff02b9.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nA brand new closing paragraph "
                      "about the zeppelin harbour that nobody had written before today.\n",
                      encoding="utf-8")
    (sample_dir / "000_8ec7e9efab969127.txt").unlink()
    col = build(sample_dir, store)
    report = col.last_build
    assert report.files_changed == 1 and report.files_removed == 1
    assert 0 < len(fake.encoded) <= 3  # only passages whose text changed
    assert all("zeppelin" in t for t in fake.encoded)
    assert {d["doc_id"] for d in col.documents()} == {
        "001_4177c0e56a96c8e4.txt", "002_e43f018c271d3215.txt", "003_359110e896c45b3d.txt",
        "004_4711baa52dff02b9.txt"}
    assert col.search("zeppelin harbour", k=1, mode="keyword")[0].doc_id.startswith("004")
    assert len(layout.generations(store)) == 2  # the live one and the previous one


def test_open_checks_model_and_checksums(sample_dir, tmp_path, fake, build) -> None:
    store = tmp_path / "col"
    build(sample_dir, store)
    with pytest.raises(ModelMismatch):
        citeseek.open(store, model=HashingEmbedder(model_id="other"))
    with pytest.raises(ModelMismatch):
        citeseek.build(sample_dir, store, model=HashingEmbedder(model_id="other"), progress=False)
    gen = store / layout.current_generation(store)
    data = bytearray((gen / "index.faiss").read_bytes())
    data[-1] ^= 0xFF
    (gen / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(CorruptCollection, match="index.faiss"):
        citeseek.open(store, model=fake)
    (gen / "store.sqlite").unlink()
    with pytest.raises(CorruptCollection, match="store.sqlite"):
        citeseek.open(store, model=fake)
    with pytest.raises(CollectionNotFound):
        citeseek.open(tmp_path / "nothing-here")


def test_manifest_records_settings_and_versions(sample_dir, tmp_path, build) -> None:
    col = build(sample_dir, tmp_path / "col", chunk_tokens=40, overlap_tokens=8)
    manifest = json.loads((col.root / col.generation / "manifest.json").read_text())
    assert manifest["model"] == {"id": "hashing-64-64", "dimension": 64, "max_seq_length": 64}
    assert manifest["settings"]["chunk_tokens"] == 40
    keyword_files = {f"keywords/{p.name}" for p in (col.root / col.generation / "keywords")
                     .iterdir() if not p.name.startswith(".tantivy")}
    assert "keywords/meta.json" in keyword_files
    assert set(manifest["files"]) == {"store.sqlite", "index.faiss"} | keyword_files
    assert "faiss-cpu" in manifest["versions"]
    assert not any(p.suffix in (".pkl", ".pickle") for p in col.root.rglob("*"))


def test_settings_change_rechunks_but_reuses_cache(sample_dir, tmp_path, build) -> None:
    store = tmp_path / "col"
    first = build(sample_dir, store, chunk_tokens=40)
    second = build(sample_dir, store, chunk_tokens=30)
    assert second.generation != first.generation
    assert second.settings.chunk_tokens == 30
    assert second.last_build.files_changed == 5


def test_filters_apply_before_ranking(sample_dir, tmp_path, build) -> None:
    col = build(sample_dir, tmp_path / "col")
    only = "003_359110e896c45b3d.txt"
    hits = col.search("human rights", k=4, doc_ids=[only])
    assert len(hits) == 4 and {h.doc_id for h in hits} == {only}
    dated = col.search("human rights", k=50, date_from="2021-01-01", date_to="2021-12-31")
    assert dated and {h.date for h in dated} == {"2021-03-06"}
    globbed = col.search("regime", k=50, sources="*/000_*")
    assert globbed and {h.doc_id for h in globbed} == {"000_8ec7e9efab969127.txt"}
    capped = col.search("human rights regime", k=10, per_doc=1)
    assert len({h.doc_id for h in capped}) == len(capped)


@pytest.mark.parametrize("query,k", [("", 5), ("   ", 5), ("ok", 0), ("ok", -1), (None, 5)])
def test_bad_queries_are_usage_errors(sample_dir, tmp_path, build, query, k) -> None:
    col = build(sample_dir, tmp_path / "col")
    with pytest.raises(UsageError):
        col.search(query, k=k)


@pytest.mark.parametrize("query", ['"unbalanced', "AND OR NOT", "NEAR(a b", "a* (b) -c",
                                   "Мостазафан 基金 🙂", "\x00\x1b[31m", "x" * 30000])
def test_any_text_is_a_valid_query(sample_dir, tmp_path, build, query) -> None:
    col = build(sample_dir, tmp_path / "col")
    for mode in ("keyword", "hybrid", "dense"):
        hits = col.search(query, k=3, mode=mode)
        assert len(hits) <= 3


def test_k_larger_than_collection(sample_dir, tmp_path, build) -> None:
    col = build(sample_dir, tmp_path / "col")
    hits = col.search("regime", k=10_000, mode="dense", dedupe=False)
    assert len(hits) == len(col)
    collapsed = col.search("regime", k=10_000, mode="dense")
    assert 0 < len(collapsed) < len(hits)  # overlapping neighbours collapsed
    for i, a in enumerate(collapsed):
        for b in collapsed[i + 1:]:
            if a.doc_id == b.doc_id:
                assert min(a.end, b.end) - max(a.start, b.start) <= (b.end - b.start) / 2


def test_duplicate_articles_collapse_to_one_passage(sample_dir, tmp_path, build) -> None:
    original = sample_dir / "002_e43f018c271d3215.txt"
    (sample_dir / "copy-of-002.txt").write_bytes(original.read_bytes())
    col = build(sample_dir, tmp_path / "col")
    hits = col.search("Mostazafan Foundation", k=5, mode="keyword")
    texts = [" ".join(h.text.split()) for h in hits]
    assert len(texts) == len(set(texts))
    both = col.search("Mostazafan Foundation", k=5, mode="keyword", dedupe=False)
    assert {h.doc_id for h in both[:2]} == {"002_e43f018c271d3215.txt", "copy-of-002.txt"}


def test_second_builder_is_locked_out(sample_dir, tmp_path, build) -> None:
    store = tmp_path / "col"
    with layout.build_lock(store), pytest.raises(CollectionLocked, match=str(os.getpid())):
        build(sample_dir, store)


def test_failed_build_leaves_previous_generation_live(sample_dir, tmp_path) -> None:
    store = tmp_path / "col"
    good = HashingEmbedder()
    col = citeseek.build(sample_dir, store, model=good, progress=False)
    live = col.generation

    class Exploding(HashingEmbedder):
        def encode(self, texts, **kw):
            raise OSError(28, "No space left on device")

    (sample_dir / "new.txt").write_text("A fresh article about lighthouses and ships. " * 5)
    with pytest.raises(citeseek.CiteseekError, match="No space left"):
        citeseek.build(sample_dir, store, model=Exploding(), progress=False)
    assert layout.current_generation(store) == live
    assert layout.generations(store) == [live]
    reopened = citeseek.open(store, model=good)
    assert reopened.search("regime", k=1)


def test_long_lived_collection_sees_new_generation(sample_dir, tmp_path, build) -> None:
    store = tmp_path / "col"
    reader = build(sample_dir, store)
    (sample_dir / "extra.md").write_text("# Lighthouse keepers\n\nThe lighthouse keepers of "
                                         "the northern coast kept logbooks for a century.\n")
    build(sample_dir, store)
    hits = reader.search("lighthouse keepers logbooks", k=1, mode="keyword")
    assert hits[0].doc_id == "extra.md" and hits[0].title == "Lighthouse keepers"


def test_nothing_readable_is_an_error_and_strict_mode(tmp_path, build) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    with pytest.raises(citeseek.CiteseekError, match="nothing to index"):
        build(folder, tmp_path / "col")
    (folder / "good.txt").write_text("A good article about trains and their timetables.")
    with pytest.raises(citeseek.CiteseekError, match="strict"):
        build(folder, tmp_path / "col", strict=True)
    assert not (tmp_path / "col" / "CURRENT").exists()
    col = build(folder, tmp_path / "col")
    assert [s.reason for s in col.last_build.skipped] == ["empty file"]


def test_hits_convert(sample_dir, tmp_path, build) -> None:
    col = build(sample_dir, tmp_path / "col")
    hits = col.search("<script>alert(1)</script> regime", k=2)
    df = hits.to_pandas()
    assert list(df["rank"]) == [1, 2] and "line_start" in df.columns
    assert hits.to_dict()[0]["doc_id"] == hits[0].doc_id
    html = hits._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "[1]" in str(hits)
    shutil.rmtree(tmp_path / "col")
