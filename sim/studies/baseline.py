"""`cybernorms baseline TARGETS`: the statistical baseline the model must beat.

A logistic regression (L2-penalised, scikit-learn) on the same input attributes the
model reads (every number and membership of the state roster; GDP and population on a
log scale; all standardised), fitted and scored in the same stratified folds of the
training states as the model's cross-validation (`sim.studies.outcomes.folds`): each
fold's states are predicted by a regression fitted on the other folds only. Votes get
a multinomial regression over the votes seen in the training folds. The forecasts go
through the same scoring as the model's (`sim.studies.validation`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sim.data.roster import load_states
from sim.studies.outcomes import VOTES, Observed, folds

#: numbers that enter on a log scale
LOGGED = ("gdp_usd_2018", "population_2018")


def features(scenario) -> pd.DataFrame:
    """One row per state (index iso3): the roster's numbers and memberships."""
    table = load_states(scenario.world.states.roster, scenario.base_dir)
    frame = table.frame.set_index("iso3")
    columns = {}
    for name in table.numbers:
        values = frame[name].astype(float)
        columns[f"log_{name}" if name in LOGGED else name] = (
            np.log10(values) if name in LOGGED else values)
    return pd.DataFrame(columns, index=frame.index)


def _fit_predict(x_train, y_train, x_test, penalty: float, classes) -> np.ndarray:
    """P(class) for `x_test` in the order of `classes` (0 where a class was never seen)."""
    seen = sorted(set(y_train))
    out = np.zeros((len(x_test), len(classes)))
    if len(seen) == 1:
        out[:, list(classes).index(seen[0])] = 1.0
        return out
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(C=penalty, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(scaler.transform(x_train), y_train)
    p = model.predict_proba(scaler.transform(x_test))
    for k, label in enumerate(model.classes_):
        out[:, list(classes).index(label)] = p[:, k]
    return out


def cross_validated(observed: Observed, scenario, k: int, seed: int,
                    penalty: float = 1.0) -> pd.DataFrame:
    """Forecast table (as `validation.forecast_table`) of the k-fold logistic regression."""
    x = features(scenario)
    parts = folds(observed, k, seed)
    frames = []
    for outcome in observed.outcomes:
        iso3 = outcome.iso3
        y = outcome.observed
        vote = outcome.kind == "vote"
        classes = VOTES if vote else (0, 1)
        p = np.zeros((len(iso3), len(classes)))
        for held in parts:
            test = np.isin(iso3, held)
            if test.any():
                p[test] = _fit_predict(x.loc[iso3[~test]].to_numpy(), y[~test],
                                       x.loc[iso3[test]].to_numpy(), penalty, classes)
        frame = pd.DataFrame({"iso3": iso3, "outcome": outcome.name, "observed": y})
        if vote:
            for j, label in enumerate(VOTES):
                frame[f"p_{label}"] = p[:, j]
        else:
            frame["forecast"] = p[:, 1]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


__all__ = ["cross_validated", "features"]
