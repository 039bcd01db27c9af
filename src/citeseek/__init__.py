"""citeseek: semantic search and cited answers over article collections.

```python
import citeseek
col = citeseek.build("articles/", store="embeddings/articles")
hits = col.search("How many protesters were killed?", k=5)
ans = col.ask("How many protesters were killed in November 2019?")
```

The names below load on first use, so ``import citeseek`` (and ``citeseek --help``)
does not pull in numpy, FAISS or the model libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import CiteseekError

if TYPE_CHECKING:
    from .answer.llm import LLM
    from .answer.result import Answer, AnswerSentence
    from .collection import Collection, build, open
    from .config import Settings
    from .document import Document
    from .search.hits import Hit, HitList
    from .storage.recovery import check, rollback

__all__ = ["LLM", "Answer", "AnswerSentence", "CiteseekError", "Collection", "Document", "Hit",
           "HitList", "Settings", "build", "check", "open", "rollback"]
__version__ = "0.1.0"

_LAZY = {
    "Answer": "answer.result", "AnswerSentence": "answer.result", "LLM": "answer.llm",
    "Collection": "collection", "build": "collection", "open": "collection",
    "Settings": "config", "Document": "document", "Hit": "search.hits",
    "HitList": "search.hits", "check": "storage.recovery", "rollback": "storage.recovery",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
