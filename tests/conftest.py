"""Test configuration shared by the whole suite.

Hypothesis runs derandomized (examples are a fixed function of the test),
so CI is deterministic, and without a per-example deadline, since the
2-core CI machine's timings are not what the tests are about.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=200)
# The per-variant runs of the kernel twin tests (tests/test_kernels.py) repeat
# tests the main run already made on the default variant; fewer examples.
settings.register_profile("variant", parent=settings.get_profile("ci"), max_examples=6)
settings.load_profile(os.environ.get("SPARSELEARN_HYPOTHESIS_PROFILE", "ci"))
