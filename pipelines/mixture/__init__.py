"""Mixtures: token budgets per source, language, quality band and modality
(docs/stages/mixture.md). `planner` and `select` are plain Python and NumPy; `sampling`
runs them over the tokenized documents in Spark."""
