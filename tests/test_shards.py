import hashlib
import tarfile

import numpy as np
import webdataset as wds

from pipelines.shards import ShardWriter, npy_bytes, safe_key, sample_json


def write(tmp, name="t", n=7, max_samples=3):
    w = ShardWriter(str(tmp), name, 2, max_samples=max_samples, max_bytes=1 << 30)
    for i in range(n):
        ids = np.arange(i + 2, dtype=np.uint32)
        w.write(f"doc{i:03d}", {"tokens.npy": npy_bytes(ids), "json": sample_json({"i": i})}, tokens=len(ids))
    return w.close()


def test_rolls_and_names(tmp_path):
    infos = write(tmp_path)
    assert [i.name for i in infos] == ["t-00002-0000.tar", "t-00002-0001.tar", "t-00002-0002.tar"]
    assert [i.samples for i in infos] == [3, 3, 1]
    for i in infos:
        data = (tmp_path / i.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == i.sha256 and len(data) == i.bytes
    assert not list(tmp_path.glob("*.tmp-*"))


def test_deterministic_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert [i.sha256 for i in write(a)] == [i.sha256 for i in write(b)]


def test_headers_carry_no_time_or_owner(tmp_path):
    infos = write(tmp_path, n=1)
    with tarfile.open(tmp_path / infos[0].name) as tar:
        for m in tar.getmembers():
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")


def test_webdataset_reads_shards(tmp_path):
    infos = write(tmp_path)
    urls = [str(tmp_path / i.name) for i in infos]
    samples = list(wds.WebDataset(urls, shardshuffle=False).decode())
    assert [s["__key__"] for s in samples] == [f"doc{i:03d}" for i in range(7)]
    assert samples[4]["tokens.npy"].dtype == np.uint32
    assert list(samples[4]["tokens.npy"]) == list(range(6))
    assert samples[4]["json"] == {"i": 4}


def test_safe_key():
    assert safe_key("../etc/passwd") == "___etc_passwd"
    assert safe_key("a.b/c") == "a_b_c"
    assert "." not in safe_key("x.tar.gz")


def test_abort_leaves_no_partial_shard(tmp_path):
    w = ShardWriter(str(tmp_path), "t", 0, max_samples=10, max_bytes=1 << 30)
    w.write("k", {"json": b"{}"})
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_our_tar_bytes_equal_tarfiles(tmp_path):
    """The hand-built USTAR headers and padding match the standard library's writer exactly."""
    import io

    files = [("k1.json", b'{"a":1}'), ("k1.tokens.npy", bytes(range(256)) * 3), ("k2.json", b"")]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode, ti.uid, ti.gid, ti.uname, ti.gname = len(data), 0, 0o644, 0, 0, "", ""
            tar.addfile(ti, io.BytesIO(data))
    w = ShardWriter(str(tmp_path), "t", 0, max_samples=10, max_bytes=1 << 30)
    w.write("k1", {"json": files[0][1], "tokens.npy": files[1][1]})
    w.write("k2", {"json": b""})
    (info,) = w.close()
    assert (tmp_path / info.name).read_bytes() == buf.getvalue()


def test_auto_partitions_full_shards_but_not_tiny_tasks():
    from pipelines.stages.shard import MIN_PARTITION_DOCS, auto_partitions

    assert auto_partitions(25_000, 10_000, 0) == 3           # a full shard per partition
    assert auto_partitions(2_346, 32, 0) == 10               # 256 documents a partition, not 74 of 32
    assert auto_partitions(MIN_PARTITION_DOCS, 32, 0) == 1
    assert auto_partitions(0, 32, 0) == 1
    assert auto_partitions(10**12, 10_000, 0) == 4096         # capped
    assert auto_partitions(2_346, 32, 7) == 7                # configured wins
