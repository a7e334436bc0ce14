import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))  # the test helpers (_reference)

# CI runs a short property search; `pytest --hypothesis-profile=thorough` runs a long one.
settings.register_profile("default", max_examples=25, deadline=None)
settings.register_profile("thorough", max_examples=400, deadline=None)
