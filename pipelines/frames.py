"""Frames: the few relational operations a global stage decides with, on two engines.

A global stage (docs/design.md, "Global stages") writes its decision once, against `Frame`:
select, where, with_column, join, group, distinct, union, map and count. `LocalFrame` runs
them on an Arrow table in the driver (pyarrow's own joins and group-bys); `SparkFrame` runs
them as Spark SQL on a DataFrame. Where a decision runs is the engine's choice
(pipelines/global_stage.py), by the size of its keys; the decision never knows.

Row-wise work that is more than a comparison (hashing, banding, scoring pairs) is a `map`
with a function over Arrow record batches: called directly on the driver, through
`mapInArrow` in Spark, the same function either way. Results are sets: no operation
promises an order, and no decision may depend on one.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BatchFn = Callable[[pa.RecordBatch], pa.RecordBatch]

# ----------------------------------------------------------------------------- expressions


class Expr:
    """A column expression both engines evaluate: comparisons, `&`, `hamming`, `coalesce`."""

    def _cmp(self, op: str, other) -> Expr:
        return Call(op, self, other if isinstance(other, Expr) else Lit(other))

    def __lt__(self, other):
        return self._cmp("<", other)

    def __le__(self, other):
        return self._cmp("<=", other)

    def __gt__(self, other):
        return self._cmp(">", other)

    def __ge__(self, other):
        return self._cmp(">=", other)

    def __eq__(self, other):  # type: ignore[override]
        return self._cmp("==", other)

    def __ne__(self, other):  # type: ignore[override]
        return self._cmp("!=", other)

    def __and__(self, other):
        return Call("and", self, other)

    __hash__ = object.__hash__


class Col(Expr):
    def __init__(self, name: str):
        self.name = name


class Lit(Expr):
    def __init__(self, value):
        self.value = value


class Call(Expr):
    def __init__(self, op: str, *args: Expr):
        self.op, self.args = op, args


def col(name: str) -> Col:
    return Col(name)


def hamming(a: Expr, b: Expr) -> Expr:
    """Bits that differ between two 64-bit integers (signed longs, as Spark stores them)."""
    return Call("hamming", a, b)


def coalesce(a: Expr, b: Expr) -> Expr:
    return Call("coalesce", a, b)


_ARROW_CMP = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
              "==": pc.equal, "!=": pc.not_equal}


def _to_arrow(e: Expr, table: pa.Table):
    if isinstance(e, Col):
        return table.column(e.name)
    if isinstance(e, Lit):
        return pa.scalar(e.value)
    args = [_to_arrow(a, table) for a in e.args]
    if e.op in _ARROW_CMP:
        return _ARROW_CMP[e.op](*args)
    if e.op == "and":
        return pc.and_kleene(*args)
    if e.op == "coalesce":
        return pc.coalesce(*args)
    if e.op == "hamming":
        # As unsigned words: NumPy counts the bits of a negative int64's absolute value.
        x, y = (np.asarray(a.to_numpy() if isinstance(a, (pa.Array, pa.ChunkedArray)) else a, dtype=np.int64)
                for a in args)
        return pa.array(np.bitwise_count((x ^ y).view(np.uint64)).astype(np.int64))
    raise ValueError(f"unknown expression {e.op}")


def _to_spark(e: Expr):
    from pyspark.sql import functions as F

    if isinstance(e, Col):
        return F.col(e.name)
    if isinstance(e, Lit):
        return F.lit(e.value)
    a = [_to_spark(x) for x in e.args]
    ops = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y,
           ">=": lambda x, y: x >= y, "==": lambda x, y: x == y, "!=": lambda x, y: x != y,
           "and": lambda x, y: x & y, "coalesce": F.coalesce,
           "hamming": lambda x, y: F.bit_count(x.bitwiseXOR(y))}
    return ops[e.op](*a)


# ----------------------------------------------------------------------------- aggregates


def count() -> tuple:
    return ("count", None)


def minimum(column: str) -> tuple:
    return ("min", column)


def count_distinct(column: str) -> tuple:
    return ("count_distinct", column)


# ----------------------------------------------------------------------------- frames


class Frame(abc.ABC):
    """What a decision may do with its rows. `select(*cols, **renames)` keeps columns and
    renames others (new=old); `join`'s `how` is inner, left, semi or anti, and non-key
    column names of the two sides must differ."""

    @abc.abstractmethod
    def select(self, *cols: str, **renames: str) -> Frame: ...

    @abc.abstractmethod
    def where(self, expr: Expr) -> Frame: ...

    @abc.abstractmethod
    def with_column(self, name: str, expr: Expr) -> Frame: ...

    @abc.abstractmethod
    def join(self, other: Frame, on: str | list[str], how: str = "inner") -> Frame: ...

    @abc.abstractmethod
    def group(self, by: str | list[str], **aggs: tuple) -> Frame: ...

    @abc.abstractmethod
    def distinct(self) -> Frame: ...

    @abc.abstractmethod
    def union(self, other: Frame) -> Frame: ...

    @abc.abstractmethod
    def map(self, fn: BatchFn, schema: pa.Schema) -> Frame:
        """fn over record batches of this frame's rows -> batches of `schema`."""

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def to_arrow(self) -> pa.Table: ...


