"""State, copies and pickling of :class:`soundstage.SpatialProcessor`.

A processor's state is its preset content plus its current parameters; kernels, locks, threads
and the running stream are not state. So:

* :meth:`ProcessorState.get_state` gives a plain dict (the current preset in the TOML layout
  and the partition size) that a host can store, and :meth:`ProcessorState.set_state` takes it
  back — mid-stream a change of parameters crossfades like any automation, another enclosure
  starts afresh;
* ``copy.copy``, ``copy.deepcopy`` and ``pickle`` make an independent processor with the same
  enclosure, listener and design parameters (exactly: the objects themselves are copied, so
  the copy renders bit-identical audio), with fresh kernels and no stream;
* :attr:`ProcessorState.preset` reflects the current parameters.
"""

from __future__ import annotations

from .. import presets as _presets
from .._errors import ParameterError, ParameterTypeError
from ..presets.loader import _make_preset

__all__ = ["ProcessorState"]


def _rebuild(cls, preset, enclosure, listener, design, partition_size, track=None, num_threads=1):
    """Unpickle / copy: a new processor with exactly these objects (and listener track and
    number of render threads) and no stream."""
    if preset is not None:
        proc = cls(preset, partition_size=partition_size, num_threads=num_threads)
        proc._listener, proc._design = listener, design
    else:
        proc = cls(enclosure, listener=listener, design=design, partition_size=partition_size,
                   num_threads=num_threads)
    proc.track = track
    return proc


class ProcessorState:
    """Mixin of SpatialProcessor: ``preset``, ``get_state``/``set_state``, copies, pickling."""

    @property
    def preset(self):
        """The :class:`~soundstage.presets.Preset` with the current parameters: the one the
        processor was made from as long as nothing changed, otherwise that preset with the
        current design listener and design parameters (same ``source``, new
        ``content_hash``). A processor made from an Enclosure gets a preset made from it."""
        with self._parameter_lock:
            listener, design = self._listener, self._design
        if self._preset is not None:
            return self._preset.with_parameters(listener, design)
        if not isinstance(design.head_model, str):
            raise ParameterError("a processor whose design head is a HeadModel object has no preset form; "
                                 "give the head by name or .sofa path")
        enclosure = self._enclosure
        return _make_preset(enclosure.name, enclosure.description, enclosure, listener, design.head_model,
                            design, "<Enclosure>")

    def get_state(self) -> dict:
        """The processor's state as plain data (what a host saves with a session).

        Returns
        -------
        dict
            ``{"preset": <the current preset in the TOML layout>, "partition_size": int or None}``;
            :meth:`set_state` takes it back, ``soundstage.presets.load_dict(state["preset"])``
            reads the preset alone.
        """
        return {"preset": self.preset.to_dict(), "partition_size": self._partition_size}

    def set_state(self, state: dict) -> None:
        """Restore a state from :meth:`get_state`.

        Parameters
        ----------
        state : dict
            As :meth:`get_state` returns it. With the same enclosure and partition size, the new
            parameters apply like any parameter change (a crossfade mid-stream); otherwise the
            stream ends and the next call starts afresh.

        Raises
        ------
        ParameterTypeError
            ``state`` is not a dict with a ``"preset"`` table.
        PresetError
            The preset in it is invalid (naming the key).
        """
        if not isinstance(state, dict) or not isinstance(state.get("preset"), dict):
            raise ParameterTypeError(f"state must be a dict with a 'preset' table (from get_state()), got {state!r:.80}")
        preset = _presets.load_dict(state["preset"], source="<state>")
        partition_size = state.get("partition_size", self._partition_size)
        if preset.enclosure == self._enclosure and partition_size == self._partition_size:
            with self._parameter_lock:
                self._preset = self._preset if self._preset is not None else preset
                self._listener, self._design = preset.listener, preset.parameters
                self._schedule_redesign()
            return
        fresh = type(self)(preset, partition_size=partition_size)
        with self._lock:
            self._queue.discard()
            self._preset, self._enclosure = preset, preset.enclosure
            self._listener, self._design = preset.listener, preset.parameters
            self._partition_size = fresh._partition_size
            self._filters = None
            self._kernels_for = None
            self._extractor = self._convolver = None
            self._prepared_for = None
            self._stream = None
            self._layout_memory.clear()

    # ------------------------------------------------------------------ copies and pickling
    def __reduce__(self):
        with self._parameter_lock:
            return (_rebuild, (type(self), self._preset, self._enclosure, self._listener, self._design,
                               self._partition_size, self._track, self._num_threads))

    def __copy__(self):
        rebuild, args = self.__reduce__()
        return rebuild(*args)

    def __deepcopy__(self, memo):
        rebuild, args = self.__reduce__()  # the enclosure, listener and design are immutable
        return rebuild(*args)
