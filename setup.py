"""Build script for soundstage.

The Python package lives in ``plugin/soundstage``; the Cython kernels in ``cython_kernels/``
are compiled into ``soundstage._kernels``; the enclosure presets in ``presets/`` are installed
as package data in ``soundstage/preset_files``; the built-in KEMAR head (a SOFA file and its
licence notice) ships in ``soundstage/acoustics/heads/data``.
"""

import os
import platform
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

HERE = Path(__file__).parent


def simd_flags() -> list[str]:
    """AVX2/FMA code generation when the building CPU has it (pip builds from source on the
    machine that runs it): the FFT, multiply-accumulate and biquad loops run ~1.5x faster. Set
    SOUNDSTAGE_PORTABLE_BUILD=1 to build a wheel for other x86-64 machines."""
    if os.environ.get("SOUNDSTAGE_PORTABLE_BUILD") or platform.machine() not in ("x86_64", "AMD64"):
        return []
    try:
        words = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return []
    return ["-march=x86-64-v3"] if {"avx2", "fma", "bmi2", "movbe"} <= words else []

KERNEL_DIR = "cython_kernels"

extensions = [
    Extension(
        f"soundstage._kernels.{pyx.stem}",
        [f"{KERNEL_DIR}/{pyx.name}"],
        include_dirs=[numpy.get_include(), KERNEL_DIR],
        # C headers the kernels include (_fpu.h, _upmix_simd.h): a change rebuilds them
        depends=[f"{KERNEL_DIR}/{header.name}" for header in sorted((HERE / KERNEL_DIR).glob("*.h"))],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # IEEE results unchanged (no -ffast-math): no FMA contraction; sqrt without errno and no
        # FP-exception traps, so loops with sqrt and selects (the upmix's band loop) vectorise.
        extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", *simd_flags()],
    )
    for pyx in sorted((HERE / KERNEL_DIR).glob("*.pyx"))
]

setup(
    name="soundstage",
    version="0.1.0",
    description=(
        "Stereo image of a ±30° loudspeaker pair from one compact enclosure: upmix, virtualizer, "
        "crosstalk cancellation, centre beamforming, as a pedalboard-style effect."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="GPL-3.0-or-later",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Cython",
        "Topic :: Multimedia :: Sound/Audio :: Analysis",
    ],
    python_requires=">=3.10",
    package_dir={"": "plugin", "soundstage.preset_files": "presets"},
    packages=[*find_packages("plugin", include=["soundstage", "soundstage.*"]), "soundstage.preset_files"],
    package_data={"soundstage.preset_files": ["*.toml"],
                  # the built-in measured head (MIT KEMAR, Gardner & Martin 1994) and its notice
                  "soundstage.acoustics.heads": ["data/*.sofa", "data/LICENSE.*", "data/CITATION.*"]},
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
    install_requires=[
        "numpy>=2.0",
        "scipy>=1.11",
        "pedalboard>=0.9.26",
        "soundfile>=0.12",
        "h5py>=3.8",
        "pyloudnorm>=0.1.1",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "tomli-w>=1.0",
        "tomli>=2.0; python_version<'3.11'",
    ],
    extras_require={
        # soundstage batch --engine dask / --scheduler: Dask distributed (the default engine needs nothing)
        "dask": ["dask[distributed]>=2023.1"],
        "test": ["pytest>=7.4", "hypothesis>=6.80", "pytest-xdist>=3.3", "selenium>=4.20",
                 "dask[distributed]>=2023.1"],
    },
    entry_points={
        "console_scripts": ["soundstage = soundstage.cli:main"],
        "pytest11": ["soundstage = soundstage.testing.plugin"],
    },
    zip_safe=False,
)