_ARROW_JOINS = {"inner": "inner", "left": "left outer", "semi": "left semi", "anti": "left anti"}


class LocalFrame(Frame):
    """Rows in an Arrow table on the driver."""

    def __init__(self, table: pa.Table):
        self.table = table

    def select(self, *cols, **renames):
        names = [*cols, *renames.values()]
        out = self.table.select(names)
        return LocalFrame(out.rename_columns([*cols, *renames]))

    def where(self, expr):
        mask = pc.fill_null(_to_arrow(expr, self.table), False)
        return LocalFrame(self.table.filter(mask))

    def with_column(self, name, expr):
        value = _to_arrow(expr, self.table)
        if isinstance(value, pa.Scalar):
            value = pa.array([value.as_py()] * self.table.num_rows, value.type)
        names = self.table.column_names
        if name in names:
            return LocalFrame(self.table.set_column(names.index(name), name, value))
        return LocalFrame(self.table.append_column(name, value))

    def join(self, other, on, how="inner"):
        # Acero joins only narrow payloads (no lists), so the join runs on the keys and row
        # numbers, and each side's columns are taken by row number afterwards.
        keys = [on] if isinstance(on, str) else list(on)
        left, right = self.table, other.table
        lk = left.select(keys).append_column("__l", pa.array(np.arange(left.num_rows, dtype=np.int64)))
        rk = right.select(keys).append_column("__r", pa.array(np.arange(right.num_rows, dtype=np.int64)))
        joined = lk.join(rk, keys, join_type=_ARROW_JOINS[how], use_threads=False)
        out = left.take(joined.column("__l"))
        if how in ("semi", "anti"):
            return LocalFrame(out)
        taken = right.take(joined.column("__r"))
        for name in taken.column_names:
            if name not in keys:
                out = out.append_column(name, taken.column(name))
        return LocalFrame(out)

    def group(self, by, **aggs):
        by = [by] if isinstance(by, str) else list(by)
        specs, names = [], []
        for name, (fn, column) in aggs.items():
            specs.append(([], "count_all") if fn == "count" else (column, fn))
            names.append(name)
        out = self.table.group_by(by, use_threads=False).aggregate(specs)
        # pyarrow names results "<column>_<fn>" and puts the keys last.
        return LocalFrame(out.select([*(o for o in out.column_names if o not in by), *by])
                          .rename_columns([*names, *by]).select([*by, *names]))

    def distinct(self):
        return LocalFrame(self.table.group_by(self.table.column_names, use_threads=False).aggregate([]))

    def union(self, other):
        return LocalFrame(pa.concat_tables([self.table, other.table.select(self.table.column_names)
                                            .cast(self.table.schema)]))

    def map(self, fn, schema):
        batches = [fn(b) for b in self.table.to_batches()]
        return LocalFrame(pa.Table.from_batches(batches, schema=schema))

    def count(self):
        return self.table.num_rows

    def to_arrow(self):
        return self.table


_SPARK_JOINS = {"inner": "inner", "left": "left", "semi": "left_semi", "anti": "left_anti"}


class SparkFrame(Frame):
    """Rows of a Spark DataFrame; every operation is Spark SQL but `map` (mapInArrow)."""

    def __init__(self, df):
        self.df = df

    def select(self, *cols, **renames):
        from pyspark.sql import functions as F

        return SparkFrame(self.df.select(*cols, *(F.col(old).alias(new) for new, old in renames.items())))

    def where(self, expr):
        return SparkFrame(self.df.filter(_to_spark(expr)))

    def with_column(self, name, expr):
        return SparkFrame(self.df.withColumn(name, _to_spark(expr)))

    def join(self, other, on, how="inner"):
        return SparkFrame(self.df.join(other.df, on, _SPARK_JOINS[how]))

    def group(self, by, **aggs):
        from pyspark.sql import functions as F

        fns = {"count": lambda c: F.count("*"), "min": F.min, "count_distinct": F.countDistinct}
        by = [by] if isinstance(by, str) else list(by)
        return SparkFrame(self.df.groupBy(*by).agg(*(fns[fn](c).alias(name) for name, (fn, c) in aggs.items())))

    def distinct(self):
        return SparkFrame(self.df.distinct())

    def union(self, other):
        return SparkFrame(self.df.unionByName(other.df))

    def map(self, fn, schema):
        from pyspark.sql.pandas.types import from_arrow_schema

        def run(batches):
            for b in batches:
                yield fn(b)

        return SparkFrame(self.df.mapInArrow(run, from_arrow_schema(schema)))

    def count(self):
        return self.df.count()

    def to_arrow(self):
        return self.df.toArrow()
