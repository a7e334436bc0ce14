"""Vendor the five AEGIS HST galaxies of ``shared/real_galaxies`` into skgal's package
data, as one ``.npz`` (needs astropy; run once, from the repository root):

    python tools/vendor_real_galaxies.py ../shared/real_galaxies

The pixel values are copied unchanged (big-endian float32 to native float32); the
catalogue columns skgal uses are kept. The source is GalSim's
``tests/real_comparison_images`` (BSD licence, ``skgal/data/LICENSE-GalSim``).
"""

import os
import sys

import numpy as np
from astropy.io import fits

BANDS = ("F814W", "F606W")
OUT = os.path.join(os.path.dirname(__file__), "..", "skgal", "data", "aegis_galaxies.npz")


def main(folder):
    arrays = {}
    for band in BANDS:
        name = band[:-1] + "w"  # the files spell it F814w
        cat = fits.getdata(os.path.join(folder, f"AEGIS_{name}_catalog.fits"))
        idents = np.array(cat["IDENT"], dtype=np.int64)
        if "ident" in arrays and not np.array_equal(arrays["ident"], idents):
            raise SystemExit("the two bands' catalogues list different galaxies")
        arrays["ident"] = idents
        arrays["ra"] = np.array(cat["RA"], dtype=np.float64)
        arrays["dec"] = np.array(cat["DEC"], dtype=np.float64)
        for column in ("MAG", "PIXEL_SCALE", "NOISE_MEAN", "NOISE_VARIANCE", "stamp_flux"):
            arrays[f"{column.lower()}_{band}"] = np.array(cat[column], dtype=np.float64)
        for row in cat:
            image = fits.getdata(os.path.join(folder, row["GAL_FILENAME"]), ext=row["GAL_HDU"])
            psf = fits.getdata(os.path.join(folder, row["PSF_FILENAME"]), ext=row["PSF_HDU"])
            arrays[f"image_{band}_{row['IDENT']}"] = np.asarray(image, dtype=np.float32)
            arrays[f"psf_{band}_{row['IDENT']}"] = np.asarray(psf, dtype=np.float32)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "real_galaxies"))
