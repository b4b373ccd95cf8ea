"""fastText quality classifiers: the `train-classifier` command as users run it, scoring with
the model it made, and the labels read from a model file without loading it.

The data is generated: expository prose (varied sentence templates over an open vocabulary of
made-up words) against web boilerplate (keyword lists, prices, "click here", navigation)
using the same made-up words, so the classifier must learn the form, not the vocabulary.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from filters.classifier import (
    ModelFileError,
    QualityClassifier,
    load_classifier,
    model_labels,
    prepare_text,
    train,
)

ROOT = Path(__file__).resolve().parent.parent
N_EACH = 2000
# Small and fast: the recipe (bigrams, softmax) is DCLM's, the sizes are not.
FAST = ["--epoch", "5", "--dim", "16", "--bucket", "100000", "--threads", "1"]

_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
_DET = ["the", "a", "this", "each", "every", "such a"]
_ADJ = ["early", "common", "formal", "modest", "careful", "regional", "gradual", "central", "distinct", "rare"]
_VERB = ["describes", "explains", "shapes", "limits", "supports", "reflects", "depends on", "follows"]
_LINK = ["However,", "In practice,", "For this reason,", "Historically,", "As a result,", "By contrast,"]
_PROSE = [
    "{Det} {w} is {a} {adj} form of {w} that {verb} {det} {w} of {w}.",
    "{Link} {det} {w} {verb} how {det} {adj} {w} develops over {n} years.",
    "Scholars of {w} argue that {det} {w} {verb} {det} {adj} {w}, although the evidence is {adj}.",
    "The study of {w} began in {year}, when {W} described {det} {w} of {W}.",
    "{Link} the {adj} {w} was rarely seen outside {W}, where it {verb} local {w}.",
    "Because {det} {w} {verb} {det} {w}, the two are often studied together.",
    "In {W}, about {n} percent of the {w} {verb} the {adj} {w} described above.",
    "This explains why {det} {w} remains {adj} even when {det} {w} changes.",
]
_SPAM = [
    "Buy {w} {w} cheap | Best {w} deals | {w} {w} {w} sale",
    "Click here to get {w} now!!! Only ${price} Free shipping",
    "Home > {W} > {W} > {w} {w}",
    "Login | Sign up | Cart (0) | {W} | {W} | Contact us",
    "keywords: {w}, {w}, {w}, {w}, {w}, {w} {w}, {w}",
    "{W} {W} {W} - ${price} - ${price} - BUY NOW - {w} {w} discount",
    "Copyright {year} {W}.com All rights reserved | Privacy | Terms",
    "HOT {W} {w} {w} >> click here << limited offer {n}% off",
    "Share on Facebook Tweet Pin it {W} {w} {w} Subscribe",
]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for key, make in (("{Det}", lambda: rng.choice(_DET).capitalize()), ("{det}", lambda: rng.choice(_DET)),
                      ("{a}", lambda: rng.choice(["a", "one"])), ("{adj}", lambda: rng.choice(_ADJ)),
                      ("{verb}", lambda: rng.choice(_VERB)), ("{Link}", lambda: rng.choice(_LINK)),
                      ("{W}", lambda: _word(rng).capitalize()), ("{w}", lambda: _word(rng)),
                      ("{n}", lambda: str(rng.randint(2, 90))), ("{year}", lambda: str(rng.randint(1500, 2020))),
                      ("{price}", lambda: f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}")):
        while key in out:
            out = out.replace(key, make(), 1)
    return out


def prose(rng: random.Random) -> str:
    paragraphs = [" ".join(_fill(rng.choice(_PROSE), rng) for _ in range(rng.randint(2, 5)))
                  for _ in range(rng.randint(1, 4))]
    return "\n\n".join(paragraphs)


def spam(rng: random.Random) -> str:
    return "\n".join(_fill(rng.choice(_SPAM), rng) for _ in range(rng.randint(3, 12)))


def corpus(seed: int, n: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    return [prose(rng) for _ in range(n)], [spam(rng) for _ in range(n)]


def _write_inputs(folder: Path, positives: list[str], negatives: list[str], n_empty: int) -> dict[str, Path]:
    """Positives split over a JSONL and a .jsonl.gz file (with `n_empty` empty or null texts),
    negatives in Parquet: every reader is used."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    half = len(positives) // 2
    files = {"pos": folder / "pos.jsonl", "pos_gz": folder / "pos.jsonl.gz", "neg": folder / "neg.parquet"}
    with open(files["pos"], "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(positives[:half]))
    empties = ([None, "", " \n\n "] * n_empty)[:n_empty]
    with gzip.open(files["pos_gz"], "wt", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t in positives[half:] + empties)
    pq.write_table(pa.table({"text": negatives, "url": ["http://x.example/"] * len(negatives)}), files["neg"])
    return files


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jobs.train_classifier", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The command run once as users run it; tests read its model and must not modify it."""
    folder = tmp_path_factory.mktemp("classifier")
    files = _write_inputs(folder, *corpus(0, N_EACH), n_empty=3)
    model = folder / "models" / "quality.bin"
    out = run_cli("--positive", str(files["pos"]), "--positive", str(files["pos_gz"]),
                  "--negative", str(files["neg"]), "--output", str(model), "--json", *FAST)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), model, files


