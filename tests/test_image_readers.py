import io
import json
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import InputConfig
from pipelines.readers.documents import read_parquet
from pipelines.readers.images import read_image_file, read_webdataset_tar
from pipelines.readers.warc import read_warc
from tests.images_util import jpeg
from tests.warcs import warc_record, write_warc


def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def meta(part):
    return dict(part["meta"])


def test_img2dataset_tar_pairs_and_missing_image():
    img = jpeg(64, 48)
    data = tar_bytes([
        ("000000000.jpg", img), ("000000000.txt", b"a red square"),
        ("000000000.json", json.dumps({"url": "http://x/0.jpg", "caption": "ignored"}).encode()),
        ("000000001.png", img), ("000000001.json", json.dumps({"caption": "from json"}).encode()),
        ("000000002.txt", b"caption without image"),
        ("../../etc/evil.jpg", img),
    ])
    recs = list(read_webdataset_tar(io.BytesIO(data), "pairs", "p.tar", 10**6))
    assert [r["status"] for r in recs] == ["keep", "keep", "ingest:missing_image", "keep"]
    a, b = recs[0]["parts"], recs[1]["parts"]
    assert [p["kind"] for p in a] == ["image", "text"]
    assert a[0]["data"] == img and a[1]["text"] == "a red square"
    assert meta(a[1])["role"] == "caption" and recs[0]["uri"] == "http://x/0.jpg"
    assert b[1]["text"] == "from json"
    assert [p["kind"] for p in recs[3]["parts"]] == ["image"]  # uncaptioned, kept as an image


def test_truncated_tar_is_counted():
    data = tar_bytes([("a.jpg", jpeg(64, 48)), ("a.txt", b"cap"), ("b.jpg", jpeg(80, 60))])
    recs = list(read_webdataset_tar(io.BytesIO(data[:1500]), "pairs", "p.tar", 10**6))
    assert recs[-1]["status"] in ("ingest:truncated_tar", "ingest:corrupt_tar")


def test_image_folder_with_sidecars(tmp_path):
    (tmp_path / "cat.jpg").write_bytes(jpeg(64, 48))
    (tmp_path / "cat.txt").write_text("a cat on a mat")
    (tmp_path / "dog.png").write_bytes(jpeg(64, 48))
    (tmp_path / "dog.json").write_text(json.dumps({"caption": "a dog", "url": "http://d/dog.png"}))
    cat = list(read_image_file(str(tmp_path / "cat.jpg"), "folder", "cat.jpg", 10**6))[0]
    dog = list(read_image_file(str(tmp_path / "dog.png"), "folder", "dog.png", 10**6))[0]
    assert cat["parts"][1]["text"] == "a cat on a mat"
    assert dog["parts"][1]["text"] == "a dog" and dog["uri"] == "http://d/dog.png"


def test_parquet_pairs_bytes_and_paths(tmp_path):
    img = jpeg(64, 48)
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(img)
    pq.write_table(pa.table({"image": [img, None], "caption": ["one", "two"]}), tmp_path / "b.parquet")
    pq.write_table(pa.table({"path": ["imgs/a.jpg", "imgs/missing.jpg"], "caption": ["p", "q"]}),
                   tmp_path / "p.parquet")
    inp = InputConfig(name="pq", format="parquet", path="x", text_field="caption", image_field="image")
    with open(tmp_path / "b.parquet", "rb") as f:
        recs = list(read_parquet(f, "pq", "b.parquet", inp, str(tmp_path)))
    assert [r["status"] for r in recs] == ["keep", "ingest:missing_image"]
    assert recs[0]["parts"][0]["data"] == img
    inp = InputConfig(name="pq", format="parquet", path="x", text_field="caption", image_path_field="path")
    with open(tmp_path / "p.parquet", "rb") as f:
        recs = list(read_parquet(f, "pq", "p.parquet", inp, str(tmp_path)))
    assert [r["status"] for r in recs] == ["keep", "ingest:missing_image"]


def test_warc_page_keeps_images_in_place_and_image_responses(tmp_path):
    html = (b"<html><body><article><h1>Harbour</h1>"
            b"<p>The old harbour town wakes early, when the fishing boats come back with the catch.</p>"
            b"<figure><img src='/img/boat.jpg' alt='A blue boat'></figure>"
            b"<p>Visitors who arrive by train walk down the steep main street to reach the water.</p>"
            b"<img src='http://cdn.example/missing.png' alt='gone'>"
            b"<p>Most restaurants close between lunch and dinner, so plan your meals early on.</p>"
            b"</article></body></html>")
    mirror = tmp_path / "mirror" / "cdn.example"
    mirror.mkdir(parents=True)
    (mirror / "missing.png").write_bytes(b"from-the-mirror")
    p = tmp_path / "c.warc.gz"
    write_warc(p, [warc_record("http://a.example/page", html),
                   warc_record("http://a.example/img/boat.jpg", jpeg(64, 48), "image/jpeg")])
    with open(p, "rb") as f:
        page, res = list(read_warc(f, "crawl", "c.warc.gz", 10**6, image_root=str(tmp_path / "mirror")))
    kinds = [q["kind"] for q in page["parts"]]
    assert kinds == ["text", "image", "text", "image", "text"]
    assert meta(page["parts"][1]) == {"src": "http://a.example/img/boat.jpg", "alt": "A blue boat"}
    assert page["parts"][1]["data"] is None           # resolved later against the WARC set
    assert page["parts"][3]["data"] == b"from-the-mirror"  # found in the mirror folder
    assert "fishing boats" in page["parts"][0]["text"]
    assert res["status"] == "ingest:image_resource" and res["uri"] == "http://a.example/img/boat.jpg"
