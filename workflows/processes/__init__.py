"""One module per process, each declared with workflows.kit.process (`@process(...)`).

`declared()` imports every module of this package and answers what they declare, so a new
process is one new file here: the worker runs it and the gateway can start it.
"""

from __future__ import annotations

import importlib
import pkgutil

from workflows.kit.registry import ProcessDefinition
from workflows.kit.registry import declared as _declared


def declared() -> dict[str, ProcessDefinition]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return _declared()
