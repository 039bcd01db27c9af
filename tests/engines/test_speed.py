"""Speed features that are contracts, not timings: builds resume after interruption
without embedding again what they finished, keyword search starts without the model
libraries, and passage ordering for embedding changes no result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.engines.builder import Builder
from citeseek.engines.publish import build_collection
from citeseek.storage import layout
from tests.helpers import REPO


def _articles(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"a{i:03d}.txt").write_text(
            f"Report {i}\n\nThe lighthouse keeper {i} counted {i * 7} ships passing the "
            f"northern cape during storm number {i}.\n", encoding="utf-8")
    return folder


class InterruptingEmbedder(HashingEmbedder):
    """Raises KeyboardInterrupt (Ctrl-C) on its ``stop_at``-th call."""

    def __init__(self, stop_at: int) -> None:
        super().__init__(record=True)
        self.stop_at = stop_at

    def encode(self, texts, **kw):
        if self.calls + 1 == self.stop_at:
            raise KeyboardInterrupt
        return super().encode(texts, **kw)


class SmallBlocks(Builder):
    """The local builder committing every 8 passages embedded (4,096 otherwise)."""

    embed_block = 8


def build_in_small_blocks(corpus: Path, store: Path, embedder: HashingEmbedder):
    return build_collection([corpus], store, model=embedder, progress=False,
                            builder_class=SmallBlocks).report


def test_interrupted_build_resumes_without_embedding_finished_blocks(tmp_path: Path) -> None:
    corpus, store = _articles(tmp_path / "corpus", 40), tmp_path / "store"
    first = InterruptingEmbedder(stop_at=3)
    with pytest.raises(KeyboardInterrupt):
        build_in_small_blocks(corpus, store, first)
    done = list(first.encoded)
    assert len(done) == 16 and layout.current_generation(store) is None
    second = HashingEmbedder(record=True)
    col = citeseek.build(corpus, store, model=second, progress=False)
    assert col.last_build.reused == 16 and col.last_build.embedded == 40 - 16
    assert not set(second.encoded) & set(done)
    assert layout.generations(store) == [col.generation]
    fresh = citeseek.build(corpus, tmp_path / "fresh", model=HashingEmbedder(), progress=False)
    query = "lighthouse keeper 12 storm"
    assert [h.chunk_id for h in col.search(query, k=5, mode="dense")] == \
        [h.chunk_id for h in fresh.search(query, k=5, mode="dense")]


KILLED_BUILD = """
import os, signal, sys
sys.path[:0] = [{src!r}, {repo!r}]
from pathlib import Path
from citeseek.embed.hashing import HashingEmbedder
from tests.engines.test_speed import build_in_small_blocks

class Dying(HashingEmbedder):
    def encode(self, texts, **kw):
        if self.calls == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().encode(texts, **kw)

build_in_small_blocks(Path({corpus!r}), Path({store!r}), Dying())
"""


def test_build_killed_while_embedding_resumes(tmp_path: Path) -> None:
    corpus, store = _articles(tmp_path / "corpus", 30), tmp_path / "store"
    old = tmp_path / "old"
    old.mkdir()
    (old / "old.txt").write_text("An older article about harbour cranes.\n", encoding="utf-8")
    citeseek.build(old, store, model=HashingEmbedder(), progress=False)
    live = layout.current_generation(store)
    script = KILLED_BUILD.format(src=str(REPO / "src"), repo=str(REPO), corpus=str(corpus),
                                 store=str(store))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert layout.current_generation(store) == live and len(layout.generations(store)) == 2
    again = HashingEmbedder(record=True)
    col = citeseek.build(corpus, store, model=again, progress=False)
    assert col.last_build.reused == 16 and len(again.encoded) == 30 - 16
    assert sorted(layout.generations(store)) == sorted([live, col.generation])
    assert len(col) == 30


FAST_START = """
import sys
sys.path.insert(0, {src!r})
from citeseek.cli import main
code = main(["search", "lighthouse keeper", "--store", {store!r}, "--mode", "keyword",
             "--json"])
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers")
               if m in sys.modules)
