"""Clean workflows: ports, in spirit, of well-known durable-workflow samples.

Each module is written the way a user would write it against Continuum's real API and
must produce no finding (tests/lint/test_clean_corpus.py). They are also imported, so
every decorator and ``continuum.X`` they use exists.
"""
