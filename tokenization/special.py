"""The multimodal special tokens and where they sit in a vocabulary.

Llama 4 reserves 2,048 special slots after its 200,000 BPE ranks; the offsets below are its
ids minus 200,000 (docs/design.md, "Llama 4"). Any base vocabulary gets the same layout appended
after its own ranks, so a stream's structure is the same whatever the text tokenizer.
"""

from __future__ import annotations

NUM_SPECIAL_SLOTS = 2048

LLAMA4_OFFSETS = {
    "<|begin_of_text|>": 0,
    "<|end_of_text|>": 1,
    "<|image_start|>": 80,
    "<|image_end|>": 81,
    "<|tile_x_separator|>": 84,
    "<|tile_y_separator|>": 85,
    "<|image|>": 90,
    "<|patch|>": 92,
}


def special_ids(base: int) -> dict[str, int]:
    return {tok: base + off for tok, off in LLAMA4_OFFSETS.items()}


# Llama 4's padding token (offset 18); packed sequences are padded with it at their end.
PAD_TOKEN = "<|finetune_right_pad|>"
PAD_OFFSET = 18
