"""Figures of an :class:`~.analysis.Analysis` (matplotlib, Agg backend, PNG files).

* ``cancellation.png`` — χ(f) of the crosstalk cancellation alone at the sweet spot and with the
  head moved sideways, the target curve, the unprocessed enclosure and the ±30° reference;
* ``interaural.png`` — ILD per band of a hard-left source: processed, unprocessed, reference;
* ``beam_polar.png`` — the centre beam's horizontal pattern per band, beside the plain centre;
* ``azimuth_vs_pan.png`` — image azimuth over a constant-power pan sweep;
* ``zone.png`` — listening-zone maps of χ and of the hard-left image azimuth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_figures", "FIGURE_NAMES"]

FIGURE_NAMES = ("cancellation.png", "interaural.png", "beam_polar.png", "azimuth_vs_pan.png", "zone.png")
_COLOURS = {"processed": "tab:blue", "unprocessed": "tab:grey", "reference": "tab:green"}
#: Bands (Hz) shown in the polar plots of the centre beam.
POLAR_BANDS_HZ = (500.0, 1000.0, 2000.0, 4000.0)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _title(analysis, what: str) -> str:
    return f"{analysis.preset} — {what}\n(room: {analysis.room}, head: {analysis.head}, {analysis.sample_rate / 1000:g} kHz)"


def _cancellation(analysis, plt, path: Path) -> None:
    c = analysis.curves
    f = np.asarray(c["bands_hz"])
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.semilogx(f, c["target_db"], "k--", label="target curve")
    styles = {"processed_ctc": ("tab:blue", "-", "CTC alone, sweet spot"),
              "processed_ctc_-5cm": ("tab:orange", "-", "CTC alone, head 5 cm right"),
              "processed_ctc_+5cm": ("tab:orange", ":", "CTC alone, head 5 cm left"),
              "processed_ctc_-10cm": ("tab:red", "-", "CTC alone, head 10 cm right"),
              "processed_ctc_+10cm": ("tab:red", ":", "CTC alone, head 10 cm left"),
              "unprocessed": ("tab:grey", "-", "unprocessed enclosure"),
              "reference": ("tab:green", "-", "±30° loudspeaker pair")}
    for key, (colour, style, label) in styles.items():
        if key in c["chi_db"]:
            ax.semilogx(f, np.minimum(c["chi_db"][key], 80.0), color=colour, linestyle=style, label=label)
    ax.set_xlabel("frequency (Hz, one-third-octave band centres)")
    ax.set_ylabel("channel separation χ (dB, ipsilateral / contralateral ear)")
    ax.set_title(_title(analysis, "crosstalk cancellation"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _interaural(analysis, plt, path: Path) -> None:
    c = analysis.curves
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, ild in c["ild_db"].items():
        ax.semilogx(c["bands_hz"], np.clip(ild, -80, 80), color=_COLOURS[name], label=name)
    ax.set_xlabel("frequency (Hz, one-third-octave band centres)")
    ax.set_ylabel("ILD of a hard-left source (dB, left / right ear)")
    ax.set_title(_title(analysis, "interaural level difference, full chain"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _beam_polar(analysis, plt, path: Path) -> None:
    beam = analysis.curves["beam"]
    fig, axes = plt.subplots(1, len(POLAR_BANDS_HZ), subplot_kw={"projection": "polar"}, figsize=(14, 4.2))
    if beam is None:
        for ax in axes:
            ax.set_axis_off()
        fig.suptitle(f"{analysis.preset}: no centre beam (headphones)")
    else:
        f, az = np.asarray(beam["frequencies_hz"]), np.deg2rad(beam["azimuths_deg"])
        for ax, band in zip(axes, POLAR_BANDS_HZ):
            i = int(np.argmin(np.abs(f - band)))
            ax.plot(az, np.maximum(np.asarray(beam["pattern_db"])[:, i], -40), color="tab:blue", label="beam")
            ax.plot(az, np.maximum(np.asarray(beam["plain_pattern_db"])[:, i], -40), color="tab:grey",
                    linestyle="--", label="plain centre feed")
            ax.set_theta_zero_location("N")
            ax.set_rlim(-40, 6)
            ax.set_rticks([-30, -20, -10, 0])
            ax.set_title(f"{f[i]:.0f} Hz", pad=12)
        axes[0].legend(loc="lower left", bbox_to_anchor=(-0.3, -0.25), fontsize=8)
        fig.suptitle(_title(analysis, "centre beam, horizontal far field (dB re the listener direction 0°; "
                                      "+90° = listener's left)"), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _azimuth_vs_pan(analysis, plt, path: Path) -> None:
    c = analysis.curves
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for name, azimuths in c["pan_azimuth_deg"].items():
        ax.plot(c["pans"], azimuths, "o-", color=_COLOURS[name], label=name)
    ax.axhline(30, color="k", linewidth=0.5, linestyle=":")
    ax.axhline(-30, color="k", linewidth=0.5, linestyle=":")
    ax.set_xlabel("constant-power pan position (−1 hard right … +1 hard left)")
    ax.set_ylabel("image azimuth (degrees, positive to the left)")
    ax.set_title(_title(analysis, "image azimuth vs pan"))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _zone(analysis, plt, path: Path) -> None:
    zone = analysis.curves["zone"]
    lat_cm, fa_cm = 100 * np.asarray(zone["lateral_m"]), 100 * np.asarray(zone["fore_aft_m"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, key, label, cmap in ((axes[0], "chi_db", "χ, CTC alone (dB)", "viridis"),
                                 (axes[1], "azimuth_deg", "hard-left image azimuth (°)", "magma")):
        values = np.asarray(zone[key], dtype=float).T  # rows fore/aft, columns lateral
        mesh = ax.pcolormesh(lat_cm, fa_cm, np.clip(values, -90, 90), shading="nearest", cmap=cmap)
        fig.colorbar(mesh, ax=ax, label=label)
        inside = np.asarray(zone["in_zone"], dtype=bool).T
        ys, xs = np.nonzero(inside)
        ax.plot(lat_cm[xs], fa_cm[ys], "w+", markersize=8, label="in the zone")
        ax.plot([0], [0], "r*", markersize=12, label="design position")
        ax.set_xlabel("head offset to the listener's left (cm)")
        ax.set_ylabel("head offset toward the enclosure (cm)")
        ax.legend(loc="upper right", fontsize=8)
    area = analysis.metrics["zone"]["area_m2"]
    fig.suptitle(_title(analysis, f"listening zone (χ ≥ 10 dB and image ≥ 20°): {area:.3f} m²"), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_figures(analysis, directory) -> list[Path]:
    """Write the figures of ``analysis`` as PNG files into ``directory`` (created if needed).

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of :data:`FIGURE_NAMES`.
    """
    plt = _pyplot()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FIGURE_NAMES]
    for draw, path in zip((_cancellation, _interaural, _beam_polar, _azimuth_vs_pan, _zone), paths):
        draw(analysis, plt, path)
    return paths
