"""The benchmarks' web-size multimodal corpus (benchmarks/multimodal_corpus.py): one small
block, no Spark."""

from __future__ import annotations

import io
import json
import random
import tarfile

from PIL import Image

from benchmarks import multimodal_corpus as mc


def test_photo_sizes_span_web_photos():
    rng = random.Random(0)
    sizes = [mc.photo_size(rng) for _ in range(2000)]
    mps = sorted(w * h / 1e6 for w, h in sizes)
    assert 0.29 <= mps[0] and mps[-1] <= 6.1
    assert 1.3 < mps[len(mps) // 2] < 1.5  # log-uniform over 0.3..6: median sqrt(1.8) = 1.34
    assert max(max(w, h) for w, h in sizes) < mc._NOISE_SIDE


def test_text_is_english_prose_with_an_open_vocabulary():
    rng = random.Random(1)
    paras = mc.article(rng, 3000)
    words = " ".join(paras).split()
    assert len(words) >= 3000
    assert len(set(words)) / len(words) > 0.15
    assert all(p.endswith(".") for p in paras)
    assert len(set(paras)) == len(paras)


def test_a_block_has_its_documents(tmp_path, monkeypatch):
    for name, value in (("TEXT_PAGES", 3), ("PHOTO_PAGES", 2), ("PAIRS", 3), ("DOCS", 2), ("JUNK_PAGES", 2),
                        ("COPIED_PAGES", 1), ("RESIZED_PAIRS", 1), ("VIDEOS", 1), ("MAX_MP", 0.5)):
        monkeypatch.setattr(mc, name, value)
    info = mc._write_block(tmp_path, 7)
    assert info["pages"] == 3 + 2 + 1 + 2 and info["pairs"] == 4 and info["videos"] == 1
    with tarfile.open(tmp_path / "images" / "pairs-0007.tar") as tar:
        names = tar.getnames()
        images = [n for n in names if n.endswith((".jpg", ".png"))]
        assert len(images) == 4 and len(names) == 12
        for n in images:
            img = Image.open(io.BytesIO(tar.extractfile(n).read()))
            assert img.width * img.height >= 0.8 * 0.8 * 0.29e6
        meta = json.loads(tar.extractfile(images[0].rsplit(".", 1)[0] + ".json").read())
        assert meta["caption"] and meta["status"] == "success"
    docs = (tmp_path / "docs" / "docs-0007.jsonl").read_text().splitlines()
    assert len(docs) == 2 and all(len(json.loads(d)["text"].split()) >= 100 for d in docs)
    assert (tmp_path / "warc" / "crawl-0007.warc.gz").stat().st_size > 10_000
    assert len(list((tmp_path / "video").glob("*.mp4"))) == 1


def test_marginal_cpu_per_document_cancels_fixed_costs():
    from benchmarks.bench_multimodal import _kinds, _marginal

    def side(fixed, per_doc, docs):
        return {"cpu_s": {"JVM": fixed + per_doc * docs / 2, "workers": per_doc * docs / 2}}

    rnd = {n: {"docs": n, "spark": side(20.0, 0.05, n), "plain": {"cpu_s": 5.0 + 0.04 * n}} for n in (2000, 8000)}
    spark = _marginal(rnd, 2000, 8000, lambda s: sum(s["spark"]["cpu_s"].values()))
    plain = _marginal(rnd, 2000, 8000, lambda s: s["plain"]["cpu_s"])
    assert abs(spark - 0.05) < 1e-12 and abs(plain - 0.04) < 1e-12
    assert _kinds(rnd, 2000, 8000) == "JVM 25.0, workers 25.0"
