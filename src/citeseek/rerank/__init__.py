"""Rerank: the top fused candidates of a search reordered by a model the user brings.

``base`` holds ``Reranked`` (a verdict: order, scores, a note) and the ``Reranker``
protocol; ``choice`` checks the caller's ``rerank=`` once (``Reranking``) and reorders
the hits by the verdict (filters and citations untouched, the score in
``scores["rerank"]``); ``cross_encoder`` scores (question, passage) pairs with a
sentence-transformers ``CrossEncoder`` from a local folder, by torch or by ONNX Runtime;
``onnx_export`` exports such a model to ONNX (fp32 and int8) once, into citeseek's
cache; ``listwise`` asks an OpenAI-compatible chat endpoint to order the candidates,
window by window, keeping the fused order wherever its reply is not a ranking.

This stage sits above ``answer`` (the listwise reranker uses ``answer.llm``'s client)
and below the facade, which calls it after ``search``.
"""
