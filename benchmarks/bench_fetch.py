"""Fetching images by URL: the fetch stage on Spark local[2] against img2dataset on the same
URL list with the same requests in flight, and against a sequential loop of the same client.

Server: benchmarks/fetch_server.py on 127.0.0.1, which adds 50 ms to every response (a
network's latency) and serves a 256x256 photo-like JPEG for each of 2,000 URLs.

  ours       the `fetch_images` stage over 2,000 URL-caption pairs in 2 partitions on Spark
             local[2] (`fetch.concurrency = 32` per task: 64 in flight; robots.txt checked,
             as by default; no cache), from a started session, the stage forced with a
             `noop` write;
  img2dataset  `img2dataset.download` on the same URLs as a Parquet url list, 2 processes x
             32 threads (64 in flight), `resize_mode="no"`, webdataset output, no hashing,
             run in its own virtualenv (its webdataset pin clashes with ours): `make bench`
             makes `.venv-img2dataset`, or set EARLYFUSE_IMG2DATASET_PYTHON; timed inside that
             process after a warm-up download, as its users would run a second call;
  sequential the same client (urllib3) fetching 200 of the URLs one after another.
Rates are images per second; both parallel sides warm up first and run interleaved,
`RUNS` times each.

    python -m benchmarks.bench_fetch
"""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.timing import rate, ratio_row

TARGET = 1.0
SEQUENTIAL_TARGET = 20.0
N_URLS = 2000
IN_FLIGHT_PER_TASK = 32
LATENCY = 0.05
RUNS = 3
ROOT = Path(__file__).resolve().parent.parent

_I2D_SCRIPT = r"""
import json, sys, time, tempfile, warnings
warnings.simplefilter("ignore")
from img2dataset import download

def run(parquet, out):
    download(url_list=parquet, input_format="parquet", url_col="url", caption_col="caption",
             output_format="webdataset", output_folder=out, processes_count=2, thread_count=32,
             resize_mode="no", compute_hash=None, enable_wandb=False, retries=0, timeout=10,
             number_sample_per_shard=10000, subjob_size=1000)

warm, main = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as d:
    run(warm, d + "/warm")
    times = []
    for i in range(int(sys.argv[3])):
        t = time.perf_counter()
        run(main, f"{d}/main{i}")
        times.append(time.perf_counter() - t)
    ok = sum(json.load(open(f)).get("successes", 0) for f in __import__("glob").glob(f"{d}/main0/*_stats.json"))
print(json.dumps({"times": times, "ok": ok}))
"""


def _photo_jpeg() -> bytes:
    from PIL import Image

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((256, 256), Image.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _img2dataset_python() -> str | None:
    exe = os.environ.get("EARLYFUSE_IMG2DATASET_PYTHON") or str(ROOT / ".venv-img2dataset" / "bin" / "python")
    return exe if Path(exe).exists() else None


def _url_table(urls: list[str], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"url": urls, "caption": [f"picture {i}" for i in range(len(urls))]}), path)


def _ours(spark, urls: list[str]):
    import pyarrow as pa

    from pipelines.config import FetchConfig
    from pipelines.context import RunContext
    from pipelines.schema import RECORD_ARROW, caption_part, image_part, record
    from pipelines.stages.fetch_images import FetchImages

    cfg = FetchConfig(enabled=True, concurrency=IN_FLIGHT_PER_TASK, per_host=IN_FLIGHT_PER_TASK,
                      allow_networks=["127.0.0.1/32"], cache=False, retries=0)
    rows = [record(f"{i:06d}", "bench", u, [image_part(None, src=u), caption_part(f"picture {i}")])
            for i, u in enumerate(urls)]
    df = spark.createDataFrame(pa.Table.from_pylist(rows, schema=RECORD_ARROW)).repartition(2).cache()
    df.count()
    stage = FetchImages(cfg)

    def call() -> None:
        stage.apply(df, RunContext(spark)).write.format("noop").mode("overwrite").save()

    return call


