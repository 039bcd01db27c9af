"""Answer: ranked ``Hit``s become an ``Answer`` of cited sentences, or a decline.

``scoring`` splits the passages into candidate sentences and measures each against the
question; ``spans`` finds the part of a sentence that answers (a number, date, name or
quotation); ``compose`` chooses the sentences, declines weak evidence and checks a
generator's citations; ``result`` holds ``Answer`` and ``AnswerSentence``.
"""
