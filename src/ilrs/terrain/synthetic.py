"""A SYNTHETIC large DEM for scale tests and benchmarks only: never for a physical claim.

No DEM larger than the embedded ones can be brought in here (issue 14), so scale is tested on the embedded 240 m
LOLA DEM upsampled (bilinearly) by an integer factor, with fractal detail added at the scales the upsampling
cannot hold: a Gaussian random field with a power-law spectrum (power ~ k**-beta, beta = 2 + 2 H with Hurst
exponent H = 0.8, an rms of a few metres at the coarse cell's wavelength), high-passed above the coarse cell so
the large-scale LOLA relief is kept. Deterministic for a seed. Every product made from it carries "SYNTHETIC".
"""

from __future__ import annotations

import numpy as np

from ilrs.terrain.dem import Dem

#: The label every synthetic DEM, file and figure carries.
SYNTHETIC_LABEL = "SYNTHETIC: embedded 240 m LOLA DEM upsampled with fractal detail; scale tests only, no physical use"


def synthetic_dem(
    base: Dem, factor: int = 4, hurst: float = 0.8, rms_m: float = 5.0, seed: int = 14, dtype=np.float32
) -> Dem:
    """``base`` upsampled ``factor`` times (cells ``base.dx / factor``) with fractal detail [m]; see the module.

    Memory: about 12 bytes per output cell (the field's spectrum in complex64 and the result).
    """
    from scipy import fft

    rows, cols = base.shape
    n_r, n_c = rows * factor, cols * factor
    # bilinear upsampling onto the fine cell centres: fine cell i sits at coarse index (i + 0.5) / f - 0.5
    rr = np.clip((np.arange(n_r) + 0.5) / factor - 0.5, 0, rows - 1)
    cc = np.clip((np.arange(n_c) + 0.5) / factor - 0.5, 0, cols - 1)
    r0 = np.minimum(rr.astype(int), rows - 2)
    c0 = np.minimum(cc.astype(int), cols - 2)
    fr = (rr - r0).astype(dtype)[:, None]
    fc = (cc - c0).astype(dtype)[None, :]
    z = base.heights_m.astype(dtype)
    top = z[r0][:, c0] * (1 - fc) + z[r0][:, c0 + 1] * fc
    bottom = z[r0 + 1][:, c0] * (1 - fc) + z[r0 + 1][:, c0 + 1] * fc
    out = top * (1 - fr) + bottom * fr
    del top, bottom
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_r, n_c), dtype=np.float32)
    spec = fft.rfft2(noise, workers=2)
    del noise
    ky = np.fft.fftfreq(n_r).astype(np.float32)[:, None]
    kx = np.fft.rfftfreq(n_c).astype(np.float32)[None, :]
    k = np.sqrt(ky * ky + kx * kx)
    k_cut = 1.0 / (2.0 * factor)  # the coarse grid's Nyquist wavelength: detail only below it
    beta = 2.0 + 2.0 * hurst
    with np.errstate(divide="ignore"):
        amp = np.where(k > k_cut, (k / k_cut) ** (-beta / 2.0), 0.0).astype(np.float32)
    spec *= amp
    del amp, k
    detail = fft.irfft2(spec, s=(n_r, n_c), workers=2).astype(dtype)
    del spec
    detail *= np.float32(rms_m / max(float(detail.std()), 1e-12))
    out += detail
    x0 = base.x0 - base.dx / 2 + base.dx / (2 * factor)
    y0 = base.y0 - base.dy / 2 + base.dy / (2 * factor)
    return Dem(
        out,
        x0,
        y0,
        base.dx / factor,
        base.dy / factor,
        base.projection,
        f"SYNTHETIC {base.name} x{factor}",
        "",
    )
