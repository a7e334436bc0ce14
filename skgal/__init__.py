"""skgal: intrinsic 3-D shapes of galaxies from 2-D images, as scikit-learn estimators.

The public names are re-exported here; the modules behind them are private.
"""

__version__ = "0.1.0"

from ._align import AlignToMajorAxis, adaptive_moments
from ._augment import RandomDihedral
from ._conditions import CONDITIONS, ObservingConditions, observing_conditions
from ._distributions import (MultivariateNormalMixture, Normal, NormalMixture,
                             QuantileRecalibrated, Tabulated)
from ._likelihood import LikelihoodFitRegressor
from ._noise import CCDNoise, CorrelatedGaussianNoise, GaussianNoise, GaussianSNRNoise
from ._photometry import ToMagnitudes, robust_noise_sigma
from ._profile import scale_height, sersic_b, sersic_emissivity, total_flux
from ._psf import GaussianPSF, ImagePSF, MoffatPSF
from ._projection import ProjectionSelector
from ._simulator import SersicGalaxySimulator
from ._sources import BatchProcesses, FreshSimulations

__all__ = [
    "AlignToMajorAxis",
    "BatchProcesses",
    "CONDITIONS",
    "CCDNoise",
    "CorrelatedGaussianNoise",
    "FreshSimulations",
    "GaussianHead",
    "GaussianNoise",
    "GaussianPSF",
    "GaussianSNRNoise",
    "ImagePSF",
    "LikelihoodFitRegressor",
    "MixtureHead",
    "MoffatPSF",
    "MultivariateNormalMixture",
    "Normal",
    "NormalMixture",
    "ObservingConditions",
    "ProbabilisticQRegressor",
    "ProjectionSelector",
    "QuantileRecalibrated",
    "RandomDihedral",
    "SersicGalaxySimulator",
    "Tabulated",
    "ToMagnitudes",
    "robust_noise_sigma",
    "scale_height",
    "sersic_b",
    "sersic_emissivity",
    "total_flux",
    "observing_conditions",
    "adaptive_moments",
    "__version__",
]


def __getattr__(name):
    # The regressor and the heads import TensorFlow (seconds); load it only when it is asked for.
    if name == "ProbabilisticQRegressor":
        from ._regressor import ProbabilisticQRegressor

        return ProbabilisticQRegressor
    if name in ("GaussianHead", "MixtureHead"):
        from . import _heads

        return getattr(_heads, name)
    raise AttributeError(f"module 'skgal' has no attribute {name!r}")
