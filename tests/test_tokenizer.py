import base64

import numpy as np
import pytest

from tokenization import load_tokenizer
from tokenization.special import LLAMA4_OFFSETS
from tokenization.stream import text_streams


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer("tiktoken:cl100k_base")


def test_embedded_cl100k_with_specials_after_base(tok):
    assert tok.base_vocab == 100277
    assert tok.special_ids["<|begin_of_text|>"] == 100277
    assert tok.special_ids["<|patch|>"] == 100277 + 92
    assert tok.vocab_size == 100277 + 2048
    assert tok.encode("hello world") == [15339, 1917]  # cl100k's own ids


def test_roundtrip_and_special_strings_are_text(tok):
    text = "Grüße aus Köln — 東京 <|begin_of_text|> 🙂"
    ids = tok.encode(text)
    assert tok.bos_id not in ids
    assert tok.decode(ids) == text


def test_arrays_encode_as_the_ordinary_call(tok):
    """The stage's array path equals encode_ordinary, special-token strings included
    (tiktoken's own and ours, which it does not know)."""
    texts = ["Grüße <|endoftext|> aus <|fim_prefix|> Köln <|begin_of_text|>", "", "plain text " * 200,
             "東京 🙂 <|endofprompt|>"]
    arrays = tok.encode_arrays(texts)
    assert all(a.dtype == np.uint32 for a in arrays)
    assert [a.tolist() for a in arrays] == [tok.encoding.encode_ordinary(t) for t in texts]
    assert tok.bos_id not in arrays[0]


def test_streams_are_framed_uint32(tok):
    a, b = text_streams(tok, ["one two", ""])
    assert a.dtype == np.uint32 and a[0] == tok.bos_id and a[-1] == tok.eos_id
    assert list(b) == [tok.bos_id, tok.eos_id]
    assert tok.decode(a[1:-1]) == "one two"


def test_decode_rejects_ids_outside_vocab(tok):
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([tok.vocab_size + 5])


def test_llama4_file_layout(tmp_path):
    # A tiny tiktoken-format ranks file: the 256 single bytes. Specials land at n_ranks + offset,
    # which for Llama 4's 200,000 ranks gives its published ids.
    path = tmp_path / "tokenizer.model"
    path.write_text("".join(f"{base64.b64encode(bytes([i])).decode()} {i}\n" for i in range(256)))
    t = load_tokenizer(f"llama4:{path}")
    assert t.special_ids == {k: 256 + v for k, v in LLAMA4_OFFSETS.items()}
    assert t.decode(t.encode("abc")) == "abc"
    assert {k: 200000 + v for k, v in LLAMA4_OFFSETS.items()}["<|image_start|>"] == 200080


def test_bad_spec():
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        load_tokenizer("sentencepiece:/x")
    with pytest.raises(FileNotFoundError):
        load_tokenizer("tiktoken:/does/not/exist")


def _train_hf(tmp_path, extra_special=()):
    from tokenizers import Tokenizer as HFTok
    from tokenizers import decoders, models, pre_tokenizers, trainers

    t = HFTok(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", *extra_special],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = ["the harbour town wakes early when the boats come back", "Grüße aus Köln", "東京の朝"] * 20
    t.train_from_iterator(corpus, trainer)
    path = tmp_path / "tokenizer.json"
    t.save(str(path))
    return path


def test_hf_tokenizer_appends_specials(tmp_path):
    path = _train_hf(tmp_path)
    t = load_tokenizer(f"hf:{path}")
    assert t.special_ids["<|begin_of_text|>"] == t.base_vocab
    assert t.special_ids["<|patch|>"] == t.base_vocab + 92
    text = "the harbour wakes, Grüße 東京 <s> and <|image|>"
    ids = t.encode(text)
    assert t.special_ids["<|image|>"] not in ids and 0 not in ids  # "<s>" stays text
    assert t.decode(ids) == text


def test_hf_tokenizer_with_its_own_multimodal_tokens(tmp_path):
    path = _train_hf(tmp_path, extra_special=list(LLAMA4_OFFSETS))
    t = load_tokenizer(f"hf:{path}")
    vocab_ids = {name: i + 1 for i, name in enumerate(LLAMA4_OFFSETS)}  # after "<s>" at 0
    assert t.special_ids == vocab_ids
    assert t.vocab_size == t.base_vocab
    ids = t.encode("look: <|image_start|>")
    assert t.special_ids["<|image_start|>"] not in ids
    assert t.decode(ids) == "look: <|image_start|>"
    assert t.decode([t.bos_id] + t.encode("boats") + [t.eos_id]) == "<|begin_of_text|>boats<|end_of_text|>"