print("MODULES", heavy, code)
"""


def test_keyword_search_from_the_command_line_imports_no_model_library(
        tmp_path: Path) -> None:
    store = tmp_path / "store"
    citeseek.build(_articles(tmp_path / "corpus", 5), store, model=HashingEmbedder(),
                   progress=False)
    script = FAST_START.format(src=str(REPO / "src"), store=str(store))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr
    out, marker = proc.stdout.rsplit("MODULES", 1)
    assert marker.split() == ["[]", "0"]
    assert "lighthouse keeper" in json.loads(out)[0]["text"]


def test_index_choice_by_size_and_memory() -> None:
    from citeseek.storage.vector_index import EXACT_LIMIT, IVF_LIMIT, choose_factory, ivfpq_factory

    plenty, tiny = 1 << 40, 1 << 20
    assert choose_factory(EXACT_LIMIT - 1, 384, tiny) == "Flat"
    assert choose_factory(EXACT_LIMIT, 384, plenty) == "HNSW32,Flat"
    # 10,000 full vectors with links take 17.9 MB, as 8-bit scalars 6.4 MB
    assert choose_factory(EXACT_LIMIT, 384, 8 << 20) == "HNSW32,SQ8"
    assert choose_factory(EXACT_LIMIT, 384, tiny) == ivfpq_factory(EXACT_LIMIT, 384)
    assert choose_factory(1_000_000, 384, plenty) == "IVF4096,Flat"
    assert choose_factory(IVF_LIMIT, 384, 300 << 20) == "IVF2048,SQ8"
    assert choose_factory(IVF_LIMIT, 384, tiny) == "IVF2048,PQ48"


@pytest.mark.parametrize("factory", ["HNSW16,Flat", "IVF8,Flat", "HNSW16,SQ8"])
def test_approximate_index_records_its_search_setting_and_recall(
        tmp_path: Path, factory: str) -> None:
    corpus = _articles(tmp_path / "corpus", 400)
    col = citeseek.build(corpus, tmp_path / "store", model=HashingEmbedder(), progress=False,
                         index=factory)
    meta = col.manifest["index"]
    assert meta["factory"] == factory and meta["chosen"] == "setting"
    assert meta["exact"] is False and meta["recall_queries"] == 200
    assert 0.9 <= meta["recall_at_10"] <= 1.0
    knob = "efSearch" if factory.startswith("HNSW") else "nprobe"
    assert set(meta["search"]) == {knob}
    reopened = citeseek.open(tmp_path / "store", model=HashingEmbedder())
    assert reopened._live.current.index.search_params == meta["search"]
    text = reopened.document("a123.txt").text
    assert reopened.search(text, k=1, mode="dense")[0].doc_id == "a123.txt"


def test_exact_index_is_recorded_as_exact(tmp_path: Path) -> None:
    col = citeseek.build(_articles(tmp_path / "corpus", 5), tmp_path / "store",
                         model=HashingEmbedder(), progress=False)
    meta = col.manifest["index"]
    assert meta["factory"] == "Flat" and meta["chosen"] == "auto"
    assert meta["exact"] is True and meta["recall_at_10"] == 1.0


def test_help_imports_neither_numpy_nor_the_model_libraries() -> None:
    script = (f"import sys; sys.path.insert(0, {str(REPO / 'src')!r})\n"
              "from citeseek.cli import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit as exc:\n    code = exc.code\n"
              "heavy = [m for m in ('numpy', 'faiss', 'torch', 'sentence_transformers') "
              "if m in sys.modules]\n"
              "print('MODULES', heavy, code)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "index" in proc.stdout and proc.stdout.rsplit("MODULES", 1)[1].split() == ["[]", "0"]
