"""Where a run writes: the output (local folder or s3:// prefix) and Spark's work folder.

Spark writes its Parquet checkpoints under the work folder (a local folder, or any Hadoop
URI the cluster writes: pipelines/workdir.py); everything a user reads (shards, manifest,
report, rejected rows) lands under the output. Spark-written folders of an S3 output are
written under the work folder first and uploaded through the driver. A run
records the fingerprint of its config in the work folder, so a rerun with the same config
resumes from the checkpoints and committed shards, and any other config starts over.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from pipelines.config import Config
from pipelines.hf_features import FEATURES
from pipelines.io import storage
from pipelines.manifest import MANIFEST
from pipelines.workdir import WorkDir, is_uri

RUN_FILE = "run.json"
# Settings that change how a run executes, not what it produces.
_NOT_FINGERPRINTED = {"run": ("output", "progress", "master", "work_dir", "resume", "shuffle_partitions",
                              "arrow_batch_size", "lease_stale_s", "force", "payload_min_bytes"),
                      "storage": None, "spark": None, "sample": None, "fetch": ("cache", "cache_dir")}


# What only the shards depend on: a rerun that changes only these keeps the checkpoints.
_SHARDS_ONLY = ("mixture", "shards", "long_context")


def fingerprint(cfg: Config, code_version: str, upstream: bool = False) -> str:
    """The config and code a run's outputs depend on; `upstream`: those its checkpoints
    (records, dedup, tokens) depend on, so a new mixture or shard size reuses them."""
    d = cfg.to_dict()
    if upstream:
        for section in _SHARDS_ONLY:
            d.pop(section, None)
    for section, keys in _NOT_FINGERPRINTED.items():
        if keys is None:
            d.pop(section, None)
        else:
            for k in keys:
                d[section].pop(k, None)
    blob = json.dumps({"config": d, "code": code_version}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Output:
    def __init__(self, cfg: Config):
        raw = cfg.run.output
        self.s3 = storage.is_s3(raw)
        self.uri = raw.rstrip("/") if self.s3 else str(Path(raw).expanduser().resolve())
        self.opts = cfg.storage.options()
        if cfg.run.work_dir and is_uri(cfg.run.work_dir):  # any Hadoop URI (pipelines/workdir.py)
            self.work = cfg.run.work_dir.rstrip("/")
        elif cfg.run.work_dir:
            self.work = str(Path(cfg.run.work_dir).expanduser().resolve())
        elif self.s3:
            tag = hashlib.sha256(self.uri.encode()).hexdigest()[:10]
            self.work = str(Path(".earlyfuse-work", f"{cfg.run.name}-{tag}").resolve())
        else:
            self.work = os.path.join(self.uri, "_work")
        self.wd = WorkDir(self.work)
        # Spark writes rejected/ and report/ folders here; for S3 they are uploaded after.
        self.spark_root = self.wd.path("publish") if self.s3 else self.uri

    def lease_targets(self) -> list[str]:
        """What a run holds a lease on: the output, and the work folder when it lies elsewhere."""
        inside = not self.s3 and (self.work + os.sep).startswith(self.uri + os.sep)
        # A URI work folder (hdfs://, s3a://, ...) is the cluster's: the output's lease covers it.
        return [self.uri] if inside or self.wd.uri else [self.uri, self.work]

    def path(self, *parts: str) -> str:
        return storage.join(self.uri, *parts)

    def spark_path(self, *parts: str) -> str:
        return "/".join([self.spark_root, *parts]) if self.wd.uri and self.s3 else os.path.join(self.spark_root, *parts)

    def work_path(self, *parts: str) -> str:
        return self.wd.path(*parts)

    def checkpoint_done(self, name: str) -> bool:
        return self.wd.exists(self.work_path(name, "_SUCCESS"))

    def read_work_json(self, rel: str) -> dict | None:
        data = self.wd.read_bytes(self.work_path(rel))
        return None if data is None else json.loads(data)

    def write_work_json(self, rel: str, obj) -> None:
        data = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        self.wd.write_bytes(self.work_path(rel), data.encode("utf-8"))

    def prepare(self, fp: str, resume: bool, upstream: str = "") -> bool:
        """Unmark the output as finished, then keep or clear what an earlier run left.
        Returns whether this run resumes an earlier one. A run whose config differs only
        in what the shards depend on (`mixture`, `shards`) keeps the checkpoints and
        writes every shard again."""
        storage.delete_prefix(self.path(MANIFEST), self.opts)
        storage.delete_prefix(self.path(FEATURES), self.opts)
        previous = self.read_work_json(RUN_FILE) or {}
        resumed = resume and previous.get("fingerprint") == fp
        if not resumed:
            storage.delete_prefix(self.path("shards"), self.opts)
            if not (resume and upstream and previous.get("upstream") == upstream):
                self.wd.remove(self.work)
        for sub in ("report", "rejected"):
            storage.delete_prefix(self.path(sub), self.opts)
            if self.s3:
                self.wd.remove(self.spark_path(sub))
            else:
                shutil.rmtree(self.spark_path(sub), ignore_errors=True)
        for name in ("filtered", "docs", "tokens"):  # a checkpoint without _SUCCESS was interrupted
            if not self.checkpoint_done(name):
                self.wd.remove(self.work_path(name))
        self.wd.makedirs(self.work)
        self.write_work_json(RUN_FILE, {"fingerprint": fp, "upstream": upstream, "output": self.uri})
        probe = self.path(".write-test")
        storage.write_bytes(probe, b"ok", self.opts)
        storage.delete_prefix(probe, self.opts)
        return resumed

    def write_json(self, rel: str, obj) -> None:
        data = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        storage.write_bytes(self.path(rel), data.encode("utf-8"), self.opts)

    def publish_from(self, src: str, rel: str) -> None:
        """A folder of the work folder (Spark's Parquet) copied to `rel` under the output."""
        if not self.s3:
            self.wd.copy_to_local(src, self.path(rel))
        elif not self.wd.uri:
            storage.upload_dir(src, self.path(rel), self.opts)
        else:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="earlyfuse-publish-") as tmp:
                self.wd.copy_to_local(src, os.path.join(tmp, "d"))
                storage.upload_dir(os.path.join(tmp, "d"), self.path(rel), self.opts)

    def publish(self, rel: str) -> None:
        """Make a Spark-written folder visible under the output (a no-op when local)."""
        if not self.s3:
            return
        if not self.wd.uri:
            storage.upload_dir(self.spark_path(rel), self.path(rel), self.opts)
            return
        self.publish_from(self.spark_path(rel), rel)
