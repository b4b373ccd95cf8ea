"""Per-document decisions and signals: language ID, quality rules, dedup keys.

Plain Python over strings, lists and NumPy arrays; no Spark, so every rule is testable in
milliseconds. A filter returns None to keep a document or a short reason string.
"""
