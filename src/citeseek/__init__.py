"""citeseek: semantic search and cited answers over article collections.

```python
import citeseek
col = citeseek.build("articles/", store="embeddings/articles")
hits = col.search("How many protesters were killed?", k=5)
ans = col.ask("How many protesters were killed in November 2019?")
```
"""

from .answer_result import Answer, AnswerSentence
from .collection import Collection, build, open
from .config import Settings
from .document import Document
from .errors import CiteseekError
from .results import Hit, HitList

__all__ = ["Answer", "AnswerSentence", "CiteseekError", "Collection", "Document", "Hit",
           "HitList", "Settings", "build", "open"]
__version__ = "0.1.0"
