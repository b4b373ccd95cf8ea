"""The real pipeline over a corpus of bad inputs (tests/bad_inputs.py), through the CLI.

`earlyfuse run` runs in a subprocess, so a crash anywhere (a reader, a stage, a Python
worker) is a non-zero exit. Then: every stage has in = kept + rejected = kept + sum of its
reasons; every planted unit is counted under the reason below (report/stages.json and
rejected/, one row per rejection, by uri where the uri is known in advance); image parts
dropped inside kept documents are counted in `part_drops`; the shards hold exactly the kept
documents under safe member names; `earlyfuse stats --verify` re-reads every shard and
agrees with the manifest. The two 50 MB documents are rejected on their size by readers
that never hold them whole (max_record_bytes is 4 MB here; the JSONL reader's peak memory
on the 50 MB line is measured). The per-reason table is printed to the terminal (even under `pytest -q`) and
saved as `rejections.json` in the test's tmp dir.

Planted units (96; a unit is what becomes one row: a WARC response record or gzip member,
a JSONL line, a Parquet row or unreadable file, a webdataset sample, an image file, a video):

input (format)       planted unit                                        outcome
-------------------  --------------------------------------------------  ------------------------
crawl (warc)         4 good pages (2 around the gzip damage, 1 after     keep (4)
                       the 50 MB page)
                     page with a good <img>, a truncated one, one never  keep; part_drops
                       crawled                                             truncated 1, unresolved 1
                     the 2 image responses those <img> point to          ingest:image_resource (2)
                     PDF response; binary octet-stream response          ingest:not_html (2)
                     random bytes served as text/html                    ingest:no_text
                     UTF-8 page with stray invalid bytes                 keep (U+FFFD for them)
                     cp1252 page declared UTF-8; UTF-8 page declared     keep, text decoded right
                       ISO-8859-1; page declaring a non-existent charset   (checked in the tokens)
                     empty body; HTML without text                       ingest:no_text (2)
                     404 response                                        ingest:http_status
                     gzip member holding no WARC record                  ingest:bad_warc_record
                     plain file that is not a WARC                       ingest:bad_warc_record
                     bytes without a gzip header between members         ingest:not_gzip
                     gzip member with damaged deflate data               ingest:corrupt_gzip
                     last gzip member cut short                          ingest:truncated_gzip
                     50 MB HTML page (a 330 KB gzip member)              ingest:record_too_large
                     warcinfo and request records; zero-byte .warc.gz    not units (no row)
docs (jsonl)         3 good lines, 2 around the 50 MB line, 3 in a .gz   keep (8)
                     broken JSON; NUL bytes; last line cut, no newline   ingest:bad_json (3)
                     Latin-1 bytes in a line                             ingest:invalid_utf8
                     JSON array, string, null                            ingest:not_an_object (3)
                     no text field; text is a number                     ingest:missing_text (2)
                     blank text                                          ingest:no_text
                     50 MB line                                          ingest:record_too_large
                     .jsonl.gz without its gzip trailer                  ingest:truncated_gzip
                     .jsonl.gz whose deflate data is noise               ingest:corrupt_gzip
                     blank lines                                         not units (no row)
table (parquet)      2 good rows                                         keep (2)
                     row with null text; row with empty text             ingest:missing_text, :no_text
                     file without the text column (one row per file)     ingest:missing_text_column
                     random bytes; zero bytes; cut in half (no footer);  ingest:bad_parquet (4)
                       damaged data pages under an intact footer
pairs (webdataset)   3 good pairs; sample before a tar's cut             keep (4)
                     1x1 image (images.min_side is 32 for pairs)         images:too_small
                     CMYK JPEG; 16-bit PNG; animated GIF                 keep (RGB; first frame)
                     JPEG whose scan data is noise (libjpeg only warns)  keep
                     members ../../etc/passwd.jpg and /abs/evil.jpg      keep (names are never
                                                                           paths; shard keys are ids)
                     zero-byte image                                     images:empty
                     HTML saved as .jpg                                  images:unidentified
                     JPEG with a bogus Huffman table                     images:corrupt
                     JPEG cut in half                                    images:truncated
                     69-byte PNG declaring 30000x30000                   images:too_many_pixels
                     40x20000 image                                      images:aspect_ratio
                     symlink member (to /etc/passwd) + caption;          ingest:missing_image (2)
                       caption without an image
                     tar cut inside a member                             ingest:truncated_tar
                     random bytes named .tar                             ingest:corrupt_tar
photos (images)      2 good images (.txt / .json captions); PNG named    keep (5)
                       .jpg; no caption, dots and spaces in the name;
                       caption that is not UTF-8
                     zero-byte image                                     images:empty
                     PNG whose pixel data is not zlib                    images:corrupt
                     PNG cut short                                       images:truncated
                     PNG declaring 30000x30000                           images:too_many_pixels
                     20001x40 image                                      images:too_large
clips (video)        mp4 + .srt, webm + .vtt + .json, 2 broken cues each keep (video.subtitle_cues_
                                                                           skipped = 2 in signals)
                     faststart mp4 cut at 60%                            keep (frames up to the cut)
                     4000x3000 frame                                     keep (frames <= 1344 px)
                     one frame, 0.1 s                                    keep
                     8192x8192 frame in a 200 KB file                    video:too_many_pixels
                     audio only                                          video:no_video_stream
                     mp4 cut before its moov index; webm with a video    video:undecodable (3)
                       stream and zero frames; random bytes as .mkv
                     zero-byte file                                      video:empty
                     16x12 frames                                        video:too_small
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.shards import signal_dict
from tests.bad_inputs import make_bad_corpus
from tests.cluster_util import dump_toml
from tests.conftest import ROOT

pytestmark = pytest.mark.spark

SAFE_MEMBER = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_.]+$")
# Low enough that the 50 MB documents are far above it and that reading one whole would
# show in the reader's peak memory.
MAX_RECORD_BYTES = 4_000_000


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1")
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _tail(proc: subprocess.CompletedProcess, n: int = 40) -> str:
    return "\n".join((proc.stdout + "\n" + proc.stderr).splitlines()[-n:])


def _reason_table(expected: dict[str, int], got: dict[str, int]) -> str:
    rows = sorted(set(expected) | set(got), key=lambda s: (s == "keep", s))
    width = max(len(r) for r in rows)
    lines = [f"{'status':<{width}}  expected    got", "-" * (width + 17)]
    for r in rows:
        mark = "" if expected.get(r, 0) == got.get(r, 0) else "   <-- differs"
        lines.append(f"{r:<{width}}  {expected.get(r, 0):8d} {got.get(r, 0):6d}{mark}")
    lines.append(f"{'total':<{width}}  {sum(expected.values()):8d} {sum(got.values()):6d}")
    return "\n".join(lines)


def _big_line_peak(path: Path) -> tuple[int, list[str]]:
    """Peak Python memory while the JSONL reader passes over the file with the 50 MB line."""
    from pipelines.config import InputConfig
    from pipelines.readers.documents import read_jsonl

    inp = InputConfig(name="docs", format="jsonl", path=str(path), max_record_bytes=MAX_RECORD_BYTES)
    tracemalloc.start()
    try:
        with open(path, "rb") as f:
            statuses = [r["status"] for r in read_jsonl(f, "docs", path.name, inp)]
        return tracemalloc.get_traced_memory()[1], statuses
    finally:
        tracemalloc.stop()


def test_bad_inputs_end_to_end(tmp_path, capsys):
    t0 = time.monotonic()
    expected = make_bad_corpus(tmp_path / "in")
    t_gen = time.monotonic() - t0
    inputs = [dict(i, max_record_bytes=MAX_RECORD_BYTES) for i in expected["inputs"]]
    formats = {i["format"] for i in inputs}
    assert formats == {"warc", "jsonl", "parquet", "webdataset", "images", "video"}
    cfg = {
        "run": {"name": "bad", "output": str(tmp_path / "unused"), "shuffle_partitions": 4,
                "progress": False},
        "inputs": inputs,
        "video": {"fps": 1.0, "max_frames": 8},
        "shards": {"name": "bad", "max_samples": 16},
    }
    cfg_path = tmp_path / "bad.toml"
    cfg_path.write_text(dump_toml(cfg), encoding="utf-8")
    out = tmp_path / "out"

    # ---- the run: a crash anywhere (a reader, a stage, the shard writer) is a non-zero exit
    t1 = time.monotonic()
    run = _cli("run", str(cfg_path), "--output", str(out), "--no-progress", "--master", "local[2]",
               "--json")
    t_run = time.monotonic() - t1
    assert run.returncode == 0, f"earlyfuse run exited {run.returncode}:\n{_tail(run)}"
    assert (out / "manifest.json").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert json.loads(run.stdout)["totals"] == manifest["totals"]
    report = json.loads((out / "report" / "stages.json").read_text())
    stages = report["stages"]

    # ---- the per-reason table, printed and saved before anything can fail on it
    got = dict(report["status_counts"])
    table = _reason_table(expected["statuses"], got)
    with capsys.disabled():  # shown in CI's log on a plain `pytest -q`, passing or not
        print(f"\nbad-input corpus: {len(expected['units'])} units, generated in {t_gen:.1f} s, "
              f"run in {t_run:.1f} s\n{table}\npart drops: {report['part_drops']}")
    (tmp_path / "rejections.json").write_text(json.dumps(
        {"expected": expected["statuses"], "got": got, "part_drops": report["part_drops"],
         "expected_part_drops": expected["part_drops"], "run_s": round(t_run, 1)}, indent=2))

    # ---- every stage: in = kept + rejected = kept + sum(reasons); stages chain
    for i, st in enumerate(stages):
        assert st["in"] == st["kept"] + st["rejected"] == st["kept"] + sum(st["reasons"].values()), st
        if i:
            assert st["in"] == stages[i - 1]["kept"], (stages[i - 1], st)
    assert stages[0]["in"] == len(expected["units"])

    # ---- every planted unit accounted for, by reason
    assert got == expected["statuses"], "\n" + table
    by_reason = {f"{st['stage']}:{r}": n for st in stages for r, n in st["reasons"].items()}
    assert by_reason == {k: v for k, v in expected["statuses"].items() if k != "keep"}
    assert report["part_drops"] == expected["part_drops"]
    assert stages[-1]["kept"] == expected["kept"]

    # ---- rejected/: one row per rejection, each planted unit under its own reason
    rejected = pq.read_table(out / "rejected").to_pylist()
    n_rejected = sum(st["rejected"] for st in stages)
    assert len(rejected) == n_rejected == len(expected["units"]) - expected["kept"]
    assert Counter(r["status"] for r in rejected) == Counter(
        {k: v for k, v in expected["statuses"].items() if k != "keep"})
    rejected_by_uri = {(r["source"], r["uri"]): r["status"] for r in rejected}
    wrong = [(u["source"], u["uri"], u["expect"], rejected_by_uri.get((u["source"], u["uri"]), "keep"))
             for u in expected["units"] if u["uri"] is not None
             and rejected_by_uri.get((u["source"], u["uri"]), "keep") != u["expect"]]
    assert not wrong, f"(source, uri, expected, got): {wrong}"
    # The 50 MB documents: rejected on their size, from a reader that never held one whole.
    for uri in expected["big_documents"]:
        assert any(r["uri"] == uri and r["status"] == "ingest:record_too_large" for r in rejected), uri
    big = Path(expected["big_jsonl"])
    assert big.stat().st_size > 50 * 1024 * 1024
    peak, statuses = _big_line_peak(big)
    assert statuses == ["keep", "ingest:record_too_large", "keep"]
    assert peak < 4 * MAX_RECORD_BYTES, f"reader peaked at {peak / 1e6:.1f} MB on a 50 MB line"

    # ---- shards: as many samples as the last stage kept, safe member names, ids unique
    names, metas = [], []
    for s in manifest["shards"]:
        with tarfile.open(out / "shards" / s["name"]) as tar:
            for m in tar.getmembers():
                names.append(m.name)
                if m.name.endswith(".json"):
                    metas.append(json.loads(tar.extractfile(m).read()))
    assert manifest["totals"]["samples"] == len(metas) == stages[-1]["kept"]
    unsafe = [n for n in names if not SAFE_MEMBER.match(n)]
    assert not unsafe, unsafe
    ids = [m["id"] for m in metas] + [r["id"] for r in rejected]
    assert len(set(ids)) == len(ids), "document ids are not unique"
    kept_uris = {(m["source"], m["uri"]): m for m in metas}
    for u in expected["units"]:
        if u["expect"] == "keep" and u["uri"] is not None:
            assert (u["source"], u["uri"]) in kept_uris, u
    for uri, signals in expected["signals"].items():
        meta = next(m for m in metas if m["uri"] == uri)
        got = signal_dict(meta["signals"])
        for k, v in signals.items():
            assert got.get(k) == v, (uri, k, got)
    for uri, side in expected["frame_max_side"].items():
        meta = next(m for m in metas if m["uri"] == uri)
        frames = [im for im in meta["images"] if im.get("kind") == "frame"]
        assert frames and all(max(im["width"], im["height"]) <= side for im in frames), (uri, frames)
    from tokenization import load_tokenizer

    tok = load_tokenizer(manifest["tokenizer"]["spec"])
    samples = _tokens_by_uri(out, manifest, set(expected["contains"]))
    for uri, wanted in expected["contains"].items():
        text = tok.decode(samples[uri])
        for w in wanted:
            assert w in text, (uri, w, text[-300:])
        assert "Ã" not in text, (uri, "mojibake")

    # ---- stats --verify: every shard re-read; its totals are the manifest's
    stats = _cli("stats", str(out), "--verify", "--json", timeout=300)
    assert stats.returncode == 0, f"earlyfuse stats --verify exited {stats.returncode}:\n{_tail(stats)}"
    s = json.loads(stats.stdout)
    totals = manifest["totals"]
    assert s["verify"]["ok"] and not s["verify"]["failures"]
    assert (s["verify"]["shards"], s["verify"]["samples"]) == (totals["shards"], totals["samples"])
    assert s["totals"]["samples"] == totals["samples"]
    assert sum(r["documents"] for r in s["sources"]) == totals["samples"]
    assert sum(r["tokens"] for r in s["sources"]) == totals["tokens"]
    assert s["images_per_doc"]["count"] == totals["samples"]
    assert s["tiles_per_image"].get("count", 0) == totals["images"]
    assert [st["rejected"] for st in s["stages"]] == [st["rejected"] for st in stages]
    print(f"total test time {time.monotonic() - t0:.1f} s")


def _tokens_by_uri(out: Path, manifest: dict, uris: set[str]) -> dict:
    """Token ids of the kept samples with these uris (text only: their images are tokens too)."""
    import io

    import numpy as np

    found, keys = {}, {}
    for s in manifest["shards"]:
        with tarfile.open(out / "shards" / s["name"]) as tar:
            members = {m.name: m for m in tar.getmembers()}
            for name, m in members.items():
                if name.endswith(".json"):
                    meta = json.loads(tar.extractfile(m).read())
                    if meta["uri"] in uris:
                        keys[meta["uri"]] = name[: -len(".json")]
                        data = tar.extractfile(members[f"{keys[meta['uri']]}.tokens.npy"]).read()
                        ids = np.load(io.BytesIO(data))
                        # Drop image layouts: only text tokens decode to text.
                        keep = np.ones(len(ids), bool)
                        for im in meta["images"]:
                            keep[im["token_offset"]: im["token_offset"] + im["n_tokens"]] = False
                        found[meta["uri"]] = [int(i) for i in ids[keep][1:-1]]
    assert set(found) == uris, uris - set(found)
    return found
