#!/usr/bin/python3
"""ML kernels against scikit-learn (make bench-ml).

    /usr/bin/python3 scripts/bench/ml.py [--bin bin/benchkernels] [--reps 5] [--only NAME]

Cases (fixed seed 20261128; values rounded to 6 decimals so that the JSON
both sides read holds them exactly):

- k-means: 100,000 × 16, 8 Gaussian blobs, k = 8, Lloyd, tol 1e-4,
  max_iter 300. Twice: k-means++ with n_init = 10 on both sides (sklearn's
  default in 1.2; the seeds differ, so the runs converge in different
  iteration counts), and from the same given initial centres with n_init = 1
  (both sides then run the same Lloyd iterations).
- DBSCAN: 20,000 × 2 (10 blobs plus 10 % uniform noise), eps 0.3,
  min_samples 5, euclidean.
- LOF: 20,000 × 8 (blobs plus 2 % uniform outliers), n_neighbors 20.

sklearn runs with n_jobs=-1 (all cores) for DBSCAN and LOF, and its OpenMP
threads (all cores) for KMeans, like ours.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN, KMeans
from sklearn.neighbors import LocalOutlierFactor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SEED = 20261128


def blobs(rng, n, d, centers, spread, std):
    c = rng.uniform(-spread, spread, size=(centers, d))
    lab = rng.integers(0, centers, size=n)
    return c[lab] + rng.normal(0, std, size=(n, d))


def write_matrix(path, x, **params):
    x = np.round(x, 6)
    obj = {"data": x.ravel().tolist(), "n_samples": int(x.shape[0]), "n_features": int(x.shape[1])}
    obj.update(params)
    benchlib.write_json(path, obj)
    return x


def load_matrix(path):
    with open(path) as f:
        obj = json.load(f)
    x = np.asarray(obj["data"], dtype=float).reshape(obj["n_samples"], obj["n_features"])
    return x, obj


def build_cases(tmp):
    rng = np.random.default_rng(SEED)
    # k-means
    xk = blobs(rng, 100_000, 16, 8, 10.0, 1.5)
    init = np.round(xk[rng.choice(len(xk), 8, replace=False)], 6)
    km_path = os.path.join(tmp, "kmeans.json")
    km_init_path = os.path.join(tmp, "kmeans_init.json")
    xk = write_matrix(km_path, xk, k=8, n_init=10, max_iterations=300, tolerance=1e-4, seed=1)
    write_matrix(km_init_path, xk, k=8, n_init=1, max_iterations=300, tolerance=1e-4, init=init.ravel().tolist())
    # DBSCAN
    xd = np.concatenate([blobs(rng, 18_000, 2, 10, 20.0, 1.0), rng.uniform(-25, 25, size=(2_000, 2))])
    xd = xd[rng.permutation(len(xd))]
    db_path = os.path.join(tmp, "dbscan.json")
    write_matrix(db_path, xd, eps=0.3, min_samples=5)
    # LOF
    xl = np.concatenate([blobs(rng, 19_600, 8, 6, 10.0, 1.0), rng.uniform(-15, 15, size=(400, 8))])
    xl = xl[rng.permutation(len(xl))]
    lof_path = os.path.join(tmp, "lof.json")
    write_matrix(lof_path, xl, n_neighbors=20)

    def km_fit(prep):
        x, obj = prep
        if "init" in obj:
            c = np.asarray(obj["init"]).reshape(obj["k"], obj["n_features"])
            return KMeans(n_clusters=obj["k"], init=c, n_init=1, algorithm="lloyd", tol=obj["tolerance"],
                          max_iter=obj["max_iterations"]).fit(x)
        return KMeans(n_clusters=obj["k"], n_init=obj["n_init"], algorithm="lloyd", tol=obj["tolerance"],
                      max_iter=obj["max_iterations"], random_state=0).fit(x)

    def km_check(out, ref, prep):
        rel = abs(out["inertia"] - ref.inertia_) / ref.inertia_
        return (f"inertia rel diff {rel:.1e}; iterations ours {out['iterations']} / sklearn {ref.n_iter_} "
                "(best run)")

    def db_fit(prep):
        x, obj = prep
        return DBSCAN(eps=obj["eps"], min_samples=obj["min_samples"], n_jobs=-1).fit(x)

    def db_check(out, ref, prep):
        same = np.array_equal(np.asarray(out["labels"]), ref.labels_)
        return f"{out['n_clusters']} clusters, labels {'identical' if same else 'DIFFER'}"

    def lof_fit(prep):
        x, obj = prep
        return LocalOutlierFactor(n_neighbors=obj["n_neighbors"], n_jobs=-1).fit(x)

    def lof_check(out, ref, prep):
        want = -ref.negative_outlier_factor_
        rel = np.max(np.abs(np.asarray(out["lof"]) - want) / want)
        return f"max rel diff of LOF {rel:.1e}"

    ratio = lambda x: ("ratio", x, f"≤ {x:g}× sklearn")  # noqa: E731
    return [
        benchlib.Case("k-means 100k×16 k=8, k-means++ n_init=10", "ml/kmeans-cluster", km_path,
                      lambda: load_matrix(km_path), km_fit, ratio(1.5), km_check,
                      "different k-means++ seeds on the two sides: iteration counts can differ"),
        benchlib.Case("k-means 100k×16 k=8, given init n_init=1", "ml/kmeans-cluster", km_init_path,
                      lambda: load_matrix(km_init_path), km_fit, ratio(1.5), km_check),
        benchlib.Case("DBSCAN 20k×2 eps=0.3 min_samples=5", "ml/dbscan-cluster", db_path,
                      lambda: load_matrix(db_path), db_fit, ratio(2.0), db_check),
        benchlib.Case("LOF 20k×8 n_neighbors=20", "ml/local-outlier-factor", lof_path,
                      lambda: load_matrix(lof_path), lof_fit, ratio(2.0), lof_check),
    ]


def describe():
    return (f"Reference: scikit-learn {sklearn.__version__}, NumPy {np.__version__}; both sides on all cores "
            "(sklearn KMeans' OpenMP threads; DBSCAN and LocalOutlierFactor with n_jobs=-1). "
            f"Data (seed {SEED}, 6 decimals): k-means on 100,000 × 16 samples from 8 Gaussian blobs, "
            "k = 8, Lloyd, tol 1e-4, max_iter 300, k-means++ with n_init = 10 on both sides "
            "(sklearn random_state 0, ours seed 1) and again from the same given centres with n_init = 1; "
            "DBSCAN on 20,000 × 2 (10 blobs plus 10 % uniform noise), eps 0.3, min_samples 5; "
            "LOF on 20,000 × 8 (6 blobs plus 2 % uniform outliers), n_neighbors 20. "
            "ours = the kernel on the decoded input; reference = `fit` on a NumPy array.")


if __name__ == "__main__":
    benchlib.main("ml", "ml kernels vs scikit-learn", build_cases, describe)
