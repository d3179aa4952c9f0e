"""How a :class:`soundstage.Board` sees its items: validation, walking, compiling to stages.

Boards and BoardMixes expose their children through a ``_child_items()`` method returning
``(name, child)`` pairs; native containers are iterated directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pedalboard

from .._errors import ParameterError
from .segments import NativeSegment, ParallelStage, Pipeline, ProcessorStage, is_native

__all__ = ["BoardItemError", "short", "check_item", "walk", "check_unique", "structure", "compile_items"]

_PROCESSOR_METHODS = ("prepare", "output_channels", "process_block", "reset")


class BoardItemError(ParameterError, TypeError):
    """An object that cannot be a Board item (neither a native plugin nor a processor)."""


class DuplicateItemError(ParameterError, RuntimeError):
    """The same plugin instance appears twice in a Board (a ``RuntimeError``, as in pedalboard)."""


def short(item: object) -> str:
    """``repr(item)``, shortened for messages."""
    text = repr(item)
    return text if len(text) <= 90 else text[:87] + "..."


def _children(item: object):
    """``(name, child)`` pairs of a Board or BoardMix, else None."""
    child_items = getattr(item, "_child_items", None)
    return child_items() if callable(child_items) and not is_native(item) else None


def check_item(item: object, where: str) -> None:
    """Raise :class:`BoardItemError` unless ``item`` can be a Board item (``where`` names it)."""
    if item is None or is_native(item) or _children(item) is not None:
        return
    missing = [m for m in _PROCESSOR_METHODS if not callable(getattr(item, m, None))]
    if missing or not hasattr(type(item), "latency_samples") and not hasattr(item, "latency_samples"):
        raise BoardItemError(
            f"{where} ({short(item)}) is neither a native pedalboard plugin nor a soundstage "
            f"processor (missing: {', '.join(missing) or 'latency_samples'})."
        )


def walk(item: object, where: str) -> Iterator[tuple[object, str]]:
    """Yield every object inside ``item`` (itself included) with its location."""
    if item is None:
        return
    yield item, where
    children = _children(item)
    if children is not None:
        for name, child in children:
            yield from walk(child, f"{where} -> {name}")
    elif isinstance(item, pedalboard.PluginContainer):
        for i, child in enumerate(item):
            yield from walk(child, f"{where} -> {i}")


def check_unique(items: Iterable[object], prefix: str = "item") -> None:
    seen: dict[int, str] = {}
    alive: list[object] = []  # pybind11 wrappers of container children are transient: keep
    for i, top in enumerate(items):  # them alive so an id is never reused during the walk
        for obj, where in walk(top, f"{prefix} {i}"):
            alive.append(obj)
            if id(obj) in seen:
                raise DuplicateItemError(
                    f"the same instance appears twice in the Board, at {seen[id(obj)]} and at "
                    f"{where}: {short(obj)}. pedalboard plugins hold state and cannot be "
                    "shared; create a second, identically configured instance."
                )
            seen[id(obj)] = where


def structure(item: object, alive: list[object]) -> Any:
    """A hashable description of the tree under ``item`` (changes when anything is mutated).

    Every object walked is appended to ``alive``: holding them keeps pybind11 returning the
    same wrapper (and so the same ``id``) for a container's child on the next walk.
    """
    alive.append(item)
    children = _children(item)
    if children is not None:
        return ("B", id(item), tuple(structure(c, alive) for _, c in children))
    if isinstance(item, pedalboard.PluginContainer):
        return ("C", id(item), tuple(structure(c, alive) for c in item))
    return id(item)


def compile_items(items: Iterable[object], prefix: str) -> Pipeline:
    """Group ``items`` into stages: native runs, processors, parallel mixes."""
    stages: list = []
    run: list = []
    labels: list[str] = []

    def close_run() -> None:
        if run:
            stages.append(NativeSegment(list(run), list(labels)))
            run.clear()
            labels.clear()

    def add_native(plugin: object, where: str) -> None:
        if plugin is None:
            return
        if isinstance(plugin, pedalboard.Mix):
            close_run()
            branches = list(plugin)
            names = [f"{where} -> branch {i} ({short(b)})" for i, b in enumerate(branches)]
            pipelines = [compile_items([b], f"{where} -> branch {i} ->") for i, b in enumerate(branches)]
            stages.append(ParallelStage(pipelines, names))
        elif isinstance(plugin, pedalboard.PluginContainer):  # Chain, Pedalboard: in series
            for i, child in enumerate(plugin):
                add_native(child, f"{where} -> {i}")
        else:
            run.append(plugin)
            labels.append(f"{where} ({short(plugin)})")

    for i, item in enumerate(items):
        where = f"{prefix} {i}".strip()
        if item is None:
            continue
        if is_native(item):
            add_native(item, where)
        else:
            close_run()
            stages.append(ProcessorStage(item, f"{where} ({short(item)})"))
    close_run()
    return Pipeline(stages)
