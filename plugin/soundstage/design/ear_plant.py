"""The design plant: driver → ear responses with the bulk propagation to the enclosure removed."""

from __future__ import annotations

import numpy as np

from ..acoustics.frame import SPEED_OF_SOUND_M_S

__all__ = ["design_plant"]


def design_plant(enclosure, listener, frequencies_hz, head) -> np.ndarray:
    """The plant with the bulk propagation to the enclosure centre removed, (2, N, F)."""
    if enclosure.kind == "headphones":
        eye = np.eye(2, dtype=complex)
        return np.repeat(eye[:, :, None], frequencies_hz.size, axis=2)
    from ..acoustics.plant import plant_response

    h = plant_response(enclosure, listener, frequencies_hz, head=head)
    r0 = float(np.linalg.norm(listener.enclosure_position_m - listener.head_position_m))
    c = getattr(head, "speed_of_sound_m_s", SPEED_OF_SOUND_M_S)
    return h * r0 * np.exp(2j * np.pi * frequencies_hz * r0 / c)[None, None, :]
