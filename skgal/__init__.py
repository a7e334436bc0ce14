"""skgal: intrinsic 3-D shapes of galaxies from 2-D images, as scikit-learn estimators.

The public names are re-exported here; the modules behind them are private.
"""

__version__ = "0.1.0"

from ._profile import scale_height, sersic_b, sersic_emissivity
from ._simulator import SersicGalaxySimulator

__all__ = [
    "SersicGalaxySimulator",
    "scale_height",
    "sersic_b",
    "sersic_emissivity",
    "__version__",
]
