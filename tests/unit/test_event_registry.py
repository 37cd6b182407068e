"""The registry that decodes outbox rows knows every event, each stored under its class's name."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

from loyalty.events import DomainEvent, all_event_types, event_type

#: Every module that defines events.
EVENT_MODULES = ("loyalty.events", "rewards.events", "notifications.events")


def _defined_events() -> set[type[DomainEvent]]:
    return {
        cls
        for module in EVENT_MODULES
        for _, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass)
        if issubclass(cls, DomainEvent) and cls is not DomainEvent and cls.__module__ == module
    }


def test_every_event_is_stored_under_its_class_name() -> None:
    for cls in all_event_types():
        assert cls.name == cls.__name__
        assert event_type(cls.__name__) is cls


def test_the_registry_knows_every_event_defined() -> None:
    assert set(all_event_types()) == _defined_events()


def test_the_registry_alone_imports_every_package_s_events() -> None:
    """A process that imports only the registry decodes the events of ``rewards`` and ``notifications``."""
    names = subprocess.run(
        [sys.executable, "-c", "from loyalty.events import all_event_types; print(*(e.name for e in all_event_types()))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert sorted(names) == sorted(cls.__name__ for cls in _defined_events())

