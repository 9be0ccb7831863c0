"""Agreement between the model and the person who vetted its results."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..labels import CLASSES


@dataclass
class VettingSummary:
    n_rows: int  # rows in the result table
    n_vetted: int
    n_classified: int  # vetted rows where the user gave (or accepted) a class
    n_agree: int
    n_subtype_pairs: int  # classified rows where both sides have a subtype
    n_subtype_within_1: int
    flags: dict[str, int]
    confusion: pd.DataFrame  # rows: model class, columns: user class

    @property
    def agreement(self) -> float:
        return self.n_agree / self.n_classified if self.n_classified else float("nan")

    def text(self) -> str:
        lines = [
            f"vetted {self.n_vetted} of {self.n_rows} rows",
            f"class agreement (model = user): {self.n_agree}/{self.n_classified}"
            + (f" = {self.agreement:.3f}" if self.n_classified else ""),
        ]
        if self.n_subtype_pairs:
            lines.append(f"subtype within ±1: {self.n_subtype_within_1}/{self.n_subtype_pairs}")
        for flag, n in self.flags.items():
            lines.append(f"flagged {flag}: {n}")
        if len(self.confusion):
            lines += ["", "confusion matrix (rows: model pred_class, columns: user_class)",
                      self.confusion.to_string()]
        return "\n".join(lines)


def summarise(results: pd.DataFrame, vetted: pd.DataFrame) -> VettingSummary:
    """Join the sidecar to the result table on (path, index) and count agreement."""
    cols = ["path", "index", "pred_class"] + (["pred_subtype"] if "pred_subtype" in results else [])
    res = results[cols].copy()
    res["path"] = res["path"].astype(str)
    res["index"] = res["index"].astype(int)
    v = vetted.merge(res, on=["path", "index"], how="left")
    has = v["user_class"].notna()
    classified = v[has]
    agree = classified["user_class"].astype(str) == classified["pred_class"].astype(str)
    n_pairs = n_within = 0
    if "pred_subtype" in classified:
        both = classified[agree & classified["user_subtype"].notna() & classified["pred_subtype"].notna()]
        n_pairs = len(both)
        n_within = int(((both["user_subtype"].astype(float) - both["pred_subtype"].astype(float)).abs() <= 1).sum())
    flags = v["user_flag"].dropna().value_counts().to_dict()
    present = [c for c in CLASSES if c in set(classified["pred_class"]) | set(classified["user_class"])]
    conf = pd.crosstab(classified["pred_class"].fillna("-"), classified["user_class"]) if len(classified) else pd.DataFrame()
    if len(conf):
        order_rows = [c for c in present if c in conf.index] + [c for c in conf.index if c not in present]
        conf = conf.reindex(index=order_rows, columns=present, fill_value=0)
        conf.index.name, conf.columns.name = "model", "user"
    return VettingSummary(
        n_rows=len(results), n_vetted=len(v), n_classified=int(has.sum()), n_agree=int(agree.sum()),
        n_subtype_pairs=n_pairs, n_subtype_within_1=n_within,
        flags={str(k): int(n) for k, n in flags.items()}, confusion=conf,
    )
