"""Fast constructors for frozen, slotted dataclasses built in hot loops.

The sms.db reader builds several model objects per message, a million messages a run;
a frozen dataclass's own __init__ is the slowest way to fill one (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, TypeVar

_T = TypeVar("_T")


def fast_builder(cls: type[_T]) -> Callable[..., _T]:
    """A constructor for the frozen, slotted dataclass `cls` that is several times faster
    than its own __init__ (the reader builds a million messages; see BENCHMARKS.md).

    A frozen dataclass sets each field through object.__setattr__, about 0.2 µs a field.
    The builder fills an instance of a mutable twin class with the very same slots by
    plain attribute stores, then gives it the dataclass as its class (CPython allows the
    switch because both layouts are identical). The result is an ordinary `cls` instance:
    equal to, and as frozen as, one made by `cls(...)`. Parameters are the dataclass's
    fields in order, with their defaults.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if tuple(names) != tuple(getattr(cls, "__slots__", ())):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": tuple(names)})
    defaults: dict[str, Any] = {}
    parameters = []
    lines = ["    self = _twin()"]
    for f in fields(cls):  # type: ignore[arg-type]
        if f.default is not MISSING:
            defaults[f"_default_{f.name}"] = f.default
            parameters.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:
            defaults[f"_factory_{f.name}"] = f.default_factory
            parameters.append(f"{f.name}=_unset")
            lines.append(f"    if {f.name} is _unset: {f.name} = _factory_{f.name}()")
        else:
            parameters.append(f.name)
        lines.append(f"    self.{f.name} = {f.name}")
    lines += ["    self.__class__ = _cls", "    return self"]
    source = f"def build({', '.join(parameters)}):\n" + "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {"_twin": twin, "_cls": cls, "_unset": object(), **defaults}
    exec(source, namespace)  # generated like dataclasses' own __init__: one store a field
    built: Callable[..., _T] = namespace["build"]
    built.__qualname__ = built.__name__ = f"build_{cls.__name__}"
    return built
