import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))  # the test helpers (_reference)

# CI runs a short, derandomized property search (the same examples every run, so a
# submission never fails by chance); `pytest --hypothesis-profile=thorough` runs a long,
# random one.
settings.register_profile("default", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=400, deadline=None)
