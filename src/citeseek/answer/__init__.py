"""Answer: ranked ``Hit``s become an ``Answer`` of cited sentences, or a decline.

``corpus`` holds ``Corpus`` (what answering needs from one generation, made once by the
caller) and the word measures scoring and claim checks share; ``scoring`` splits the
passages into candidate sentences and measures each against the question; ``spans``
finds the part of a sentence that answers (a number, date, name or quotation);
``compose`` checks the options (``AnswerOptions``), chooses the sentences, declines weak
evidence and checks a generator's citations; ``llm`` asks an OpenAI-compatible endpoint;
``support`` checks each written sentence against the passages it cites; ``result`` holds
``Answer`` and ``AnswerSentence``.
"""
