"""Spark side of earlyfuse: the record, the stages, readers, shards, reports.

Only this package (and `jobs`) imports Spark; `filters`, `vision_prep` and `tokenization`
stay plain Python so they can be tested without a JVM.
"""

__version__ = "0.1.0"
