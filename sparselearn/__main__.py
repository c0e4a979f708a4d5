"""``python -m sparselearn``: the command line of :mod:`sparselearn.cli`."""
import sys

from .cli import main

sys.exit(main())
