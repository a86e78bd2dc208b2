#!/usr/bin/env python3
"""ERC solve time at equal accuracy: this project's solver (rwa_agent_core::erc::solve, via the
`erc_time` example, release build) against the published reference, riskparityportfolio
(PyPI; C++/Eigen `vanilla.design`), on the same matrices in the same run.

    python3 -m venv /tmp/rpp && /tmp/rpp/bin/pip install riskparityportfolio tqdm jax numpy
    /tmp/rpp/bin/python scripts/erc-vs-riskparityportfolio.py

Matrices: riskparityportfolio's own example (U U' + I, U n x 0.7n with N(0, 0.1) entries:
well-conditioned) and a 5-factor model with mixed-sign loadings (strongly correlated). The
reference runs at tol 1e-14 (absolute, on w_i (Sigma w)_i / w'Sigma w against b_i = 1/n) with an
iteration cap high enough to converge; ours at 1e-12 relative on every share; both errors are
printed as max relative risk-contribution error, computed here the same way for both.
"""
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import timeit

import numpy as np
import warnings

warnings.filterwarnings("ignore")  # its optional SCA solver's missing quadprog
import riskparityportfolio as rpp  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def well_conditioned(n, rng):
    u = rng.normal(0.0, np.sqrt(0.1), size=(n, max(1, round(0.7 * n))))
    return u @ u.T + np.eye(n)


def factor_model(n, rng):
    b = rng.uniform(-0.1, 0.1, size=(n, 5))
    return b @ b.T + np.diag(0.0004 + 0.0004 * rng.uniform(size=n))


def rc_error(cov, w):
    rc = w * (cov @ w)
    share = rc / rc.sum()
    target = 1.0 / len(w)
    return np.max(np.abs(share - target) / target)


def main():
    subprocess.run(
        ["cargo", "build", "-q", "--release", "-p", "rwa-agent-core", "--example", "erc_time"],
        cwd=ROOT,
        check=True,
    )
    binary = os.path.join(ROOT, "target", "release", "examples", "erc_time")
    rng = np.random.default_rng(42)
    print(f"riskparityportfolio {importlib.metadata.version('riskparityportfolio')} "
          "(times include its Python call overhead, a few us)")
    print(f"{'matrix':<17} {'n':>4} {'ours':>10} {'sweeps+N':>9} {'RC err':>9} "
          f"{'reference':>11} {'RC err':>9} {'speedup':>8}")
    for family, make in [("well-conditioned", well_conditioned), ("factor model", factor_model)]:
        for n in [10, 25, 50, 100, 200, 300]:
            cov = make(n, rng)
            b = np.ones(n) / n
            maxiter = 1_000_000
            design = lambda: rpp.vanilla.design(cov, b, 1e-14, maxiter)
            first = timeit.timeit(design, number=1)
            number = max(1, min(200, int(0.3 / max(first, 1e-9))))
            ref_us = float(np.median(timeit.repeat(design, number=number, repeat=5))) / number * 1e6
            w_ref = design()
            with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
                np.savetxt(f, cov, delimiter=",", fmt="%.17g")
                path = f.name
            repeats = max(3, min(501, number * 5))
            out = subprocess.run([binary, path, "1e-12", str(repeats)], capture_output=True,
                                 text=True, check=True)
            os.unlink(path)
            ours = json.loads(out.stdout)
            print(f"{family:<17} {n:>4} {ours['us']:>8.1f}us "
                  f"{str(ours['sweeps']) + '+' + str(ours['iterations']):>9} "
                  f"{ours['max_relative_error']:>9.1e} {ref_us:>9.1f}us "
                  f"{rc_error(cov, w_ref):>9.1e} {ref_us / ours['us']:>7.2f}x")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
