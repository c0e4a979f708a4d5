"""Coverage-guided fuzzing of sparselearn's file loaders with atheris.

The test suite runs a short, hypothesis-driven byte-mutation fuzz of the
same loaders (``tests/test_io.py``, ``tests/test_cli.py``); this harness is
for long runs.  Every input is written to a file and handed to each loader
for its kind; the only acceptable outcomes are success or a ``ValueError`` /
``TypeError`` (``sparselearn.io.UnreadableFileError`` is a ``ValueError``).
Anything else -- ``MemoryError``, ``BadZipFile``, ``RecursionError``, a
crash -- is reported by atheris as a finding, with the input saved as
``crash-*``.

Usage::

    pip install atheris
    mkdir -p corpus && python benchmarks/fuzz_loaders.py --seed-corpus corpus
    python benchmarks/fuzz_loaders.py corpus -max_total_time=240 -rss_limit_mb=2048

``--seed-corpus DIR`` writes one valid file of each kind (``.npz`` data,
``.npy`` table, CSV, a saved network and a saved model) into ``DIR`` and
exits; then atheris mutates them.  The first byte of each input picks the
kind, the rest is the file.  Other libFuzzer flags (``-runs=``, ``-jobs=``,
``-max_len=``) pass through.  ``-rss_limit_mb`` makes a loader that reads
past its memory budget a finding too.
"""
import os
import pathlib
import sys
import tempfile

import numpy as np

KINDS = ("data.npz", "data.npy", "data.csv", "net.npz", "model.npz")


def _loaders():
    from sparselearn import LowDegreeRegressor, SparseReLUNetwork, io

    return {"data.npz": [io.read_npz, io.read_xy], "data.npy": [io.read_npy, io.read_xy],
            "data.csv": [io.read_csv, io.read_xy], "net.npz": [SparseReLUNetwork.load],
            "model.npz": [LowDegreeRegressor.load]}


def write_seed_corpus(folder) -> None:
    """One valid file of each kind, prefixed by its kind byte."""
    from sparselearn import LowDegreeRegressor
    from sparselearn.targets import random_network

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(12, 3))
    y = X[:, 0] * X[:, 1]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        np.savez(scratch / "data.npz", X=X, y=y)
        np.save(scratch / "data.npy", np.c_[X, y])
        np.savetxt(scratch / "data.csv", np.c_[X, y], delimiter=",", header="a,b,c,y",
                   comments="")
        random_network(3, 2, random_state=0).save(scratch / "net.npz")
        LowDegreeRegressor(degree=1).fit(X, y).save(scratch / "model.npz")
        for index, kind in enumerate(KINDS):
            (folder / f"seed-{kind}").write_bytes(bytes([index]) + (scratch / kind).read_bytes())


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-corpus":
        write_seed_corpus(sys.argv[2])
        return
    import atheris

    with atheris.instrument_imports():
        loaders = _loaders()
    scratch = tempfile.mkdtemp(prefix="sparselearn-fuzz-")

    def one_input(data: bytes) -> None:
        if not data:
            return
        kind = KINDS[data[0] % len(KINDS)]
        path = os.path.join(scratch, kind)
        with open(path, "wb") as handle:
            handle.write(data[1:])
        for loader in loaders[kind]:
            try:
                loader(path)
            except (ValueError, TypeError):
                pass

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
