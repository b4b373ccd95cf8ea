"""Images through the whole pipeline on Spark: resolution, decoding, filters, tiles in shards."""

import io
import json
import tarfile

import numpy as np
import pytest
import webdataset as wds
from PIL import Image

from pipelines.config import parse_config
from pipelines.run import run_pipeline
from tests.images_util import bad_images, jpeg, odd_but_fine_images
from tests.warcs import warc_record, write_warc

pytestmark = pytest.mark.spark

PAGE = (b"<html><body><article><h1>A walk along the harbour</h1>"
        b"<p>The old harbour town wakes early, when the fishing boats come back with the night's catch "
        b"and the market stalls open along the quay for the first customers of the day.</p>"
        b"<img src='/img/boat.jpg' alt='A blue boat'>"
        b"<p>Visitors who arrive by train walk down the steep main street, past bakeries and small "
        b"bookshops, to reach the water before the morning light turns the sea from grey to blue.</p>"
        b"<img src='http://cdn.example/nowhere.png' alt='gone'>"
        b"<p>In the afternoon the wind rises and the sailing school takes its pupils out beyond the "
        b"breakwater, where the waves are higher and the instructors shout advice from a motor boat.</p>"
        b"<p>Most of the restaurants close between lunch and dinner, so anyone hungry at four o'clock "
        b"has to make do with an ice cream from the kiosk next to the lifeboat station. The kiosk "
        b"also sells postcards, maps of the coastal path and tickets for the evening ferry.</p>"
        b"</article></body></html>")


def tar_of(samples):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for key, files in samples:
            for ext, data in files.items():
                ti = tarfile.TarInfo(f"{key}.{ext}")
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def image_run(spark, tmp_path_factory):
    d = tmp_path_factory.mktemp("img-inputs")
    boat = jpeg(800, 600, seed=7)
    write_warc(d / "c.warc.gz", [warc_record("http://a.example/walk", PAGE),
                                 warc_record("http://a.example/img/boat.jpg", boat, "image/jpeg")])
    samples = [(f"bad_{name}", {"jpg": data, "txt": f"a picture that is {name}".encode()})
               for name, data in bad_images().items()]
    samples += [(f"odd_{name}", {"jpg": data, "txt": f"an unusual {name} picture".encode()})
                for name, data in odd_but_fine_images().items()]
    samples += [("good_big", {"jpg": jpeg(1920, 1080, seed=1), "txt": b"a wide landscape photograph"}),
                ("good_small", {"jpg": jpeg(50, 50, seed=2), "txt": b"a tiny icon"})]
    (d / "pairs.tar").write_bytes(tar_of(samples))
    out = tmp_path_factory.mktemp("img-out")
    cfg = parse_config({
        "run": {"name": "img", "output": str(out), "progress": False},
        "inputs": [{"name": "crawl", "format": "warc", "path": str(d / "*.warc.gz")},
                   {"name": "pairs", "format": "webdataset", "path": str(d / "pairs.tar")}],
        "shards": {"max_samples": 100},
    })
    result = run_pipeline(cfg, spark)
    return result, out, boat


def samples_of(out):
    m = json.loads((out / "manifest.json").read_text())
    urls = [str(out / "shards" / s["name"]) for s in m["shards"]]
    return {s["json"]["uri"]: s for s in wds.WebDataset(urls, shardshuffle=False).decode()}, m


def test_every_bad_image_has_its_own_reason(image_run, spark):
    _, out, _ = image_run
    rejected = {r["uri"].rsplit("#", 1)[-1]: r["status"] for r in spark.read.parquet(str(out / "rejected")).collect()}
    for reason in bad_images():
        assert rejected[f"bad_{reason}"] == f"images:{reason}", (reason, rejected)
    assert not any(k.startswith("odd_") for k in rejected), rejected


def test_interleaved_page_tiles_and_layout(image_run):
    from tokenization import load_tokenizer
    from vision_prep.tiling import plan, reassemble, tile_image

    result, out, boat = image_run
    samples, manifest = samples_of(out)
    page = samples["http://a.example/walk"]
    meta, ids, tiles = page["json"], page["tokens.npy"], page["tiles.npy"]
    assert len(meta["images"]) == 1                       # the unresolved one is dropped, counted
    im = meta["images"][0]
    assert (im["width"], im["height"], im["src"]) == (800, 600, "http://a.example/img/boat.jpg")
    p = plan(600, 800)
    assert im["grid"] == [p.rows, p.cols] == [2, 3] and im["n_tiles"] == p.n_tiles == 7
    assert tiles.shape == (7, 3, 336, 336) and tiles.dtype == np.uint8
    tok = load_tokenizer(manifest["tokenizer"]["spec"])
    s = tok.special_ids
    off = im["token_offset"]
    assert ids[off] == s["<|image_start|>"] and ids[off + im["n_tokens"] - 1] == s["<|image_end|>"]
    assert im["n_tokens"] == 144 * 7 + 6 + 3
    text = tok.decode(ids[1:off])
    assert "fishing boats" in text and "bookshops" not in text
    assert "bookshops" in tok.decode(ids[off + im["n_tokens"]:-1])
    expected, _ = tile_image(Image.open(io.BytesIO(boat)).convert("RGB"))
    assert np.array_equal(tiles, expected)
    rebuilt = reassemble(tiles, p)
    direct = np.asarray(Image.open(io.BytesIO(boat)).convert("RGB")
                        .resize((p.resized_width, p.resized_height), Image.BILINEAR))
    assert rebuilt.shape == direct.shape == (600, 800, 3)
    assert np.abs(rebuilt.astype(int) - direct.astype(int)).max() <= 1
    report = json.loads((out / "report" / "stages.json").read_text())
    assert report["part_drops"] == {"unresolved": 1}


def test_pairs_and_converted_images_in_shards(image_run):
    result, out, _ = image_run
    samples, manifest = samples_of(out)
    big = [s for u, s in samples.items() if u.endswith("#good_big")][0]
    assert big["json"]["images"][0]["grid"] == [3, 5] and big["tiles.npy"].shape[0] == 16
    from tokenization import load_tokenizer

    tok = load_tokenizer(manifest["tokenizer"]["spec"])
    caption = tok.encode("a wide landscape photograph")
    assert big["json"]["images"][0]["n_tokens"] == 2322
    assert list(big["tokens.npy"][2323:-1]) == caption     # image first, then its caption
    assert len(big["tokens.npy"]) == 1 + 2322 + len(caption) + 1
    odd = [s for u, s in samples.items() if "#odd_" in u]
    assert len(odd) == len(odd_but_fine_images())
    totals = manifest["totals"]
    assert totals["images"] == sum(len(s["json"]["images"]) for s in samples.values())
    assert totals["tiles"] == sum(s["tiles.npy"].shape[0] for s in samples.values() if "tiles.npy" in s)
    assert manifest["vision"]["mode"] == "exact"