@pytest.fixture(scope="module")
def clf(trained):
    return QualityClassifier(str(trained[1]), "hq")


def test_the_command_trains_an_accurate_model(trained):
    result, model, _ = trained
    assert model.is_file() and result["model"] == str(model) and result["bytes"] == model.stat().st_size
    assert list(model.parent.iterdir()) == [model]  # the training file went with its temporary folder
    assert result["accuracy"] >= 0.95 and result["precision"] >= 0.95 and result["recall"] >= 0.95
    assert result["examples"] == {"positive": N_EACH, "negative": N_EACH}
    assert result["skipped_empty"] == {"positive": 3, "negative": 0}
    assert result["valid"] == {"positive": N_EACH // 10, "negative": N_EACH // 10}
    assert result["train"]["positive"] + result["valid"]["positive"] == N_EACH
    assert result["labels"] == {"positive": "__label__hq", "negative": "__label__cc"}
    assert result["params"]["word_ngrams"] == 2 and result["params"]["dim"] == 16


def test_positives_score_higher_on_fresh_texts(clf):
    good, bad = corpus(99, 300)
    good_scores, bad_scores = clf.scores(good), clf.scores(bad)
    assert all(0.0 <= s <= 1.0 for s in good_scores + bad_scores)
    assert sum(s > 0.5 for s in good_scores) >= 0.95 * len(good)
    assert sum(s < 0.5 for s in bad_scores) >= 0.95 * len(bad)
    assert sum(good_scores) / len(good) - sum(bad_scores) / len(bad) > 0.8


def test_scores_are_fasttext_probabilities_of_the_label(clf):
    """The batch call gives, text by text, what fastText's one-text predict gives."""
    good, bad = corpus(5, 50)
    texts = good + bad + ["", "x", "Line one.\r\nLine two\u2028three", "__label__hq buy now", "\t"]
    scores = clf.scores(texts)
    expected = []
    for t in texts:
        labels, probs = clf.model.predict(prepare_text(t, 100_000, False), k=-1)
        expected.append(min(float(probs[list(labels).index("__label__hq")]), 1.0))
    assert scores == expected
    cc = QualityClassifier(clf.path, "__label__cc").scores(texts)
    # Two labels of one softmax (fastText adds 1e-5 to each).
    assert all(abs(a + b - 1.0) < 1e-4 for a, b in zip(scores, cc))


def test_awkward_texts_never_raise(clf):
    texts = ["", "\n", "one\ntwo\n\nthree", "a\rb\x0bc\x0cd\x85e\u2028f\u2029g", "lone \ud800 surrogate", None,
             "x" * 300_000]
    scores = clf.scores(texts)
    assert len(scores) == len(texts) and all(0.0 <= s <= 1.0 for s in scores)
    assert scores[0] == scores[1] == scores[5]  # what fastText says of nothing, not an error
    assert scores[4] == clf.scores(["lone ? surrogate"])[0]
    assert clf.scores([]) == []


def test_label_must_be_in_the_model(trained):
    with pytest.raises(ValueError, match="'__label__en' is not one of the model's labels: __label__"):
        QualityClassifier(str(trained[1]), "en")


def test_classifiers_are_loaded_once_per_process(trained):
    path = str(trained[1])
    first = load_classifier(path, "hq", 100_000, False)
    assert load_classifier(path, "hq", 100_000, False) is first
    assert load_classifier(path, "cc", 100_000, False) is not first


def test_prepare_text():
    assert prepare_text("Ab\nCd", 100, lowercase=True) == "ab cd"
    assert prepare_text("Ab\nCd", 3, lowercase=False) == "Ab "
    assert prepare_text("see __label__hq here", 100, lowercase=False).split() == ["see", "hq", "here"]
    # Every character str.splitlines splits on (DCLM's preprocessing) becomes a space.
    breaks = [chr(c) for c in range(0x2100) if len(f"a{chr(c)}b".splitlines()) == 2]
    assert len(breaks) == 10
    assert all(prepare_text(f"a{ch}b", 10, lowercase=False) == "a b" for ch in breaks)


def test_model_labels_equal_fasttext_labels(trained, tmp_path):
    import fasttext

    from filters.models import models_dir

    good, bad = corpus(1, 200)
    ftz = tmp_path / "small.ftz"
    result = train(good, bad, output=str(ftz), positive_label="good", negative_label="spam", dim=8, bucket=1000,
                   epoch=3)
    assert result["quantized"] and ftz.read_bytes()[:4] == (793712314).to_bytes(4, "little")
    models = [trained[1], ftz] + [p for p in [models_dir() / "lid.176.ftz"] if p.is_file()]
    for path in models:
        labels = model_labels(str(path))
        assert labels == fasttext.load_model(str(path)).get_labels()
    assert sorted(model_labels(str(ftz))) == ["__label__good", "__label__spam"]


def test_model_labels_refuses_what_is_not_a_whole_model(trained, tmp_path):
    data = trained[1].read_bytes()
    with pytest.raises(FileNotFoundError):
        model_labels(str(tmp_path / "missing.bin"))
    bad = {"text.bin": b"__label__hq a line of text\n" * 10, "empty.bin": b"",
           "header.bin": data[:40], "dictionary.bin": data[:200], "matrix.bin": data[:len(data) // 2],
           "one-byte-short.bin": data[:-1], "vectors.bin": data[:36] + (1).to_bytes(4, "little") + data[40:]}
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ModelFileError):
            model_labels(str(tmp_path / name))
    # fastText itself would load the truncated file and predict from zeros.
    with pytest.raises(ModelFileError, match="truncated"):
        QualityClassifier(str(tmp_path / "one-byte-short.bin"), "hq")


def test_training_is_reproducible_and_checks_its_input(tmp_path):
    good, bad = corpus(2, 100)
    a = train(good, bad, output=str(tmp_path / "a.bin"), dim=8, bucket=1000, epoch=2)
    b = train(good, bad, output=str(tmp_path / "b.bin"), dim=8, bucket=1000, epoch=2)
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    assert a["accuracy"] == b["accuracy"] >= 0.9
    with pytest.raises(ValueError, match=r"^9 non-empty positive texts \(3 empty skipped\)"):
        train(good[:9] + ["", " ", None], bad, output=str(tmp_path / "c.bin"))
    with pytest.raises(ValueError, match="same"):
        train(good, bad, output=str(tmp_path / "c.bin"), positive_label="cc")
    assert not (tmp_path / "c.bin").exists()


def _one_line_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("earlyfuse: ")
    return lines[0]


def test_the_command_reports_a_missing_file(trained, tmp_path):
    files = trained[2]
    missing = tmp_path / "nope.jsonl"
    line = _one_line_error(run_cli("--positive", str(files["pos"]), "--negative", str(missing),
                                   "--output", str(tmp_path / "m.bin")))
    assert str(missing) in line
    assert not (tmp_path / "m.bin").exists()


@pytest.mark.parametrize("name", ["neg.jsonl", "neg.parquet"])
def test_the_command_reports_a_missing_text_field(trained, tmp_path, name):
    import pyarrow as pa
    import pyarrow.parquet as pq

    wrong = tmp_path / name
    texts = corpus(3, 20)[1]
    if name.endswith(".parquet"):
        pq.write_table(pa.table({"content": texts}), wrong)
    else:
        wrong.write_text("".join(json.dumps({"content": t}) + "\n" for t in texts), encoding="utf-8")
    line = _one_line_error(run_cli("--positive", str(trained[2]["pos"]), "--negative", str(wrong),
                                   "--output", str(tmp_path / "m.bin")))
    assert "'text'" in line and str(wrong) in line
