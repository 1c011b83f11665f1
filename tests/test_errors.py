"""Every exception briefbot defines sits under BriefbotError, so one ``except`` catches them."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import adapters
import bot
from bot.errors import BriefbotError


def _modules() -> list[str]:
    names = []
    for package in (bot, adapters):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            names.append(info.name)
    return names


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == name:
                found.append(value)
    return found


def test_every_exception_class_in_bot_and_adapters_is_a_briefbot_error() -> None:
    classes = _exception_classes()
    assert len(classes) >= 7  # the walk found the tree drawn in bot/errors.py, not nothing
    outside = sorted(f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, BriefbotError))
    assert outside == []


def test_errors_a_user_typed_are_still_value_errors() -> None:
    from bot.digests.compose import DigestError
    from bot.digests.schedule import ScheduleError

    assert issubclass(DigestError, ValueError) and issubclass(ScheduleError, ValueError)
