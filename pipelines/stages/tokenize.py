"""Tokenize stage: kept documents -> one uint32 token stream each."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

from pipelines.schema import document_texts
from pipelines.stage import Stage

TOKENS_DDL = ("id string, source string, uri string, lang string, lang_score double, "
              "tokens array<int>, n_tokens int")
TOKENS_ARROW = pa.schema([
    ("id", pa.string()), ("source", pa.string()), ("uri", pa.string()),
    ("lang", pa.string()), ("lang_score", pa.float64()),
    ("tokens", pa.list_(pa.int32())), ("n_tokens", pa.int32()),
])

_TOKENIZERS: dict[str, object] = {}


def tokenizer(spec: str):
    """One tokenizer per Python worker, built on first use."""
    if spec not in _TOKENIZERS:
        from tokenization import load_tokenizer

        _TOKENIZERS[spec] = load_tokenizer(spec)
    return _TOKENIZERS[spec]


def tokenize_batch(batch: pa.RecordBatch, spec: str, sep: str) -> pa.RecordBatch:
    """Arrow batch of records -> Arrow batch of token streams, one tiktoken batch call.

    The streams are assembled into one flat array with offsets, which is what Arrow's
    list type is, so no per-document Python list is built.
    """
    from tokenization.stream import text_streams

    tok = tokenizer(spec)
    streams = text_streams(tok, document_texts(batch, sep))
    lengths = np.fromiter((len(s) for s in streams), dtype=np.int32, count=len(streams))
    offsets = np.zeros(len(streams) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(streams).astype(np.int32) if streams else np.zeros(0, np.int32)
    tokens = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    return pa.RecordBatch.from_arrays(
        [batch.column("id"), batch.column("source"), batch.column("uri"), batch.column("lang"),
         batch.column("lang_score"), tokens, pa.array(lengths)],
        schema=TOKENS_ARROW,
    )


class Tokenize(Stage):
    name = "tokenize"
    reads = ("parts", "lang")
    writes = ("tokens", "n_tokens")

    def __init__(self, spec: str, part_separator: str = "\n\n"):
        self.spec = spec
        self.sep = part_separator

    def apply(self, df):
        spec, sep = self.spec, self.sep

        def run(batches: Iterator[pa.RecordBatch]):
            for b in batches:
                yield tokenize_batch(b, spec, sep)

        return df.mapInArrow(run, TOKENS_DDL)
