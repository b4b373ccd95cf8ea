"""The sample job reading its inputs from and writing its whole output to s3:// (moto's
server over real HTTP), through a proxy that answers 500/503 and drops connections."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from pipelines.io import storage
from pipelines.io.storage import StorageOptions
from tests.conftest import ROOT
from tests.s3_util import FAKE_ENV, Fault, FaultyProxy, moto_server

pytestmark = pytest.mark.spark

BUCKET = "earlyfuse-test"


def test_sample_from_and_to_s3_with_faults_matches_local(sample_run, tmp_path):
    import boto3

    result, _, root = sample_run
    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        direct = StorageOptions(endpoint_url=endpoint)
        storage.upload_dir(str(root), f"s3://{BUCKET}/inputs", direct)
        faults = [Fault("500", kinds=("get", "head"), every=7), Fault("drop", kinds=("get",), every=11),
                  Fault("503", kinds=("list", "put", "upload_part", "create_mpu"), every=5),
                  Fault("drop", kinds=("put",), every=17)]
        with FaultyProxy(endpoint, faults) as proxy:
            text = (ROOT / "configs" / "sample.toml").read_text()
            text = text.replace('generate = "data/sample"', 'generate = ""').replace("data/sample", f"s3://{BUCKET}/inputs")
            # Small parts: the shards go up as real multipart uploads.
            text += f'\n[storage]\nendpoint_url = "{proxy.url}"\nmax_attempts = 10\npart_size_mb = 5\n'
            cfg = tmp_path / "s3.toml"
            cfg.write_text(text)
            env = {**os.environ, "EARLYFUSE_S3_ENDPOINT_URL": ""}  # the config's endpoint counts
            proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(cfg), "--output",
                                   f"s3://{BUCKET}/out", "--master", "local[2]", "--no-progress"],
                                  capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
            assert proc.returncode == 0, proc.stderr[-3000:]
            assert proxy.total_injected() > 10, proxy.injected
            assert not [k for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
                        if FAKE_ENV[k] in proc.stdout + proc.stderr]

        manifest = json.loads(storage.read_bytes(f"s3://{BUCKET}/out/manifest.json", direct))
        assert [(s["name"], s["sha256"]) for s in manifest["shards"]] == \
               [(s["name"], s["sha256"]) for s in result.manifest["shards"]]
        for shard in manifest["shards"]:  # the objects themselves, not only what was recorded
            data = storage.read_bytes(f"s3://{BUCKET}/out/shards/{shard['name']}", direct)
            assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        report = json.loads(storage.read_bytes(f"s3://{BUCKET}/out/report/stages.json", direct))
        assert report["stages"] == result.stages
        names = storage.listdir_names(f"s3://{BUCKET}/out/rejected", direct)
        assert any(n.endswith(".parquet") for n in names)
        assert storage.listdir_names(f"s3://{BUCKET}/out/report/dedup_clusters", direct)
        # Spark's checkpoints stayed local, next to where the job ran.
        assert list((tmp_path / ".earlyfuse-work").iterdir())
        assert not boto3.client("s3", endpoint_url=endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads")
        # Inspection works on the prefix as on a folder.
        from pipelines.stats import summarize
        from pipelines.verify import verify_output

        stats = summarize(f"s3://{BUCKET}/out", opts=direct)
        assert stats["totals"]["samples"] == result.manifest["totals"]["samples"]
        assert stats["stages"] == [{k: s[k] for k in ("stage", "in", "kept", "rejected", "reasons")}
                                   for s in result.stages]
        assert verify_output(f"s3://{BUCKET}/out", opts=direct)["ok"]
        # No credential in any object written (manifest, report, rejected rows, shards) nor
        # in the local work folder (checkpoints, run.json): they travel only in the environment.
        secrets = [FAKE_ENV[k].encode() for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")]
        written = [storage.read_bytes(uri, direct) for uri, _ in storage.list_files(f"s3://{BUCKET}/out", direct)]
        written += [p.read_bytes() for p in (tmp_path / ".earlyfuse-work").rglob("*") if p.is_file()]
        assert len(written) > 10
        leaked = [s for s in secrets for blob in written if s in blob]
        assert not leaked, leaked
