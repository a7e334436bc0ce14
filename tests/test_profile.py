import math

import numpy as np
import pytest
from scipy import integrate, optimize
from scipy.special import gamma

from skgal import scale_height, sersic_b, sersic_emissivity


def _b_by_root_finding(n):
    """Independent root of Gamma(2n) = 2 gamma(2n, b): lower incomplete gamma by quad."""
    def lower_gamma(b):
        return integrate.quad(lambda t: t ** (2 * n - 1) * math.exp(-t), 0, b,
                              epsabs=0, epsrel=1e-13, limit=200)[0]
    return optimize.brentq(lambda b: gamma(2 * n) - 2 * lower_gamma(b), 1e-6, 50, xtol=1e-14)


@pytest.mark.parametrize("n", [0.5, 0.73, 1.0, 1.5, 2.0, 4.0])
def test_b_n_solves_the_defining_equation(n):
    assert sersic_b(n) == pytest.approx(_b_by_root_finding(n), rel=1e-10)


def test_b_n_reference_values():
    # ln 2 for the Gaussian; the literature's b_1 and b_4 (Ciotti & Bertin 1999)
    assert sersic_b(0.5) == pytest.approx(math.log(2), rel=1e-12)
    assert sersic_b(1.0) == pytest.approx(1.678346990, rel=1e-9)
    assert sersic_b(4.0) == pytest.approx(7.669249443, rel=1e-9)


def test_b_n_vectorised_and_validated():
    np.testing.assert_allclose(sersic_b([0.5, 1.0]), [sersic_b(0.5), sersic_b(1.0)])
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="sersic index"):
            sersic_b(bad)


def test_half_light_radius_encloses_half_the_disc_light():
    n, re = 1.3, 7.0
    b = sersic_b(n)
    light = lambda r: math.exp(-b * ((r / re) ** (1 / n) - 1)) * r  # noqa: E731
    inner = integrate.quad(light, 0, re)[0]
    total = integrate.quad(light, 0, np.inf)[0]
    assert inner / total == pytest.approx(0.5, rel=1e-9)


def test_emissivity_and_scale_height():
    assert scale_height(10.0, 0.5) == pytest.approx(5.0 / 1.177)
    kw = dict(intensity=0.7, effective_radius=10.0, sersic_index=1.0, flattening=0.5)
    assert sersic_emissivity(10.0, 0.0, **kw) == pytest.approx(0.7)
    h = 5.0 / 1.177
    assert sersic_emissivity(10.0, h, **kw) == pytest.approx(0.7 * math.exp(-0.5))
