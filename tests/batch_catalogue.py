"""A small catalogue for the batch tests: 3 one-second files × 2 presets × 2 parameter sets = 12 jobs,
and the single renders (``soundstage render``) every batch output must equal bit for bit."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile

from soundstage import test_mix
from soundstage.cli import main

SAMPLE_RATE = 48000
INPUTS = ("alpha", "bravo", "charlie")
#: A user preset (edited by the tests) and a built-in one; both design quickly.
USER_PRESET = 'schema_version = 1\nextends = "compact-speaker"\nname = "kitchen"\n[design]\nmax_gain_db = {gain}\n'
PARAMS = {"wide": {"width_deg": 30}, "narrow": {"width_deg": 20, "centre_gain_db": -3.0, "bypass": ["beam"]}}
CLI_PARAMS = {"wide": ["width_deg=30"], "narrow": ["width_deg=20", "centre_gain_db=-3", "bypass=beam"]}
PRESETS = ("laptop", "kitchen")


def write_inputs(directory: Path, names=INPUTS, seconds: float = 1.0) -> list[Path]:
    """Stereo float WAV files of the test mix, each shifted and scaled differently."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, name in enumerate(names):
        mix = test_mix(float(SAMPLE_RATE), seconds)
        noise = np.random.default_rng(i).standard_normal(mix.shape).astype(np.float32) * 0.02
        audio = np.roll(mix, 997 * i, axis=1) * (0.8 - 0.15 * i) + noise
        path = directory / f"{name}.wav"
        soundfile.write(path, audio.T, SAMPLE_RATE, subtype="FLOAT")
        paths.append(path)
    return paths


def write_catalogue(root: Path, gain: float = 12, extra_inputs: str = "") -> Path:
    """Inputs in ``root/music``, the user preset ``root/kitchen.toml`` and ``root/catalogue.toml``."""
    write_inputs(root / "music")
    (root / "kitchen.toml").write_text(USER_PRESET.format(gain=gain))
    params = "".join(f"[params.{name}]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in values.items())
                     for name, values in PARAMS.items())
    manifest = root / "catalogue.toml"
    manifest.write_text(f'inputs = ["music/*.wav"{extra_inputs}]\npresets = ["laptop", "kitchen.toml"]\n'
                        f'[output]\npattern = "{{preset}}/{{params}}/{{stem}}.{{ext}}"\n{params}')
    return manifest


def output_path(out: Path, name: str, preset: str, params: str) -> Path:
    return out / preset / params / f"{name}.wav"


def single_render(root: Path, name: str, preset: str, params: str, target: Path) -> Path:
    """``soundstage render`` of one job of the catalogue (the command itself, in this process)."""
    preset_arg = str(root / "kitchen.toml") if preset == "kitchen" else preset
    argv = ["render", str(root / "music" / f"{name}.wav"), "-p", preset_arg, "-o", str(target), "--quiet", "-y"]
    for param in CLI_PARAMS[params]:
        argv += ["--param", param]
    assert main(argv) == 0
    return target


def every_file(directory: Path) -> set[str]:
    """Every file and directory below ``directory`` (hidden ones included), relative."""
    return {os.path.relpath(os.path.join(d, n), directory) for d, dirs, files in os.walk(directory)
            for n in dirs + files}


def expected_files(names=INPUTS) -> set[str]:
    """The outputs, sidecars, directories and report a complete run of the catalogue leaves."""
    files = {"batch-report.json"}
    for preset in PRESETS:
        files.add(preset)
        for params in PARAMS:
            files.add(f"{preset}/{params}")
            for name in names:
                files |= {f"{preset}/{params}/{name}.wav", f"{preset}/{params}/{name}.wav.json"}
    return files
