"""What a build reads and hashes: the live generation's manifest once, verified, under
the lock (the Builder is handed it with the settings merged from it; files unchanged
since their build sealed them are checked by their seal, not hashed); the new
generation's own files hashed to seal them and again to verify them before publishing,
and not again to open it; every other generation verified as it loads (the files it
shares with the generation a reader holds, by their seal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.engines.builder import Builder
from citeseek.engines.publish import build_collection
from citeseek.engines.settings import PreviousBuild
from citeseek.storage import layout
from citeseek.storage.manifest import Manifest


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every check of a generation's files against its manifest: the generation
    folder's name, and whether it compared checksums."""
    seen: list[tuple[str, bool]] = []
    original = Manifest.check_files

    def check(self: Manifest, gen_dir: Path, *, hashes: bool, **kwargs: Any) -> None:
        seen.append((gen_dir.name, hashes))
        original(self, gen_dir, hashes=hashes, **kwargs)

    monkeypatch.setattr(Manifest, "check_files", check)
    return seen


class Recording(Builder):
    """The local builder, keeping what it was started from."""

    started_from: list[Any] = []

    def run(self, sources: Any, report: Any) -> None:
        self.started_from.append(self.previous)
        super().run(sources, report)


def test_a_build_reads_the_live_manifest_once_and_verified(
        sample_dir: Path, tmp_path: Path, build: Any, fake: Any,
        reads: list[tuple[str, bool]]) -> None:
    store = tmp_path / "store"
    build(sample_dir, store, chunk_tokens=40)
    (sample_dir / "new.txt").write_text("A new article about the harbour ferry.\n")
    reads.clear()
    Recording.started_from = []
    built = build_collection([sample_dir], store, model=fake, progress=False,
                             builder_class=Recording)
    assert reads.count(("gen-000001", True)) == 1
    assert [name for name, _ in reads].count("gen-000001") == 1
    assert reads.count(("gen-000002", True)) == 1  # the new one, before it is published
    previous = Recording.started_from[0]
    assert isinstance(previous, PreviousBuild) and previous.name == "gen-000001"
    assert previous.manifest.settings.chunk_tokens == 40  # the settings carried over
    assert built.report.generation == "gen-000002" and built.report.previous == "gen-000001"
    assert Manifest.read(store / "gen-000002", verify=False).settings.chunk_tokens == 40


def every_file(store: Path, generation: str) -> list[str]:
    """The data files of ``generation`` as its manifest names them (``gen/file``)."""
    return [f"{generation}/{name}" for name in layout.generation_files(store / generation)]


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every data file hashed to check it against its manifest (``generation/file``),
    and ``published`` where a build makes its generation live."""
    seen: list[str] = []
    sha256_file, publish = layout.sha256_file, layout.publish

    def hashing(path: Path) -> str:
        gen = next(p for p in path.parents if layout.GENERATION.match(p.name))
        seen.append(path.relative_to(gen.parent).as_posix())
        return sha256_file(path)

    def publishing(root: Path, generation: str) -> None:
        seen.append("published")
        publish(root, generation)

    monkeypatch.setattr(layout, "sha256_file", hashing)
    monkeypatch.setattr(layout, "publish", publishing)
    return seen


def test_a_build_hashes_its_new_generation_once(sample_dir: Path, tmp_path: Path,
                                                 build: Any, fake: Any,
                                                 hashed: list[str]) -> None:
    store = tmp_path / "store"
    col = build(sample_dir, store)
    files = every_file(store, "gen-000001")
    assert files[:2] == ["gen-000001/store.sqlite", "gen-000001/index.faiss"]
    assert "gen-000001/keywords/meta.json" in files
    # measured for the manifest, verified before publishing, not again to open it
    assert hashed == [*files, *files, "published"]
    assert col.search("protesters", k=1, mode="keyword") and len(col) > 0
    hashed.clear()
    other = build_collection([sample_dir], store, model=fake, progress=False,
                             overrides={"chunk_tokens": 40})
    assert other.report.generation == "gen-000002"
    hashed.clear()
    assert col.refresh()  # a generation it did not see built is verified as it loads
    assert hashed == every_file(store, "gen-000002")
    hashed.clear()
    citeseek.open(store, model=fake)
    assert hashed == every_file(store, "gen-000002")


def test_a_build_checks_the_live_generation_by_its_seals(
        sample_dir: Path, tmp_path: Path, build: Any, hashed: list[str]) -> None:
    """Files still the ones their build measured (inode, size, time) are not hashed; a
    file written since (same bytes here, so the build goes on) is."""
    store = tmp_path / "store"
    build(sample_dir, store)
    hashed.clear()
    col = build(sample_dir, store)
    assert col.last_build.unchanged
    assert hashed == []
    index = store / "gen-000001" / layout.INDEX_FILE
    index.write_bytes(index.read_bytes())
    assert build(sample_dir, store).last_build.unchanged
    assert hashed == ["gen-000001/index.faiss"]


def test_an_update_hashes_only_the_files_it_wrote(sample_dir: Path, tmp_path: Path,
                                                  build: Any, fake: Any,
                                                  hashed: list[str]) -> None:
    store = tmp_path / "store"
    col = build(sample_dir, store)
    (sample_dir / "new.txt").write_text("A new article about the harbour ferry.\n")
    hashed.clear()
    build(sample_dir, store)
    shared = {name for name in every_file(store, "gen-000002")
              if (store / name).stat().st_nlink > 1}
    assert {"gen-000002/store.sqlite", "gen-000002/index.faiss"} <= shared
    own = [name for name in every_file(store, "gen-000002") if name not in shared]
    assert "gen-000002/delta-000002.sqlite" in own and "gen-000002/delta-000002.faiss" in own
    assert hashed == [*own, *own, "published"]  # sealed, then verified before publishing
    hashed.clear()
    assert col.refresh()  # what it shares with the generation it held: not hashed again
    assert hashed == own
