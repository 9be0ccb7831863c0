"""Score a model on real spectra it never trained on: the honest number for the README.

Held-out real set = every LAMOST and SDSS spectrum under DATA whose file, observation and star
are NOT a training or validation row of the pack the model was trained from (the pack's real
test rows, the real spectra the pack never took, and all SDSS spectra): a second spectrum of a
training star is not held out. Truth = the survey's header class.

    python -m studies.default_model.evaluate_heldout --model out/default_model/run/best \
        --pack out/default_model/data.h5 --data ../shared/data --out out/default_model/heldout

Writes metrics.json, per_class.csv, confusion.png/.csv and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from spectype.batch import ClassifyOptions, classify_files
from spectype.datasets import Pack
from spectype.evaluate.confusion import confusion_counts, plot_confusion, write_confusion_csv
from spectype.labels import parse_label
from spectype.models.release import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    pack = Pack(args.pack)
    used, used_ids, used_stars = set(), set(), set()
    for split in ("train", "val"):
        rows = pack.indices(split)
        used.update(Path(p).resolve() for p in pack.paths[rows] if p)
        used_ids.update(str(i) for i in pack.ids[rows] if i)
        used_stars.update(str(g) for g in pack.groups[rows])  # 'DESIG:LAMOST J...' for real stars
    results = args.out / "classified.parquet"
    classify_files([args.data / "lamost", args.data / "sdss"], results, model=args.model,
                   options=ClassifyOptions(resume=False))
    df = pd.read_parquet(results)
    df = df[df.status == "ok"].copy()
    # The same observation can sit in two files (a re-release, a copy in misc/): by id too.
    df["used"] = [Path(p).resolve() in used or str(i) in used_ids for p, i in zip(df.path, df.id, strict=True)]
    df["used"] |= [any(f"{card}:{d}" in used_stars for card in ("DESIG", "OBJNAME")) for d in df.designation]
    df["truth"] = [parse_label(s, c).cls for s, c in zip(df.header_subclass, df.header_class, strict=True)]
    classes = load_model(args.model).class_names
    held = df[~df.used & df.truth.isin(classes)]

    y_true, y_pred = held.truth.to_numpy(), held.pred_class.to_numpy()
    present = [c for c in classes if (y_true == c).any()]
    p, r, f, n = precision_recall_fscore_support(y_true, y_pred, labels=present, zero_division=0)
    per_class = pd.DataFrame({"class": present, "precision": p, "recall": r, "f1": f, "support": n})
    acc = float((y_true == y_pred).mean())
    idx = {c: i for i, c in enumerate(classes)}
    cm = confusion_counts(np.array([idx[c] for c in y_true]), np.array([idx[c] for c in y_pred]), len(classes))
    plot_confusion(cm, classes, args.out / "confusion.png", title=f"held-out real spectra (n={len(held)}, acc {acc:.3f})")
    write_confusion_csv(cm, classes, args.out / "confusion.csv")
    per_class.to_csv(args.out / "per_class.csv", index=False)
    summary = {"n_heldout": len(held), "n_used_for_training": int(df.used.sum()), "accuracy": acc,
               "per_class": per_class.to_dict(orient="records")}
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=2))
    print(f"held-out real spectra: {len(held)} (excluded {int(df.used.sum())} used in train/val); accuracy {acc:.4f}")
    print("| class | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|")
    for row in per_class.itertuples():
        print(f"| {row[1]} | {row.precision:.3f} | {row.recall:.3f} | {row.f1:.3f} | {row.support} |")


if __name__ == "__main__":
    main()
