"""How much of LAMOST's class do LAMOST's own stellar parameters explain?

    python -m studies.labels.params_ceiling [../shared/data/lamost/dr10_params.csv]

Gradient-boosted trees, 5-fold cross-validated, predict the class (A/F/G) of the 3,000 DR10
stars in the catalogue from the pipeline's Teff, then Teff + log g, then Teff + log g + [Fe/H].
If the class were a function of the parameters, the last would be near 1. It is a ceiling on
what a physically faithful classifier can score against SUBCLASS, not a bound on every model:
the pipeline's templates see more of the spectrum than three numbers.
"""

from __future__ import annotations

import sys

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from spectype.evaluate.report import markdown_table


def main(path: str = "../shared/data/lamost/dr10_params.csv") -> pd.DataFrame:
    d = pd.read_csv(path).dropna(subset=["teff", "logg", "feh", "subclass"])
    cls = d.subclass.str[0]
    rows = []
    for cols in (["teff"], ["teff", "logg"], ["teff", "logg", "feh"]):
        clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
        pred = cross_val_predict(clf, d[cols].to_numpy(), cls, cv=StratifiedKFold(5, shuffle=True, random_state=0))
        ok = pred == cls.to_numpy()
        rows.append({"inputs": " + ".join(cols), "n": len(d), "class accuracy": ok.mean(),
                     "F9 called F": ok[(d.subclass == "F9").to_numpy()].mean(),
                     "G0 called G": ok[(d.subclass == "G0").to_numpy()].mean()})
    t = pd.DataFrame(rows)
    print(markdown_table(t, ".3f"))
    return t


if __name__ == "__main__":
    main(*sys.argv[1:])
