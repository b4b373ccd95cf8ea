"""One document's interleaved token stream."""

from __future__ import annotations

import numpy as np

from tokenization.tokenizer import Tokenizer


def text_streams(tok: Tokenizer, texts: list[str], num_threads: int = 1) -> list[np.ndarray]:
    """<|begin_of_text|> text <|end_of_text|> per document, uint32, one batch call."""
    encoded = tok.encode_batch(texts, num_threads=num_threads)
    bos, eos = tok.bos_id, tok.eos_id
    out = []
    for ids in encoded:
        arr = np.empty(len(ids) + 2, dtype=np.uint32)
        arr[0] = bos
        arr[1:-1] = ids
        arr[-1] = eos
        out.append(arr)
    return out
