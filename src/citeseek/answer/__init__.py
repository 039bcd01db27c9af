"""Answer: ranked ``Hit``s become an ``Answer`` of cited sentences, or a decline.

``corpus`` holds ``Corpus`` (what answering needs from one generation, made once by the
caller) and the word measures scoring and claim checks share; ``units`` cuts a passage
into what an answer is made of (sentences, a quotation or a list read whole, never a
heading); ``kinds`` reads what kind of answer a question asks for; ``scoring`` measures
each candidate against the question; ``evidence`` weighs how strongly the passages
answer, the figure declining compares with its threshold; ``spans`` finds the part of a
sentence that answers (a number, date, name, quotation or cause); ``compose`` checks the
options (``AnswerOptions``), chooses the sentences, declines weak evidence and checks a
generator's citations; ``llm`` asks an OpenAI-compatible endpoint; ``support`` checks
each written sentence against the passages it cites; ``result`` holds ``Answer`` and
``AnswerSentence``.
"""
