"""Shuffle volume of a phase, read from Spark's own status store (what the UI shows).

PySpark's StatusTracker has no byte counts, so this reaches the JVM store through py4j;
it works with the UI disabled. If a Spark version changes that internal call, the report
says `null` rather than failing the run.
"""

from __future__ import annotations


def _stages(spark):
    store = spark.sparkContext._jsc.sc().statusStore()
    defaults = [getattr(store, f"stageList$default${i}")() for i in range(2, 6)]
    it = store.stageList(None, *defaults).iterator()
    while it.hasNext():
        yield it.next()


def last_stage_id(spark) -> int:
    try:
        return max((s.stageId() for s in _stages(spark)), default=-1)
    except Exception:  # noqa: BLE001 - internal API; absence is reported, not fatal
        return -1


def shuffle_since(spark, after_stage: int) -> dict | None:
    """Bytes and records shuffled by stages with an id above `after_stage`."""
    try:
        totals = {"shuffle_write_bytes": 0, "shuffle_read_bytes": 0, "shuffle_write_records": 0, "stages": 0}
        for s in _stages(spark):
            if s.stageId() > after_stage:
                totals["shuffle_write_bytes"] += s.shuffleWriteBytes()
                totals["shuffle_read_bytes"] += s.shuffleReadBytes()
                totals["shuffle_write_records"] += s.shuffleWriteRecords()
                totals["stages"] += 1
        return totals
    except Exception:  # noqa: BLE001
        return None
