"""Where the example scripts write their figures (a helper, not an example).

``python examples/NAME.py --out DIR`` writes into ``DIR``; without
``--out`` a script writes into a new temporary folder, so running an example
never overwrites the documentation's figures in ``docs/figures`` (those are
regenerated on purpose by ``python docs/make_figures.py``).  Every script
prints the path it wrote.
"""
import argparse
import pathlib
import tempfile

_CHOSEN = []


def output_dir() -> pathlib.Path:
    """The folder chosen by ``--out`` (created if missing), else a new temporary one."""
    if not _CHOSEN:
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument("--out", default=None)
        known, _ = parser.parse_known_args()
        if known.out is None:
            folder = pathlib.Path(tempfile.mkdtemp(prefix="sparselearn-figures-"))
            print(f"(no --out DIR given: figures go to the temporary folder {folder})")
        else:
            folder = pathlib.Path(known.out)
            folder.mkdir(parents=True, exist_ok=True)
        _CHOSEN.append(folder)
    return _CHOSEN[0]


def figure_path(name: str) -> pathlib.Path:
    """``output_dir() / name``."""
    return output_dir() / name
