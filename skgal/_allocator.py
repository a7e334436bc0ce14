"""The C allocator's slack on its heaps, for rendering in threads beside TensorFlow.

Each render allocates and frees arrays of a few hundred kB to a few MB (a galaxy's
lattices, a batch's images). In a process with many threads, as TensorFlow's is, glibc
gives rendering threads heaps of their own and, on every free that leaves more than
``M_TOP_PAD`` (128 kB by default) at a heap's top, hands those pages back to the kernel,
so the next galaxy's arrays fault them in again. Training on fresh simulations took
155-160 page faults and 0.4 ms of kernel time an image that way, against 4 and 0.1 with
64 MiB of slack (the process's peak memory 45 MB more), and
``benchmarks/bench_fresh.py --conditions ground`` ran 850-946 images/s against 788-818
without it (two runs of two rounds each, alternating; the renders alone after a fit
1,506-1,734 against 1,156-1,360). :func:`keep_heap_slack` asks glibc for that slack,
once per process.

The environment decides first: glibc's own ``MALLOC_TOP_PAD_``, if set, is left alone,
and ``SKGAL_MALLOC_TOP_PAD`` (bytes; 0 leaves the allocator as it is) overrides the
default. Elsewhere than glibc (macOS, Windows, musl) nothing is done.

This module imports nothing from skgal.
"""

import ctypes
import functools
import os

#: glibc's mallopt parameter for the slack kept at a heap's top (malloc.h)
M_TOP_PAD = -2
#: the slack asked for by default, bytes
DEFAULT_TOP_PAD = 64 * 2**20


def _mallopt():
    """glibc's ``mallopt``, or None where the C library is not glibc."""
    try:  # glibc names itself here ("glibc 2.36"); platform.libc_ver() reads the binary
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        return ctypes.CDLL(None).mallopt
    except (ValueError, OSError, AttributeError):
        return None


def _wanted_pad():
    """The slack to ask for, from the environment: None to leave the allocator alone."""
    if "MALLOC_TOP_PAD_" in os.environ:  # the user's own setting, which glibc read at start
        return None
    value = os.environ.get("SKGAL_MALLOC_TOP_PAD")
    if value is None:
        return DEFAULT_TOP_PAD
    try:
        pad = int(value)
    except ValueError:
        pad = -1
    if pad < 0 or pad >= 2**31:
        raise ValueError(f"SKGAL_MALLOC_TOP_PAD must be a number of bytes in [0, 2**31) "
                         f"(0 leaves the C allocator as it is); got {value!r}")
    return pad or None


@functools.cache  # once per process (two threads asking at once ask glibc twice: harmless)
def keep_heap_slack():
    """Ask glibc to keep slack at the top of its heaps (see the module's docstring).

    Called where skgal renders in threads (the PSF route) and where it trains on fresh
    simulations; only the first call in a process acts.

    Returns
    -------
    int or None
        The slack set, bytes, or None where nothing was set (not glibc, the environment's
        choice, or glibc refused).
    """
    pad = _wanted_pad()
    mallopt = _mallopt() if pad is not None else None
    if mallopt is None:
        return None
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return pad if mallopt(M_TOP_PAD, pad) == 1 else None
