"""Beyond plain distillation: the static vectors fitted to the bundled model's own
vectors of a collection's passages (tokenlearn's idea), cross-validated, on Cranfield.

The static model is the static tier's distillation (model2vec's recipe). Its token
vectors are then fitted so that each passage's mean token vector comes close to the
bundled model's vector of that passage (projected into the static model's PCA space):
ridge least squares toward the distilled vectors, solved by conjugate gradients. No
relevance judgment is used. The ridge strength is chosen by 80/20 cross-validation over
the passages: the fit sees 80%, and the chosen strength is the one whose vectors come
closest (cosine) to the bundled model's on the held-out 20%. Then the fit is redone
with that strength on a share of the passages (all of them, and a quarter: a large
archive would be fitted on a sample) and the whole corpus is built and evaluated with
each fitted model, against the distilled one and the bundled model (fp32).

    .venv/bin/python benchmarks/bench_static_fit.py [BEIR_DIR]

BEIR_DIR defaults to ../shared/eval/cranfield. The bundled model encodes every passage
once (minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_build import KnownVectors, passage_texts  # noqa: E402

import citeseek  # noqa: E402
from citeseek.config import Settings  # noqa: E402
from citeseek.embed import resolve_embedder  # noqa: E402
from citeseek.embed import static as S  # noqa: E402
from citeseek.evaluation import evaluate, load_beir  # noqa: E402

STRENGTHS = (1e-4, 1e-3, 1e-2, 1e-1)


class Fitted(S.StaticEmbedder):
    """The static embedder with token vectors of its own (nothing cached)."""

    def __init__(self, vectors: np.ndarray, name: str) -> None:
        super().__init__()
        self.model_id = f"static-fit-{name}"
        from model2vec import StaticModel
        from tokenizers import Tokenizer

        base = S.static_folder()
        plain = Tokenizer.from_file(str(base / "tokenizer.json"))
        self._model = StaticModel(vectors=vectors.astype(np.float32), tokenizer=plain,
                                  config={"normalize": True}, normalize=True, max_length=None)
        self._info = json.loads((base / S.MARKER).read_text())
        self._plain = Tokenizer.from_file(str(base / S.TEACHER_TOKENIZER))


def bags(tokenizer: Any, texts: list[str], vocab: int) -> Any:
    """Rows of token shares: a passage's mean token vector is its row times the table."""
    import scipy.sparse as sparse

    rows, cols, vals = [], [], []
    for i, enc in enumerate(tokenizer.encode_batch(texts, add_special_tokens=False)):
        if enc.ids:
            ids, counts = np.unique(enc.ids, return_counts=True)
            rows += [i] * len(ids)
            cols += ids.tolist()
            vals += (counts / len(enc.ids)).tolist()
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), vocab))


def fit(bag: Any, target: np.ndarray, start: np.ndarray, strength: float,
        steps: int = 60) -> np.ndarray:
    """argmin_E |bag E - target'|^2 + strength |E - start|^2, target' being the target
    scaled to the distilled prediction's length; conjugate gradients from ``start``."""
    pred = bag @ start
    scale = np.linalg.norm(pred, axis=1, keepdims=True) / np.maximum(
        np.linalg.norm(target, axis=1, keepdims=True), 1e-9)
    b = bag.T @ (target * scale) + strength * start
    table = start.copy()
    r = b - (bag.T @ (bag @ table) + strength * table)
    p, rs = r.copy(), (r * r).sum(axis=0)
    for _ in range(steps):
        ap = bag.T @ (bag @ p) + strength * p
        alpha = rs / np.maximum((p * ap).sum(axis=0), 1e-30)
        table += p * alpha
        r -= ap * alpha
        new = (r * r).sum(axis=0)
        p, rs = r + p * (new / np.maximum(rs, 1e-30)), new
    return table


def agreement(table: np.ndarray, bag: Any, target: np.ndarray) -> float:
    pred = bag @ table
    pred /= np.maximum(np.linalg.norm(pred, axis=1, keepdims=True), 1e-9)
    want = target / np.maximum(np.linalg.norm(target, axis=1, keepdims=True), 1e-9)
    return float((pred * want).sum(axis=1).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("beir", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "eval" / "cranfield")
    args = parser.parse_args()
    data = load_beir(args.beir)
    teacher = resolve_embedder("default", "onnx")
    texts = passage_texts(data.corpus, teacher, Settings())
    started = time.perf_counter()
    vectors = teacher.encode(texts)
    teacher_s = time.perf_counter() - started
    tokenizer, _, forward = S._teacher()
    raw = S._token_vectors(forward, tokenizer)
    used = np.array([not S._PLACEHOLDER.fullmatch(t) for t, _ in
                     sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])])
    x = raw[used].astype(np.float64)
    centred = x - x.mean(axis=0)
    _, eigvecs = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    components = eigvecs[:, ::-1][:, :256]
    start = np.zeros((len(raw), 256))
    scores = centred @ components
    signs = np.sign(scores[np.abs(scores).argmax(axis=0), np.arange(256)])
    start[used] = scores * signs * S._sif_weights(int(used.sum()), 1e-4)[:, None]
    target = vectors @ (components * signs)  # the bundled model's vectors, in that space
    bag = bags(tokenizer, texts, len(raw))
    order = np.random.default_rng(0).permutation(len(texts))
    seen, held = order[: len(texts) * 4 // 5], order[len(texts) * 4 // 5:]
    print(f"{args.beir.name}: {len(texts)} passages (the bundled model took {teacher_s:.0f} s "
          f"to encode them); ridge strength by 80/20 cross-validation over passages")
    print("| strength | cosine to the bundled model, fitted passages | held-out passages |")
    print("| ---: | ---: | ---: |")
    print(f"| distilled (no fit) | {agreement(start, bag[seen], target[seen]):.3f} | "
          f"{agreement(start, bag[held], target[held]):.3f} |")
    best = (-1.0, STRENGTHS[0])
    for strength in STRENGTHS:
        table = fit(bag[seen], target[seen], start, strength)
        out = agreement(table, bag[held], target[held])
        print(f"| {strength:g} | {agreement(table, bag[seen], target[seen]):.3f} | "
              f"{out:.3f} |")
        best = max(best, (out, strength))
    strength = best[1]
    work = Path(tempfile.mkdtemp(prefix="citeseek-fit-"))
    models: dict[str, Any] = {"bundled model, fp32": KnownVectors(teacher, texts, vectors),
                              "static, distilled": resolve_embedder("static")}
    for share in (1.0, 0.25):
        picked = order[: int(len(texts) * share)]
        table = fit(bag[picked], target[picked], start, strength)
        models[f"static, fitted on {share:.0%} of the passages"] = Fitted(table, f"{share:g}")
    print(f"\nnDCG@10 on {len(data.qrels)} judged queries, strength {strength:g}")
    print("| model | dense | hybrid |")
    print("| --- | ---: | ---: |")
    for n, (name, emb) in enumerate(models.items()):
        col = citeseek.build(data.corpus, work / f"c{n}", model=emb, progress=False)
        got = [evaluate(col, data, mode=m).metrics["ndcg@10"] for m in ("dense", "hybrid")]
        print(f"| {name} | {got[0]:.4f} | {got[1]:.4f} |")


if __name__ == "__main__":
    main()
