"""The caller's choice (``rerank=`` with ``rerank_top=``) checked once as a
``Reranking``, and the reordering it makes.

A reranker sees the top ``top`` fused candidates of a search, after its filters,
``per_doc`` and duplicate removal, and returns their order with a score each. The hits
themselves are not changed but for ``rank``, ``score`` (the reranker's) and ``scores``,
which keeps every retriever's score, the fused one under ``"fused"`` and the
reranker's under ``"rerank"``: text, offsets and citation fields stay as search made
them. Candidates past ``top`` (when ``k`` is larger) follow in fused order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from ..answer.llm import LLM
from ..errors import UsageError
from ..search.hits import Hit, HitList
from ..search.retrieval import check_whole
from .base import DEFAULT_TOP, LLM_NAME, Reranked, Reranker


@dataclass(frozen=True)
class Reranking:
    """A reranker and how many fused candidates it sees (``top``)."""

    reranker: Reranker
    top: int = DEFAULT_TOP

    @classmethod
    def of(cls, rerank: object, *, top: int | None = None,
           llm: LLM | None = None) -> Reranking | None:
        """The caller's ``rerank=``, checked: None or False (off, the default); a
        ``Reranker`` (a ``CrossEncoderReranker`` with another backend, say); a
        cross-encoder's folder or its name in the local Hugging Face cache; ``"llm"``
        for the listwise reranker through ``llm`` (the endpoint ``ask`` writes with);
        or an ``LLM``. ``top`` is a whole number >= 1 (default ``DEFAULT_TOP``)."""
        if top is not None:
            check_whole(top, "rerank_top", 1)
        if rerank is None or rerank is False:
            if top is not None:
                raise UsageError("rerank_top goes with rerank")
            return None
        chosen = resolve(rerank, llm=llm)
        return cls(chosen, DEFAULT_TOP if top is None else int(top))

    def candidates(self, k: int) -> int:
        """How many fused hits the search must give for ``k`` reranked ones."""
        return max(k, self.top)

    def apply(self, query: str, hits: HitList, k: int) -> HitList:
        """The top ``top`` of ``hits`` reordered, the rest after them, ``k`` in all."""
        head, tail = list(hits[:self.top]), list(hits[self.top:])
        verdict = self.reranker.rerank(query, head) if head else Reranked([], [])
        check_verdict(verdict, len(head), self.reranker.name)
        ordered: list[tuple[Hit, float | None]] = [(head[i], verdict.scores[i])
                                                   for i in verdict.order]
        ordered += [(hit, None) for hit in tail]
        out = [_moved(hit, rank, score) for rank, (hit, score) in
               enumerate(ordered[:k], start=1)]
        result = HitList(out, query=hits.query, mode=hits.mode)
        result.rerank_error = verdict.note
        return result


def _moved(hit: Hit, rank: int, score: float | None) -> Hit:
    """A copy of ``hit`` at ``rank``: scored by the reranker, or past its ``top``."""
    scores = {**hit.scores, "fused": hit.score}
    if score is not None:
        scores["rerank"] = float(score)
    moved = replace(hit, rank=rank, score=hit.score if score is None else float(score),
                    scores=scores)
    moved.page_breaks = hit.page_breaks  # not a field: replace() starts it empty
    return moved


def check_verdict(verdict: Reranked, n: int, name: str) -> None:
    """A ``Reranker`` that breaks the protocol is a bug there, said plainly."""
    if sorted(verdict.order) != list(range(n)) or len(verdict.scores) != n:
        raise UsageError(f"reranker {name!r} returned an order of {len(verdict.order)} "
                         f"and {len(verdict.scores)} scores for {n} candidates")


def resolve(rerank: object, *, llm: LLM | None = None) -> Reranker:
    """The reranker ``rerank`` names (see ``Reranking.of``)."""
    if isinstance(rerank, Reranker):
        return rerank
    if isinstance(rerank, LLM) or rerank == LLM_NAME:
        from .listwise import LLMReranker

        endpoint = rerank if isinstance(rerank, LLM) else llm
        if endpoint is None:
            raise UsageError('rerank="llm" needs an endpoint: give llm= and llm_model= '
                             "(--llm URL --llm-model NAME)")
        return LLMReranker(endpoint)
    if isinstance(rerank, str | os.PathLike) and str(rerank).strip():
        from .cross_encoder import load_cross_encoder

        return load_cross_encoder(os.fspath(rerank))
    raise UsageError(f"rerank must be a cross-encoder's folder or name, 'llm', an LLM or "
                     f"a Reranker, not {rerank!r:.80}")
