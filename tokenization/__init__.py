"""Tokenizers and interleaved token streams (no Spark)."""

from tokenization.tokenizer import Tokenizer, load_tokenizer

__all__ = ["Tokenizer", "load_tokenizer"]
