"""Observing conditions by name: the thesis's ideal images, a seeing-limited ground
survey, and a space telescope.

Each is a forward model in pixel units, from published numbers (the sources are in
:data:`CONDITIONS` and in the user guide's "Observing" page):

``"ideal"``
    The thesis's images: no PSF, no noise, log magnitudes, ``I_e`` in [0.1, 1].
``"ground"``
    SDSS's r band. Pixels 0.396″ (SDSSConstants, ``arcSecPerPixel = 0.39598``); seeing
    the DR7 median r-band PSF width, 1.43″ (SDSS DR7, "Seeing and sky brightness"),
    as a Moffat with Kolmogorov turbulence's β = 4.765 (Trujillo et al. 2001); sky the
    median r-band 20.86 mag/arcsec² (same page); depth r = 23.1, the 5σ point-source
    limit (SDSSConstants, ``limitingMagnitudes_r``; York et al. 2000). Images in
    electrons, sky-dominated Poisson noise (:class:`~skgal.CCDNoise`, gain 1).
``"space"``
    HST ACS/WFC F814W as drizzled for AEGIS (the five galaxies GalSim prepared,
    ``shared/real_galaxies``): pixels 0.03″ (the catalogue's ``PIXEL_SCALE``); the PSF
    the Tiny Tim model of galaxy 14886, vendored (GalSim's BSD licence,
    ``skgal/data/LICENSE-GalSim``), about 3.9 pixels (0.12″) wide at half maximum; white
    noise of the catalogue's median ``NOISE_VARIANCE`` per pixel; the zero point the
    catalogue's median of ``MAG + 2.5 log10(stamp_flux)``, 26.13. The 5σ point-source
    depth follows from those.

The photometric scale: a point source at the depth has a matched-filter signal-to-noise
ratio of 5 against the sky, ``(C / sigma_sky)^2 / NEA = 25`` with ``NEA = 1 / sum p^2`` the
PSF's noise-equivalent area. That fixes the counts of magnitude ``m``,
``C = 10^(-0.4 (m - ZP))``. The brightness prior is then an ``I_e`` range such that a
reference disc (``R_e = 15`` pixels, ``n = 1``, ``q = 0.5``) spans total magnitudes from
5 to 2.5 magnitudes brighter than the depth: the same factor of 10 as the thesis's
[0.1, 1]. Images are in counts per pixel, magnitudes per arcsec² (asinh).

This module sits above the scikit-learn faces: it imports the simulator, the PSFs and
the observation steps.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ._noise import CCDNoise, GaussianNoise
from ._photometry import ToMagnitudes
from ._profile import total_flux
from ._psf import ImagePSF, MoffatPSF
from ._simulator import SersicGalaxySimulator

__all__ = ["CONDITIONS", "ObservingConditions", "observing_conditions"]

_DATA = os.path.join(os.path.dirname(__file__), "data")
#: the reference disc that the brightness prior is set by: R_e (pixels), n, q
REFERENCE_DISC = (15.0, 1.0, 0.5)
#: ``pixel_tolerance="noise"``: the render's aim as a share of an empty pixel's noise
NOISE_TOLERANCE_SHARE = 1e-3


@dataclass(frozen=True)
class ObservingConditions:
    """Named observing conditions: a forward model with its published sources.

    Use :func:`observing_conditions` to get one by name.

    Attributes
    ----------
    name, description : str
    pixel_scale : float or None
        Arcseconds per pixel (None: the thesis's abstract pixels).
    psf : PSF or None
        In pixels.
    noise : transformer or None
        The noise step (without a seed; :meth:`forward_model` gives it one).
    zero_point : float or None
        Magnitude of one count (the images' unit, per pixel).
    depth : float or None
        The 5σ point-source limiting magnitude.
    sky_brightness : float or None
        Magnitudes per square arcsecond.
    intensity_range : (float, float)
        The prior of ``I_e``, in counts per pixel³ (the thesis's for ``"ideal"``).
    sources : tuple of str
    """

    name: str
    description: str
    pixel_scale: float = None
    psf: object = None
    noise: object = None
    zero_point: float = None
    depth: float = None
    sky_brightness: float = None
    intensity_range: tuple = (0.1, 1.0)
    sources: tuple = field(default_factory=tuple)

    def forward_model(self, *, image_size=64, inclinations="isotropic",
                      position_angle="uniform", max_offset=0.0, pixel_tolerance=None,
                      random_state=None):
        """A Pipeline that renders and observes galaxies under these conditions.

        Parameters
        ----------
        image_size : int, default=64
        inclinations, position_angle, max_offset
            As :class:`~skgal.SersicGalaxySimulator`'s. For ``"ideal"`` the defaults are
            the thesis's: four inclinations (0, 30, 60, 90) at position angle 0.
        pixel_tolerance : float, "noise" or None, default=None
            The render's allowed error in a pixel, in counts (the simulator's
            ``pixel_tolerance``). ``None``: the accuracy promise (1e-3 relative for
            every pixel brighter than 1e-4 of the peak). ``"noise"``:
            ``NOISE_TOLERANCE_SHARE`` (1e-3) of the noise in an empty pixel, for
            training on fresh simulations, where the images' noise is all the network
            sees: a bias of 1e-3 sigma in every pixel would move an image's chi-square
            by 4096 x 1e-6 = 0.004, and the errors measured are ten times smaller
            still (the user guide, "Observing"). ``"ideal"`` has no noise to tie it to.
        random_state : int or None, default=None
            The noise's seed.

        Returns
        -------
        Pipeline
            ``render`` (a :class:`~skgal.SersicGalaxySimulator` whose ``sample`` draws
            from this prior), then ``noise`` and ``photometry`` where they apply.

        Examples
        --------
        >>> from skgal import observing_conditions
        >>> model = observing_conditions("ground").forward_model(image_size=16,
        ...                                                      random_state=0)
        >>> [name for name, _ in model.steps]
        ['render', 'noise', 'photometry']
        >>> X, q = model["render"].sample(2, random_state=0)
        >>> model.transform(X).shape
        (2, 16, 16, 1)
        """
        if isinstance(pixel_tolerance, str):
            if pixel_tolerance != "noise":
                raise ValueError(f"pixel_tolerance must be a number > 0, 'noise' or None; "
                                 f"got {pixel_tolerance!r}")
            if self.noise is None:
                raise ValueError(f"pixel_tolerance='noise': the {self.name!r} conditions "
                                 "have no noise to set it by; give a number or None")
            pixel_tolerance = noise_tolerance(self.noise)
        if self.name == "ideal":
            inclinations = (0.0, 30.0, 60.0, 90.0) if inclinations == "isotropic" \
                else inclinations
            position_angle = 0.0 if position_angle == "uniform" else position_angle
            return Pipeline([("render", SersicGalaxySimulator(
                image_size=image_size, inclinations=inclinations,
                position_angle=position_angle, max_offset=max_offset,
                pixel_tolerance=pixel_tolerance))])
        render = SersicGalaxySimulator(
            image_size=image_size, inclinations=inclinations, position_angle=position_angle,
            max_offset=max_offset, psf=self.psf, pixel_tolerance=pixel_tolerance,
            output="flux", intensity_range=self.intensity_range)
        # mag / arcsec^2; without a zero point (a stamp in counts), relative to one count
        zero_point = 0.0 if self.zero_point is None else self.zero_point
        surface = zero_point + 5.0 * math.log10(self.pixel_scale)
        return Pipeline([
            ("render", render),
            ("noise", clone(self.noise).set_params(random_state=random_state)),
            ("photometry", ToMagnitudes(kind="asinh", zero_point=surface)),
        ])


def noise_tolerance(noise):
    """``NOISE_TOLERANCE_SHARE`` of a noise step's ``empty_pixel_sigma()``: a render's
    ``pixel_tolerance`` that its noise hides.

    Raises
    ------
    ValueError
        When the noise level depends on the image (:class:`~skgal.GaussianSNRNoise`).
    """
    sigma = noise.empty_pixel_sigma()
    if sigma is None or not sigma > 0:
        raise ValueError(
            f"pixel_tolerance='noise' needs a noise whose level is fixed and > 0 "
            f"(CCDNoise with a sky or read noise, GaussianNoise); {noise!r} has "
            f"{'a level set by each image' if sigma is None else 'none'}: give a number")
    return NOISE_TOLERANCE_SHARE * sigma


def _counts(magnitude, zero_point):
    return 10.0 ** (-0.4 * (magnitude - zero_point))


def _intensity_range(depth, zero_point):
    """I_e such that the reference disc spans depth - 5 to depth - 2.5 magnitudes."""
    unit = total_flux(1.0, *REFERENCE_DISC)
    return (_counts(depth - 2.5, zero_point) / unit, _counts(depth - 5.0, zero_point) / unit)


def _ground():
    pixel, fwhm, beta, sky, depth = 0.39598, 1.43, 4.765, 20.86, 23.1
    psf = MoffatPSF(fwhm / pixel, beta)
    # Moffat: sum p^2 = (beta - 1)^2 / (pi alpha^2 (2 beta - 1)), in pixels
    nea = math.pi * psf.alpha ** 2 * (2 * beta - 1) / (beta - 1) ** 2
    # 25 = C_lim^2 / (S nea), C = 10^(-0.4 (m - ZP)), S = 10^(-0.4 (mu - ZP)) pixel^2:
    # solve for ZP (electrons)
    zero_point = 2.5 * math.log10(25.0 * nea * pixel ** 2 * 10 ** (-0.4 * sky)
                                  * 10 ** (0.8 * depth))
    sky_counts = _counts(sky, zero_point) * pixel ** 2
    return ObservingConditions(
        name="ground",
        description="a seeing-limited ground survey: SDSS, r band",
        pixel_scale=pixel, psf=psf, noise=CCDNoise(sky_level=sky_counts, gain=1.0),
        zero_point=zero_point, depth=depth, sky_brightness=sky,
        intensity_range=_intensity_range(depth, zero_point),
        sources=("pixel scale: SDSS DR2 SDSSConstants, arcSecPerPixel = 0.39598",
                 "PSF width: SDSS DR7 'Seeing and sky brightness', r-band median 1.43 arcsec",
                 "Moffat beta = 4.765: Trujillo et al. 2001, MNRAS 328, 977",
                 "sky: SDSS DR7 'Seeing and sky brightness', r-band median 20.86 mag/arcsec2",
                 "depth: SDSSConstants limitingMagnitudes_r = 23.1 (York et al. 2000, AJ "
                 "120, 1579)"))


def _space():
    pixel, zero_point, variance = 0.03, 26.13, 6.55e-6
    with np.load(os.path.join(_DATA, "aegis_galaxies.npz")) as data:
        samples = data["psf_F814W_14886"].astype(np.float64)
    psf = ImagePSF(samples, pixel_scale=1.0)
    sigma = math.sqrt(variance)
    nea = 1.0 / float(np.sum(psf.image ** 2))
    depth = zero_point - 2.5 * math.log10(5.0 * sigma * math.sqrt(nea))
    sky = None  # drizzled, sky-subtracted: the noise is given, not the sky
    return ObservingConditions(
        name="space",
        description="a space telescope: HST ACS/WFC F814W, drizzled to 0.03 arcsec (AEGIS)",
        pixel_scale=pixel, psf=psf, noise=GaussianNoise(sigma=sigma),
        zero_point=zero_point, depth=depth, sky_brightness=sky,
        intensity_range=_intensity_range(depth, zero_point),
        sources=("pixel scale, noise variance (median 6.55e-6 per pixel) and zero point "
                 "(median of MAG + 2.5 log10(stamp_flux) = 26.13): GalSim's AEGIS F814W "
                 "catalogue (tests/real_comparison_images), BSD licence",
                 "PSF: the Tiny Tim model of AEGIS galaxy 14886, from the same files"))


def _ideal():
    return ObservingConditions(
        name="ideal", description="the thesis's images: no PSF, no noise, log magnitudes",
        sources=("the thesis, section 3: I_e in [0.1, 1], R_e in [5, 30] pixels, 64 x 64",))


_FACTORIES = {"ideal": _ideal, "ground": _ground, "space": _space}
#: the names of the conditions
CONDITIONS = tuple(_FACTORIES)


def observing_conditions(name):
    """The observing conditions called ``name``: ``"ideal"``, ``"ground"`` or ``"space"``.

    Parameters
    ----------
    name : str

    Returns
    -------
    ObservingConditions

    Raises
    ------
    ValueError
        An unknown name; the message lists the known ones.

    Examples
    --------
    >>> from skgal import observing_conditions
    >>> ground = observing_conditions("ground")
    >>> round(ground.psf.fwhm, 2), ground.depth  # pixels, magnitudes
    (3.61, 23.1)
    """
    if name not in _FACTORIES:
        raise ValueError(f"unknown observing conditions {name!r}; known: {list(CONDITIONS)}")
    return _FACTORIES[name]()
