"""Figures drawn from edge-case tables say what is missing instead of warning."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.outputs.plots import bloc_curves, sufficiency_curves  # noqa: E402


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_bloc_curves_of_a_scenario_without_blocs_say_so():
    steps = pd.DataFrame({"run_id": ["a", "a"], "proposal": ["call", "call"],
                          "date": pd.to_datetime(["2018-11-12", "2018-11-19"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "no artists with labels" warning
        fig = bloc_curves(steps, "call", [])
    assert "the scenario defines no blocs" in _texts(fig)
    plt.close(fig)


def test_sufficiency_curves_where_no_outcome_varies_say_so():
    table = pd.DataFrame({"proposal": ["call"], "metric": ["share_states"],
                          "replications": [2], "relative_half_width": [float("nan")]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = sufficiency_curves(table, "call")
    assert "no outcome varies between runs" in _texts(fig)
    plt.close(fig)
