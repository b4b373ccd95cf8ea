import pytest

from tokenization.layout import image_token_count, image_token_ids
from tokenization.special import special_ids

LLAMA4 = special_ids(200000)
P, X, Y, IMG, START, END = 200092, 200084, 200085, 200090, 200080, 200081


def test_llama4_ids():
    assert (LLAMA4["<|image_start|>"], LLAMA4["<|image_end|>"], LLAMA4["<|tile_x_separator|>"],
            LLAMA4["<|tile_y_separator|>"], LLAMA4["<|image|>"], LLAMA4["<|patch|>"]) == (START, END, X, Y, IMG, P)
    assert LLAMA4["<|begin_of_text|>"] == 200000 and LLAMA4["<|end_of_text|>"] == 200001


def test_single_tile_layout():
    ids = image_token_ids(1, 1, LLAMA4)
    assert ids == [START, IMG] + [P] * 144 + [END]
    assert len(ids) == 147 == image_token_count(1, 1)


def test_2x3_layout_exact_sequence():
    ids = image_token_ids(2, 3, LLAMA4)
    row = [P] * 144 + [X] + [P] * 144 + [X] + [P] * 144 + [Y]
    assert ids == [START] + row + row + [IMG] + [P] * 144 + [END]


@pytest.mark.parametrize("rows,cols,total", [(1, 1, 147), (2, 2, 727), (3, 5, 2322), (4, 4, 2467), (1, 2, 437)])
def test_counts_match_formula(rows, cols, total):
    ids = image_token_ids(rows, cols, LLAMA4)
    assert len(ids) == image_token_count(rows, cols) == total
    n = rows * cols
    assert ids.count(P) == 144 * (n + 1 if n > 1 else 1)
    assert ids.count(X) == (rows * (cols - 1) if n > 1 else 0)
    assert ids.count(Y) == (rows if n > 1 else 0)
    assert ids.count(IMG) == 1


def test_bad_grid():
    with pytest.raises(ValueError):
        image_token_ids(0, 3, LLAMA4)
