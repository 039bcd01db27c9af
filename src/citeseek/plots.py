"""Plots for notebooks (matplotlib, imported only when a plot is drawn): a 2-D map of the
passages, the distribution of passage lengths, and evaluation figures by mode."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import UsageError

if TYPE_CHECKING:
    from .collection import Collection
    from .evaluation import EvalResult


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project row vectors onto their first two principal components (numpy SVD).

    Returns an ``(n, 2)`` array; with fewer than two dimensions of spread the missing
    coordinates are 0. Signs are fixed so the largest loading of each component is
    positive, which makes the map the same from run to run.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise UsageError(f"expected a 2-D array of vectors, not shape {x.shape}")
    out = np.zeros((x.shape[0], 2))
    if x.shape[0] < 2:
        return out
    centered = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    comps = vt[:2]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
    out[:, :len(comps)] = centered @ comps.T
    return out


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def _label(passage: Mapping[str, Any], width: int = 45) -> str:
    return textwrap.shorten(passage["title"] or passage["doc_id"], width, placeholder="…")


def passage_map(col: Collection, *, ax: Any = None, legend: bool = True,
                annotate: Sequence[int] = ()) -> Any:
    """Scatter the passages' vectors in 2-D (PCA), coloured by document; the chunk ids
    in ``annotate`` are circled and labelled. Returns the matplotlib axes."""
    passages = col.passages()
    if not passages:
        raise UsageError("the collection holds no passages")
    xy = pca_2d(col.passage_vectors([p["chunk_id"] for p in passages]))
    ax = _axes(ax, (8, 6))
    doc_ids = list(dict.fromkeys(p["doc_id"] for p in passages))
    colours = _colours(len(doc_ids))
    for colour, doc_id in zip(colours, doc_ids, strict=True):
        rows = [i for i, p in enumerate(passages) if p["doc_id"] == doc_id]
        ax.scatter(xy[rows, 0], xy[rows, 1], s=28, color=colour, alpha=0.8,
                   label=_label(passages[rows[0]]))
    for i, p in enumerate(passages):
        if p["chunk_id"] in set(annotate):
            ax.scatter(*xy[i], s=160, facecolors="none", edgecolors="black", linewidths=1.5)
            ax.annotate(f"#{p['chunk_id']}", xy[i], xytext=(6, 6), textcoords="offset points")
    ax.set(title=f"{len(passages)} passages of {len(doc_ids)} documents (PCA of embeddings)",
           xlabel="first principal component", ylabel="second principal component")
    if legend and len(doc_ids) <= 20:
        ax.legend(fontsize="small", loc="best")
    return ax


def _colours(n: int) -> list[Any]:
    import matplotlib as mpl

    cmap = mpl.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def passage_lengths(col: Collection, *, ax: Any = None, bins: int = 20) -> Any:
    """A histogram of passage lengths in words, stacked by document. Returns the axes."""
    passages = col.passages()
    if not passages:
        raise UsageError("the collection holds no passages")
    ax = _axes(ax, (8, 4))
    doc_ids = list(dict.fromkeys(p["doc_id"] for p in passages))
    groups = [[len(p["text"].split()) for p in passages if p["doc_id"] == d] for d in doc_ids]
    labels = [_label(next(p for p in passages if p["doc_id"] == d)) for d in doc_ids]
    ax.hist(groups, bins=bins, stacked=True, color=_colours(len(doc_ids)), label=labels)
    ax.set(title="Passage length", xlabel="words per passage", ylabel="passages")
    if len(doc_ids) <= 20:
        ax.legend(fontsize="small")
    return ax


def metric_by_mode(results: Mapping[str, Sequence[EvalResult]] | Sequence[EvalResult], *,
                   metric: str = "ndcg@10", ax: Any = None) -> Any:
    """Bars of ``metric`` per mode; ``results`` is one evaluation's results or a mapping
    of data set name to results (grouped bars). Returns the axes."""
    groups = dict(results) if isinstance(results, Mapping) else {"": list(results)}
    modes = list(dict.fromkeys(r.mode for rs in groups.values() for r in rs))
    if not modes:
        raise UsageError("no evaluation results to plot")
    ax = _axes(ax, (7, 4))
    width = 0.8 / len(modes)
    colours = _colours(len(modes))
    for j, mode in enumerate(modes):
        values = [next((r.metrics[metric] for r in rs if r.mode == mode), np.nan)
                  for rs in groups.values()]
        xs = np.arange(len(groups)) + (j - (len(modes) - 1) / 2) * width
        bars = ax.bar(xs, values, width=width, color=colours[j], label=mode)
        ax.bar_label(bars, fmt="%.3f", fontsize="small")
    ax.set_xticks(np.arange(len(groups)), [name or metric for name in groups])
    ax.set(ylabel=metric, ylim=(0, 1.08), title=f"{metric} by mode")
    # Beside the axes, not over them: inside, the legend hid a bar whatever corner it took.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0)
    return ax
