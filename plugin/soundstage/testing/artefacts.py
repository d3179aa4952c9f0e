"""Files written beside a golden when an audio regression check fails.

``<basename>.obtained.wav`` (the new render), ``<basename>.residual.wav`` (obtained − golden,
float32 WAV like the golden) and ``<basename>.residual.png``: the residual's spectrogram (the
channel with the largest residual) above the 1/3-octave level differences of every channel.
The figure is drawn with matplotlib's object API on an Agg canvas (no pyplot state), so
parallel and headless runs need no display and leave no global backend changed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import metrics
from .comparison import channel_label
from .goldens import GoldenPaths, _atomic_write, write_audio
from .tolerances import Tolerance

__all__ = ["write_artefacts", "plot_residual"]


def write_artefacts(
    paths: GoldenPaths,
    obtained: np.ndarray,
    golden: np.ndarray,
    sample_rate: int,
    tolerance: Tolerance,
    title: str = "",
    channel_names: tuple[str, ...] | None = None,
) -> tuple[Path, Path, Path]:
    """Write obtained, residual and plot files of a failed check; return their paths.

    Parameters
    ----------
    paths : GoldenPaths
        Where to write (``paths.obtained``, ``paths.residual``, ``paths.plot``).
    obtained, golden : np.ndarray [shape=(channels, n), dtype=float32]
        The new render and the golden (same shape).
    sample_rate : int
        Sample rate in Hz.
    tolerance : Tolerance
        Drawn as limits on the band-difference plot.
    title : str
        Figure title (the failing comparisons).
    channel_names : tuple of str, optional
        A name per channel (driver or ear) for the plot's labels.

    Raises
    ------
    GoldenWriteError
        If a file cannot be written.
    """
    residual = (obtained.astype(np.float64) - golden.astype(np.float64)).astype(np.float32)
    write_audio(paths.obtained, obtained, sample_rate)
    write_audio(paths.residual, residual, sample_rate)
    _atomic_write(paths.plot, lambda handle: plot_residual(
        handle, obtained, golden, sample_rate, tolerance, title or paths.basename, channel_names))
    return paths.artefacts


def plot_residual(target, obtained, golden, sample_rate: int, tolerance: Tolerance, title: str,
                  channel_names: tuple[str, ...] | None = None) -> None:
    """Draw the residual spectrogram and the band differences as a PNG into ``target``.

    Parameters
    ----------
    target : path or binary file object
        Where the PNG goes.
    obtained, golden : np.ndarray [shape=(channels, n)]
    sample_rate : int
        Sample rate in Hz.
    tolerance : Tolerance
        ``band_db`` is drawn as ± limits when set.
    title : str
        Figure title.
    channel_names : tuple of str, optional
        A name per channel for the labels.
    """
    import scipy.signal
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    residual = obtained.astype(np.float64) - golden.astype(np.float64)
    names = channel_names if channel_names is not None and len(channel_names) == obtained.shape[0] else None
    channel = int(np.argmax(np.mean(residual**2, axis=-1)))
    figure = Figure(figsize=(9, 7), layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1)

    segment = int(min(1024, max(16, residual.shape[-1] // 8)))
    frequencies_hz, times_s, power = scipy.signal.spectrogram(
        residual[channel], fs=sample_rate, window="hann", nperseg=segment,
        noverlap=segment // 2, scaling="spectrum", mode="psd",
    )
    level_dbfs = metrics.power_to_dbfs(power)
    ceiling = float(np.max(level_dbfs))
    mesh = top.pcolormesh(times_s, frequencies_hz, level_dbfs, shading="nearest",
                          vmin=ceiling - 100.0, vmax=ceiling, cmap="magma")
    figure.colorbar(mesh, ax=top, label="residual level (dBFS per bin)")
    top.set_xlabel("time (s)")
    top.set_yscale("log")
    top.set_ylim(max(20.0, float(frequencies_hz[1])), sample_rate / 2.0)
    top.set_ylabel("frequency (Hz)")
    top.set_title(f"residual obtained − golden, {channel_label(channel, names)}")

    centres_hz, obtained_db = metrics.band_levels_dbfs(obtained, sample_rate)
    _, golden_db = metrics.band_levels_dbfs(golden, sample_rate)
    difference = obtained_db - golden_db
    if tolerance.band_floor_dbfs is not None:
        quiet = np.maximum(obtained_db, golden_db) < tolerance.band_floor_dbfs
        difference = np.where(quiet, np.nan, difference)
    for index, row in enumerate(difference):
        bottom.semilogx(centres_hz, row, marker="o", markersize=3, label=channel_label(index, names))
    if tolerance.band_db is not None:
        for sign in (-1, 1):
            bottom.axhline(sign * tolerance.band_db, color="red", linestyle="--", linewidth=1)
    bottom.axhline(0.0, color="black", linewidth=0.5)
    bottom.set_xlabel("1/3-octave band centre (Hz)")
    bottom.set_ylabel("obtained − golden (dB)")
    bottom.set_title("band level difference" + (
        f" (limit ±{tolerance.band_db:g} dB)" if tolerance.band_db is not None else ""))
    if difference.shape[0] <= 8:
        bottom.legend(fontsize="small")
    bottom.grid(True, which="both", alpha=0.3)
    figure.suptitle(title, fontsize="small")
    figure.savefig(target, format="png", dpi=80)
