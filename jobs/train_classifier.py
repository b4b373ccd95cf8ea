"""`earlyfuse train-classifier`: a fastText quality classifier (DCLM's recipe) from documents
of the kind to keep (`--positive`) and of the kind to drop (`--negative`).

Also runnable alone: `python -m jobs.train_classifier --positive hq.jsonl --negative cc.parquet
--output model.bin`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from jobs.common import EXIT_CONFIG, err


class InputError(Exception):
    """An input file that cannot give the texts: the user fixes a path or a field name."""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train-classifier", help="train a fastText quality classifier (DCLM's recipe)",
                       description="Train a fastText classifier of positive against negative documents; its "
                                   "probability of the positive label is a quality score ([[classifiers]]).")
    p.add_argument("--positive", action="append", required=True, metavar="FILE",
                   help="documents to keep: JSONL, .jsonl.gz or Parquet (repeatable)")
    p.add_argument("--negative", action="append", required=True, metavar="FILE",
                   help="documents to drop, same formats (repeatable)")
    p.add_argument("--text-field", default="text", help="the field (column) holding the text (default text)")
    p.add_argument("--output", required=True, help="the model file: .bin, or .ftz for a quantized (smaller) one")
    p.add_argument("--positive-label", default="hq", help="default hq (__label__hq, as DCLM's model)")
    p.add_argument("--negative-label", default="cc", help="default cc")
    p.add_argument("--lowercase", action="store_true",
                   help="lower-case texts first (score with the classifier's lowercase on too)")
    p.add_argument("--max-chars", type=int, default=100_000, help="characters of each text used (default 100000)")
    p.add_argument("--valid-fraction", type=float, default=0.1,
                   help="share of each class held out for accuracy, precision and recall (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="shuffle, split and training seed (default 0)")
    p.add_argument("--epoch", type=int, default=5, help="default 5")
    p.add_argument("--lr", type=float, default=0.1, help="default 0.1")
    p.add_argument("--dim", type=int, default=100, help="default 100")
    p.add_argument("--word-ngrams", type=int, default=2, help="default 2 (words and bigrams, as DCLM)")
    p.add_argument("--min-count", type=int, default=1, help="default 1")
    p.add_argument("--bucket", type=int, default=2_000_000,
                   help="hash buckets for the bigrams (default 2000000; the model is about bucket x dim x 4 bytes)")
    p.add_argument("--threads", type=int, default=1, help="training threads (default 1: more is faster but not "
                                                           "reproducible)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_train_classifier)
    return p


def read_texts(path: str, field: str) -> list[str | None]:
    """The `field` of every record of a JSONL (optionally gzipped) or Parquet file."""
    if not Path(path).is_file():
        raise InputError(f"no such file {path!r}")
    try:
        if path.endswith((".parquet", ".pq")):
            return _parquet_texts(path, field)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            return _jsonl_texts(f, path, field)
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None


def _jsonl_texts(lines, path: str, field: str) -> list[str | None]:
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{path}:{n}: not JSON") from None
        if not isinstance(rec, dict) or field not in rec:
            raise InputError(f"{path}:{n}: no {field!r} field (--text-field names it)")
        text = rec[field]
        if text is not None and not isinstance(text, str):
            raise InputError(f"{path}:{n}: {field!r} is {type(text).__name__}, not a string")
        out.append(text)
    return out


def _parquet_texts(path: str, field: str) -> list[str | None]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        if field not in schema.names:
            raise InputError(f"{path}: no {field!r} column (--text-field names it; columns: "
                             f"{', '.join(schema.names)})")
        kind = schema.field(field).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise InputError(f"{path}: column {field!r} is {kind}, not a string")
        return pq.read_table(path, columns=[field]).column(field).to_pylist()
    except pa.ArrowException as e:
        raise InputError(f"{path}: not a readable Parquet file ({e})") from None


def cmd_train_classifier(args) -> int:
    from filters.classifier import train

    try:
        positives = [t for p in args.positive for t in read_texts(p, args.text_field)]
        negatives = [t for p in args.negative for t in read_texts(p, args.text_field)]
    except InputError as e:
        return err(f"input error: {e}", EXIT_CONFIG)
    try:
        result = train(positives, negatives, output=args.output, positive_label=args.positive_label,
                       negative_label=args.negative_label, lowercase=args.lowercase, max_chars=args.max_chars,
                       valid_fraction=args.valid_fraction, seed=args.seed, epoch=args.epoch, lr=args.lr,
                       dim=args.dim, word_ngrams=args.word_ngrams, min_count=args.min_count,
                       threads=args.threads, bucket=args.bucket)
    except OSError as e:
        return err(f"cannot write the model: {e}", EXIT_CONFIG)
    except ValueError as e:  # too few texts, bad labels or settings; fastText's own refusals too
        return err(f"input error: {e}", EXIT_CONFIG)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_summary(result)
    return 0


def _print_summary(r: dict) -> None:
    ex, tr, va, skipped = r["examples"], r["train"], r["valid"], r["skipped_empty"]
    print(f"wrote {r['model']} ({r['bytes'] / 1e6:,.1f} MB{', quantized' if r['quantized'] else ''}) "
          f"in {r['seconds']:.1f} s")
    print(f"texts: {ex['positive']:,} positive ({r['labels']['positive']}), {ex['negative']:,} negative "
          f"({r['labels']['negative']}); trained on {tr['positive']:,} + {tr['negative']:,}, "
          f"held out {va['positive']:,} + {va['negative']:,}")
    if skipped["positive"] or skipped["negative"]:
        print(f"skipped empty texts: {skipped['positive']:,} positive, {skipped['negative']:,} negative")
    if r["accuracy"] is not None:
        precision = "-" if r["precision"] is None else f"{r['precision']:.4f}"
        print(f"held-out accuracy {r['accuracy']:.4f}, precision {precision}, recall {r['recall']:.4f} "
              f"(of {r['labels']['positive']})")
    if r["params"]["lowercase"]:
        print("texts were lower-cased: score with lowercase on")


def main(argv=None) -> int:
    """`python -m jobs.train_classifier ARGS` = `earlyfuse train-classifier ARGS`."""
    ap = argparse.ArgumentParser(prog="earlyfuse")
    add_parser(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(["train-classifier", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