@functools.lru_cache(maxsize=1)
def measure() -> dict:
    from benchmarks.fetch_server import FetchServer
    from pipelines.spark import get_session

    i2d = _img2dataset_python()
    spark = get_session(master="local[2]", app_name="earlyfuse-bench-fetch")
    with FetchServer(delay=LATENCY, image=_photo_jpeg()) as server, tempfile.TemporaryDirectory() as tmp:
        def urls(tag: str, n: int) -> list[str]:
            return [server.url(f"/img/{tag}-{i}.jpg") for i in range(n)]

        warm_urls, main_urls = urls("warm", 200), urls("main", N_URLS)
        _url_table(warm_urls, Path(tmp) / "warm.parquet")
        _url_table(main_urls, Path(tmp) / "main.parquet")
        ours_call = _ours(spark, main_urls)
        _ours(spark, warm_urls)()  # JVM, Python workers, the fetcher's code paths
        ours_t, base_t, i2d_ok = [], [], None
        for _ in range(RUNS):  # interleaved; img2dataset's runs come from one process
            hits = server.hits.copy()
            t = time.perf_counter()
            ours_call()
            ours_t.append(time.perf_counter() - t)
            got = sum(server.hits[f"/img/main-{i}.jpg"] - hits[f"/img/main-{i}.jpg"] for i in range(N_URLS))
            assert got == N_URLS, got
            if i2d:
                proc = subprocess.run([i2d, "-c", _I2D_SCRIPT, str(Path(tmp) / "warm.parquet"),
                                       str(Path(tmp) / "main.parquet"), "1"],
                                      capture_output=True, text=True, check=True)
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                base_t += res["times"]
                i2d_ok = res["ok"]
        seq_n = 200
        seq_t = _sequential(urls("seq", seq_n))
    return {"ours": ours_t, "i2d": base_t, "i2d_ok": i2d_ok, "seq": seq_t, "seq_n": seq_n}


def _sequential(urls: list[str]) -> list[float]:
    import urllib3

    pool = urllib3.PoolManager()
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        for u in urls:
            r = pool.request("GET", u)
            assert r.status == 200
        times.append(time.perf_counter() - t)
    return times


def run() -> dict:
    m = measure()
    if not m["i2d"]:
        raise RuntimeError("img2dataset not found: `make bench` installs it in .venv-img2dataset, or set "
                           "EARLYFUSE_IMG2DATASET_PYTHON")
    return {"name": "image fetching, fetch stage (Spark local[2]) vs img2dataset, 64 in flight, 50 ms latency",
            "ours": rate(N_URLS, m["ours"], "img/s"), "baseline": rate(N_URLS, m["i2d"], "img/s"),
            **ratio_row(m["i2d"], m["ours"]), "target": TARGET,
            "detail": (f"{N_URLS} URLs of a 256x256 JPEG on a loopback server adding {LATENCY * 1000:.0f} ms; "
                       f"img2dataset fetched {m['i2d_ok']} of {N_URLS} in its first run, each run a "
                       f"`download()` call (its 2 worker processes start in every call, as for its users); "
                       f"ideal at 64 in flight: {64 / LATENCY:.0f} img/s")}


def run_sequential() -> dict:
    m = measure()
    per_url_seq = [t / m["seq_n"] for t in m["seq"]]
    per_url_ours = [t / N_URLS for t in m["ours"]]
    return {"name": "image fetching, fetch stage (Spark local[2]) vs a sequential loop of the same client",
            "ours": rate(N_URLS, m["ours"], "img/s"), "baseline": rate(m["seq_n"], m["seq"], "img/s"),
            **ratio_row(per_url_seq, per_url_ours), "target": SEQUENTIAL_TARGET,
            "detail": f"sequential: urllib3 PoolManager, {m['seq_n']} URLs one after another, keep-alive"}


if __name__ == "__main__":
    for row in (run(), run_sequential()):
        print(json.dumps(row, indent=2))
