#!/usr/bin/python3
"""ARIMA against statsmodels (make bench-temporal).

    /usr/bin/python3 scripts/bench/temporal.py [--bin bin/benchkernels] [--reps 5] [--only NAME]

temporal/arima-forecast (exact Gaussian MLE by a Kalman filter, fitted values
and a 10-step forecast with 95 % intervals) against statsmodels'
ARIMA(y, order).fit() followed by get_forecast(10).summary_frame(alpha=0.05)
on simulated ARMA series (fixed seed 20261128, 6 decimals).
"""
import json
import os
import sys
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.arima_process import arma_generate_sample

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SEED = 20261128
HORIZON = 10


def simulate(rng, n, ar, ma, mean=0.0, d=0):
    x = arma_generate_sample(np.r_[1, -np.asarray(ar)], np.r_[1, np.asarray(ma)], n + 100,
                             distrvs=rng.standard_normal, burnin=200)[100:] + mean
    for _ in range(d):
        x = np.cumsum(x)
    return np.round(x, 6)


def load_series(path):
    with open(path) as f:
        obj = json.load(f)
    return np.asarray(obj["values"], dtype=float), obj


def fit(prep):
    y, obj = prep
    order = (obj["p"], obj["d"], obj["q"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ARIMA(y, order=order, trend="c" if obj["d"] == 0 else "n").fit()
        fc = res.get_forecast(obj["horizon"]).summary_frame(alpha=0.05)
    return res, fc


def check(out, ref, prep):
    res, fc = ref
    dll = abs(out["log_likelihood"] - res.llf)
    dfc = np.max(np.abs(np.asarray(out["forecast"]) - fc["mean"].to_numpy()))
    return f"log-likelihood diff {dll:.1e}, forecast max diff {dfc:.1e}"


def build_cases(tmp):
    rng = np.random.default_rng(SEED)
    specs = [
        ("ARIMA(2,0,1)+mean, n=1,000", 1000, [0.6, -0.3], [0.4], 5.0, 0, (2, 0, 1)),
        ("ARIMA(1,1,1), n=1,000", 1000, [0.5], [-0.3], 0.0, 1, (1, 1, 1)),
        ("ARIMA(2,0,2)+mean, n=5,000", 5000, [0.5, 0.2], [0.3, -0.2], 1.0, 0, (2, 0, 2)),
    ]
    cases = []
    for i, (name, n, ar, ma, mean, d, order) in enumerate(specs):
        y = simulate(rng, n, ar, ma, mean, d)
        path = os.path.join(tmp, f"arima{i}.json")
        benchlib.write_json(path, {"values": y.tolist(), "p": order[0], "d": order[1], "q": order[2],
                                   "horizon": HORIZON, "alpha": 0.05})
        cases.append(benchlib.Case(name, "temporal/arima-forecast", path,
                                   (lambda p: lambda: load_series(p))(path), fit,
                                   ("speedup", 5.0, "≥ 5× faster (ratio ≤ 0.2×)"), check))
    return cases


def describe():
    return (f"Reference: statsmodels {statsmodels.__version__} `ARIMA(y, order, trend=\"c\" if d == 0 else \"n\")"
            f".fit()` then `get_forecast({HORIZON}).summary_frame(alpha=0.05)`; ours: `temporal/arima-forecast` "
            f"with horizon {HORIZON} (fit, fitted values, residuals, forecast and intervals). "
            f"Series simulated with statsmodels' arma_generate_sample (seed {SEED}, 6 decimals).")


if __name__ == "__main__":
    benchlib.main("temporal", "temporal kernels vs statsmodels", build_cases, describe)
