"""storage.py: local paths as before, S3 through moto's HTTP server and a fault-injecting proxy."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipelines.io import options, s3, s3_objects, storage
from pipelines.io.storage import InputNotFound, StorageError, StorageOptions
from tests.s3_util import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, Fault, FaultyProxy, moto_server

MiB = 1024 * 1024
MANY = 1100  # past ListObjectsV2's 1000-key page


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def opts(endpoint) -> StorageOptions:
    return StorageOptions(endpoint_url=endpoint, part_size=5 * MiB)


def new_bucket(opts: StorageOptions) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3.client(opts).create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(opts) -> str:
    return new_bucket(opts)


@pytest.fixture(scope="module")
def many_bucket(endpoint) -> str:
    """MANY tiny keys under many/, a few under many/sub/, plus clutter that must be skipped."""
    o = StorageOptions(endpoint_url=endpoint)
    name = new_bucket(o)
    c = s3.client(o)
    keys = [f"many/{i:05d}.txt" for i in range(MANY)]
    keys += [f"many/sub/{i}.txt" for i in range(3)]
    keys += ["many/.hidden", "many/sub/", "many/.git/config", "other/x.txt"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: c.put_object(Bucket=name, Key=k, Body=k.encode()), keys))
    return name


def pending_uploads(opts: StorageOptions, bucket: str) -> list:
    return s3.client(opts).list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def proxied(proxy: FaultyProxy, **kw) -> StorageOptions:
    return StorageOptions(endpoint_url=proxy.url, part_size=5 * MiB, **kw)


# ---------------------------------------------------------------- local paths

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    for rel in ("a.jsonl", "sub/b.jsonl", "sub/c.txt", ".hidden.jsonl"):
        (root / rel).write_text(rel)
    return root


def test_local_listing_unchanged(tree: Path):
    rels = [r for _, r in storage.list_files(str(tree))]
    assert rels == ["a.jsonl", "sub/b.jsonl", "sub/c.txt"]
    assert all(os.path.isabs(p) for p, _ in storage.list_files(str(tree)))
    assert [r for _, r in storage.list_files(str(tree / "*.jsonl"))] == ["a.jsonl"]
    assert [r for _, r in storage.list_files(str(tree / "**/*.jsonl"))] == ["a.jsonl", "sub/b.jsonl"]
    assert storage.list_files(str(tree / "sub/b.jsonl")) == [(str(tree / "sub/b.jsonl"), "b.jsonl")]


def test_local_missing_inputs(tmp_path: Path):
    with pytest.raises(InputNotFound, match="no such file or folder"):
        storage.list_files(str(tmp_path / "nope"))
    with pytest.raises(InputNotFound, match="matches no files"):
        storage.list_files(str(tmp_path / "nope/*.jsonl"))
    assert issubclass(InputNotFound, FileNotFoundError)


def test_local_write_is_atomic(tmp_path: Path):
    target = tmp_path / "out" / "x.bin"
    with storage.open_write(str(target)) as w:
        w.write(b"abc")
        assert not target.exists()  # only the temporary exists until close
    assert target.read_bytes() == b"abc"

    w = storage.open_write(str(tmp_path / "out" / "y.bin"))
    w.write(b"zzz")
    w.abort()
    with pytest.raises(RuntimeError):
        with storage.open_write(str(tmp_path / "out" / "z.bin")) as w:
            w.write(b"zzz")
            raise RuntimeError("boom")
    assert sorted(os.listdir(tmp_path / "out")) == ["x.bin"]  # no temporaries left behind


def test_local_helpers(tmp_path: Path, tree: Path):
    f = str(tmp_path / "f.bin")
    storage.write_bytes(f, b"12345")
    assert storage.read_bytes(f) == b"12345" and storage.size(f) == 5 and storage.exists(f)
    out = str(tmp_path / "copy")
    storage.upload_dir(str(tree), out)
    assert storage.listdir_names(out) == [".hidden.jsonl", "a.jsonl", "sub"]
    storage.download(storage.join(out, "sub", "b.jsonl"), str(tmp_path / "dl" / "b"))
    assert (tmp_path / "dl" / "b").read_text() == "sub/b.jsonl"
    storage.delete_prefix(out)
    storage.delete_prefix(out)  # missing is fine
    assert not storage.exists(out) and storage.listdir_names(out) == []


def test_join_is_s3_and_options():
    assert storage.join("s3://b/p/", "/x/", "y.parquet") == "s3://b/p/x/y.parquet"
    assert storage.join("s3://b", "k") == "s3://b/k"
    assert storage.join("/tmp/a", "b") == "/tmp/a/b"
    assert storage.is_s3("s3://b/k") and not storage.is_s3("/s3/x")
    o = StorageOptions(endpoint_url="http://h:1", region="r", profile="p", max_attempts=3)
    assert pickle.loads(pickle.dumps(o)) == o and hash(o) == hash(pickle.loads(pickle.dumps(o)))
    with pytest.raises(ValueError):
        StorageOptions(part_size=MiB)


def test_parent_resolve_and_default_options(monkeypatch):
    assert storage.parent("s3://b/d/x.parquet") == "s3://b/d" and storage.parent("s3://b/x") == "s3://b"
    assert storage.parent("/data/x.parquet") == "/data"
    assert storage.resolve("s3://b/d/e", "../img/x.jpg") == "s3://b/d/img/x.jpg"
    assert storage.resolve("s3://b/d", "../../../x") == "s3://b/x"  # never above the bucket
    assert storage.resolve("s3://b/d", "s3://c/y") == "s3://c/y"
    assert storage.resolve("/data/d", "../i/x.jpg") == "/data/i/x.jpg"
    assert storage.resolve("/data/d", "/abs/x.jpg") == "/abs/x.jpg"
    o = StorageOptions(endpoint_url="http://h:1")
    monkeypatch.setattr(options, "_default_options", None)
    storage.set_default_options(o)
    assert storage.resolve_options(None) is o


def test_options_from_env(monkeypatch):
    monkeypatch.setenv("EARLYFUSE_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_PROFILE", "lab")
    assert StorageOptions.from_env() == StorageOptions(
        endpoint_url="http://minio:9000", region="eu-west-1", profile="lab")


# ---------------------------------------------------------------- S3 listing

def test_s3_listing_paginates(endpoint, many_bucket):
    with FaultyProxy(endpoint) as proxy:  # no faults: only counts requests
        o = proxied(proxy)
        found = storage.list_files(f"s3://{many_bucket}/many", o)
        assert proxy.requests["list"] >= 2  # more than one page
    rels = [r for _, r in found]
    # As for a local folder walk: hidden names and folder markers are skipped, but files
    # inside hidden folders are not.
    assert len(rels) == MANY + 4
    assert rels[:2] == [".git/config", "00000.txt"] and rels[-1] == "sub/2.txt"
    assert found[1][0] == f"s3://{many_bucket}/many/00000.txt"
    assert storage.list_files(f"s3://{many_bucket}/many/", o) == found


def test_s3_listing_globs(opts, many_bucket):
    b = many_bucket
    top = storage.list_files(f"s3://{b}/many/*.txt", opts)
    assert len(top) == MANY and top[5][1] == "00005.txt"
    deep = storage.list_files(f"s3://{b}/**/*.txt", opts)
    assert len(deep) == MANY + 4 and deep[-1][1] == "other/x.txt"
    assert [r for _, r in storage.list_files(f"s3://{b}/many/sub/?.txt", opts)] == ["0.txt", "1.txt", "2.txt"]
    assert [r for _, r in storage.list_files(f"s3://{b}/many/000[12]?.txt", opts)] == \
        [f"{i:05d}.txt" for i in range(10, 30)]
    assert [r for _, r in storage.list_files(f"s3://{b}/many/**/1.txt", opts)] == ["sub/1.txt"]
    assert [r for _, r in storage.list_files(f"s3://{b}/m*/sub/0.txt", opts)] == ["many/sub/0.txt"]


def test_s3_listing_single_object_and_missing(opts, bucket):
    storage.write_bytes(f"s3://{bucket}/d/x.warc.gz", b"x", opts)
    storage.write_bytes(f"s3://{bucket}/d/.skip", b"x", opts)
    storage.write_bytes(f"s3://{bucket}/d10/y", b"x", opts)
    assert storage.list_files(f"s3://{bucket}/d/x.warc.gz", opts) == [(f"s3://{bucket}/d/x.warc.gz", "x.warc.gz")]
    assert [r for _, r in storage.list_files(f"s3://{bucket}/d", opts)] == ["x.warc.gz"]  # not d10/
    with pytest.raises(InputNotFound, match="no such file or folder"):
        storage.list_files(f"s3://{bucket}/nope", opts)
    with pytest.raises(InputNotFound, match="matches no files"):
        storage.list_files(f"s3://{bucket}/d/*.jsonl", opts)
    with pytest.raises(InputNotFound, match="matches no files"):
        storage.list_files(f"s3://{bucket}/d/.skip", opts)
    with pytest.raises(InputNotFound, match="no such bucket"):
        storage.list_files("s3://no-such-bucket-here/x", opts)


# ---------------------------------------------------------------- S3 reads

def test_s3_seekable_ranged_reads(opts, bucket):
    data = os.urandom(5 * MiB + 123)
    uri = f"s3://{bucket}/blob"
    storage.write_bytes(uri, data, opts)
    assert storage.size(uri, opts) == len(data)
    with storage.open_read(uri, opts) as f:
        assert f.seekable() and f.read(10) == data[:10] and f.tell() == 10
        f.seek(4 * MiB + 7)
        assert f.read(100) == data[4 * MiB + 7:4 * MiB + 107]
        f.seek(-50, io.SEEK_END)
        assert f.read() == data[-50:] and f.read(1) == b""
        f.seek(1000)
        f.seek(500, io.SEEK_CUR)
        assert f.tell() == 1500 and f.read(5 * MiB) == data[1500:1500 + 5 * MiB]
        f.seek(len(data) + 10)
        assert f.read(4) == b""
    assert storage.read_bytes(uri, opts) == data


def test_s3_gzip_through_reader(opts, bucket):
    lines = b"".join(b"line %d %s\n" % (i, os.urandom(8).hex().encode()) for i in range(60_000))
    # Two members, as WARC files are: GzipFile must walk across the member boundary.
    blob = gzip.compress(lines[:1000]) + gzip.compress(lines[1000:])
    uri = f"s3://{bucket}/x.warc.gz"
    storage.write_bytes(uri, blob, opts)
    with storage.open_read(uri, opts) as raw, gzip.GzipFile(fileobj=raw) as gz:
        assert gz.read() == lines


def test_s3_object_replaced_mid_read_fails(opts, bucket):
    uri = f"s3://{bucket}/v"
    storage.write_bytes(uri, b"a" * (6 * MiB), opts)
    with storage.open_read(uri, opts) as f:
        f.read(10)
        storage.write_bytes(uri, b"b" * (6 * MiB), opts)
        with pytest.raises(StorageError, match="changed while being read"):
            f.read()


def test_s3_missing_object(opts, bucket):
    with pytest.raises(FileNotFoundError, match="no such object"):
        storage.open_read(f"s3://{bucket}/nope", opts)
    with pytest.raises(FileNotFoundError):
        storage.size(f"s3://{bucket}/nope", opts)
    assert not storage.exists(f"s3://{bucket}/nope", opts)


# ---------------------------------------------------------------- S3 writes

def test_s3_multipart_write(opts, bucket):
    data = os.urandom(12 * MiB + 321)
    uri = f"s3://{bucket}/big.bin"
    with storage.open_write(uri, opts) as w:
        for i in range(0, len(data), 700_001):  # writes that straddle part boundaries
            w.write(data[i:i + 700_001])
            if i > 6 * MiB:
                assert not storage.exists(uri, opts)  # parts are up, the object is not
        assert w.tell() == len(data)
    head = s3.client(opts).head_object(Bucket=bucket, Key="big.bin")
    parts = [hashlib.md5(data[i:i + 5 * MiB]).hexdigest() for i in range(0, len(data), 5 * MiB)]
    assert len(parts) == 3  # 5 + 5 + 2 MiB
    # The composite ETag the lost-complete check relies on matches the server's.
    assert head["ETag"].strip('"') == s3_objects.multipart_etag(parts)
    assert storage.read_bytes(uri, opts) == data
    assert pending_uploads(opts, bucket) == []


def test_s3_writer_under_gzip(opts, bucket):
    uri = f"s3://{bucket}/w.gz"
    payload = os.urandom(1000) * 50
    with storage.open_write(uri, opts) as w, gzip.GzipFile(fileobj=w, mode="wb") as gz:
        gz.write(payload)
    assert gzip.decompress(storage.read_bytes(uri, opts)) == payload


def test_s3_small_write_is_one_put(endpoint, opts, bucket):
    with FaultyProxy(endpoint) as proxy:
        storage.write_bytes(f"s3://{bucket}/small", b"tiny", proxied(proxy))
    assert proxy.requests["put"] == 1 and proxy.requests["create_mpu"] == 0
    assert storage.read_bytes(f"s3://{bucket}/small", opts) == b"tiny"


def test_s3_abort_leaves_nothing(opts, bucket):
    uri = f"s3://{bucket}/aborted"
    w = storage.open_write(uri, opts)
    w.write(os.urandom(6 * MiB))  # one part uploaded
    assert len(pending_uploads(opts, bucket)) == 1
    w.abort()
    assert not storage.exists(uri, opts)
    assert pending_uploads(opts, bucket) == []


def test_s3_exception_in_with_block_aborts(opts, bucket):
    uri = f"s3://{bucket}/failed"
    with pytest.raises(RuntimeError, match="boom"):
        with storage.open_write(uri, opts) as w:
            w.write(os.urandom(11 * MiB))
            raise RuntimeError("boom")
    with pytest.raises(ZeroDivisionError):
        with storage.open_write(f"s3://{bucket}/failed-small", opts) as w:
            w.write(b"x")
            raise ZeroDivisionError
    assert storage.listdir_names(f"s3://{bucket}", opts) == []
    assert pending_uploads(opts, bucket) == []


def test_s3_folders_upload_download_delete(opts, bucket, tree, tmp_path):
    base = f"s3://{bucket}/out/run1"
    storage.upload_dir(str(tree), base, opts)
    storage.write_bytes(f"s3://{bucket}/out/run10/keep", b"k", opts)
    assert storage.listdir_names(base, opts) == [".hidden.jsonl", "a.jsonl", "sub"]
    assert storage.listdir_names(f"s3://{bucket}/out/", opts) == ["run1", "run10"]
    assert storage.listdir_names(f"s3://{bucket}/nothing", opts) == []
    assert storage.exists(f"{base}/sub/c.txt", opts)
    assert not storage.exists(base, opts)  # a prefix is not an object
    storage.download(f"{base}/sub/c.txt", str(tmp_path / "dl" / "c.txt"), opts)
    assert (tmp_path / "dl" / "c.txt").read_text() == "sub/c.txt"
    storage.delete_prefix(base, opts)
    assert storage.listdir_names(base, opts) == []
    assert storage.listdir_names(f"s3://{bucket}/out", opts) == ["run10"]  # the neighbour stays
    with pytest.raises(ValueError, match="whole bucket"):
        storage.delete_prefix(f"s3://{bucket}/", opts)


def test_s3_delete_prefix_batches(endpoint, bucket, monkeypatch):
    # Small batches stand in for DeleteObjects' 1000-key limit (1000+ puts to moto are slow).
    monkeypatch.setattr(s3_objects, "DELETE_BATCH", 40)
    c = s3.client(StorageOptions(endpoint_url=endpoint))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: c.put_object(Bucket=bucket, Key=f"p/{i}", Body=b""), range(101)))
    with FaultyProxy(endpoint) as proxy:
        storage.delete_prefix(f"s3://{bucket}/p", proxied(proxy))
    assert proxy.requests["delete_objects"] == 3
    assert c.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


# ---------------------------------------------------------------- through the faulty proxy

def test_faulty_listing(endpoint, many_bucket):
    faults = [Fault("drop", kinds=("list",), first=1),   # first page cut mid-body
              Fault("500", kinds=("list",), first=1),
              Fault("503", kinds=("list",), every=2)]
    with FaultyProxy(endpoint, faults) as proxy:
        found = storage.list_files(f"s3://{many_bucket}/many", proxied(proxy))
    assert len(found) == MANY + 4
    assert proxy.injected[("list", "drop")] == 1 and proxy.injected[("list", "500")] == 1
    assert proxy.injected[("list", "503")] >= 1


def test_faulty_reads(endpoint, opts, bucket):
    data = os.urandom(9 * MiB + 5)
    uri = f"s3://{bucket}/flaky"
    storage.write_bytes(uri, data, opts)
    faults = [Fault("drop", kinds=("get",), first=3),   # three bodies cut in half, in a row
              Fault("500", kinds=("get",), every=3),
              Fault("503", kinds=("head",), first=1)]
    with FaultyProxy(endpoint, faults) as proxy:
        o = proxied(proxy)
        assert storage.read_bytes(uri, o) == data
        with storage.open_read(uri, o) as f:  # buffered, ranged reads survive too
            f.seek(3 * MiB)
            assert f.read(5 * MiB) == data[3 * MiB:8 * MiB]
        storage.download(uri, str(Path(os.environ.get("TMPDIR", "/tmp")) / f"{bucket}.bin"), o)
    assert proxy.injected[("get", "drop")] == 3
    assert proxy.injected[("get", "500")] >= 1 and proxy.injected[("head", "503")] == 1
    os.unlink(Path(os.environ.get("TMPDIR", "/tmp")) / f"{bucket}.bin")


def test_faulty_multipart_write(endpoint, opts, bucket):
    data = os.urandom(12 * MiB + 1)
    faults = [Fault("500", kinds=("create_mpu",), first=1),
              Fault("drop", kinds=("upload_part",), first=1),   # part stored, answer lost
              Fault("500", kinds=("upload_part",), every=2),
              Fault("drop", kinds=("complete_mpu",), first=1),  # completed, answer lost...
              Fault("no_such_upload", kinds=("complete_mpu",), first=1),  # ...so the retry finds none
              Fault("503", kinds=("put",), first=1)]
    with FaultyProxy(endpoint, faults) as proxy:
        o = proxied(proxy)
        storage.write_bytes(f"s3://{bucket}/mp", data, o)
        storage.write_bytes(f"s3://{bucket}/small", b"s", o)
    assert storage.read_bytes(f"s3://{bucket}/mp", opts) == data
    assert storage.read_bytes(f"s3://{bucket}/small", opts) == b"s"
    assert pending_uploads(opts, bucket) == []
    for kind, action in [("create_mpu", "500"), ("upload_part", "drop"), ("upload_part", "500"),
                         ("complete_mpu", "drop"), ("complete_mpu", "no_such_upload"),
                         ("put", "503")]:
        assert proxy.injected[(kind, action)] >= 1, (kind, action)


def test_persistent_failure_gives_up(endpoint, bucket):
    with FaultyProxy(endpoint, [Fault("500", first=10_000)]) as proxy:
        with pytest.raises(StorageError, match=r"head failed: .*\(HTTP 500\)") as err:
            storage.read_bytes(f"s3://{bucket}/x", proxied(proxy, max_attempts=2))
    assert err.value.status == 500
    assert proxy.total_injected() >= 2


def _leaks(exc: BaseException) -> list[str]:
    text = "".join(traceback.format_exception(exc)) + repr(exc)
    return [s for s in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN) if s in text]


def test_credentials_never_in_errors(endpoint, bucket):
    with FaultyProxy(endpoint, [Fault("echo_auth", first=10_000)]) as proxy:
        o = proxied(proxy, max_attempts=1)
        calls = [lambda: storage.list_files(f"s3://{bucket}/x", o),
                 lambda: storage.write_bytes(f"s3://{bucket}/x", b"x", o),
                 lambda: storage.delete_prefix(f"s3://{bucket}/x", o)]
        for call in calls:
            with pytest.raises(StorageError, match="AccessDenied") as err:
                call()
            assert "Credential=***" in str(err.value)  # the server did echo it; we scrubbed it
            assert _leaks(err.value) == []
    dead = StorageOptions(endpoint_url="http://127.0.0.1:9", max_attempts=1)  # nothing listens
    with pytest.raises(StorageError) as err:
        storage.read_bytes(f"s3://{bucket}/x", dead)
    assert _leaks(err.value) == []
