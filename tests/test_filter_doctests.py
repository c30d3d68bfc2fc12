"""The examples in the filter package's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nbvec._filter as package

MODULES = [package.__name__] + [f"{package.__name__}.{m.name}"
                                for m in pkgutil.iter_modules(package.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    assert module.__doc__ and ">>>" in module.__doc__, f"{name} has no example"
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES[1:])
def test_every_module_declares_its_public_names(name):
    module = importlib.import_module(name)
    assert all(hasattr(module, n) for n in module.__all__)
