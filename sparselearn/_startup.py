"""Ctrl-C while the ``sparselearn`` command is still starting.

Importing the package (NumPy, scikit-learn, the compiled kernels) takes
about a second before :func:`sparselearn.cli.main` has its own interrupt
handling in place; a Ctrl-C in that window would print Python's
``KeyboardInterrupt`` traceback.  So the package calls :func:`guard` before
any other import: when this process *is* the command (the ``sparselearn``
console script, or ``python -m sparselearn``) it installs a SIGINT handler
that prints one line and ends the process with exit code 130 (nothing has
been written yet, so there is nothing to clean up).  :func:`release`, called
by ``cli.main`` once its ``try ... except KeyboardInterrupt`` is active,
restores Python's default handler.  A program importing sparselearn as a
library is left alone.

Standard library only: this runs before NumPy is imported.
"""
from __future__ import annotations

import functools
import os
import re
import signal
import sys

# 128 + SIGINT, as sparselearn.cli.EXIT_INTERRUPTED (not imported: too heavy here).
_EXIT_INTERRUPTED = 130


def _module_after_dash_m(orig_argv) -> str | None:
    """The module named by ``-m`` in the interpreter's own arguments."""
    for i, argument in enumerate(orig_argv[1:], start=1):
        if argument == "-m":
            return orig_argv[i + 1] if i + 1 < len(orig_argv) else None
        if argument.startswith("-m"):
            return argument[2:]
        if argument == "-c" or not argument.startswith("-"):
            return None
    return None


@functools.lru_cache(maxsize=None)
def is_command_line() -> bool:
    """Whether this process is the ``sparselearn`` command.  Decided once, when
    the package is imported (:func:`guard`): ``python -m`` rewrites
    ``sys.argv[0]`` afterwards."""
    if not sys.argv:
        return False
    if sys.argv[0] == "-m":  # python -m NAME: argv[0] is "-m" while NAME's package imports
        return _module_after_dash_m(getattr(sys, "orig_argv", [])) == "sparselearn"
    script = re.sub(r"(-script\.pyw?|\.exe)$", "", os.path.basename(sys.argv[0]))
    return script == "sparselearn"


def _interrupted(signum, frame):
    command = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1].isidentifier() else None
    try:
        sys.stderr.write(f"sparselearn{' ' + command if command else ''}: interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(_EXIT_INTERRUPTED)


def guard() -> None:
    """For the ``sparselearn`` command only: until :func:`release`, Ctrl-C
    prints one line and exits with code 130."""
    if is_command_line() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        try:
            signal.signal(signal.SIGINT, _interrupted)
        except ValueError:  # not the main thread
            pass


def release() -> None:
    """Put Python's default SIGINT handler back (if :func:`guard` set one)."""
    if signal.getsignal(signal.SIGINT) is _interrupted:
        signal.signal(signal.SIGINT, signal.default_int_handler)
