"""Who may import whom: no circles anywhere, the shared values at the bottom of bot/, and
the runtime and the CLI on top of adapters/."""

from __future__ import annotations

import pytest

from tests.architecture.imports import REPO, circles, import_graph, module_files

GRAPH = import_graph(module_files(REPO, ["bot", "adapters"]))
ADAPTERS = {module: targets for module, targets in GRAPH.items() if module.startswith("adapters")}
# The two that start things: everything else is below them.
TOP = ("adapters.cli", "adapters.runtime")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    assert "adapters.runtime" in GRAPH["adapters.cli.platforms"]  # imported inside a function
    assert "bot.messages" in GRAPH["bot.dispatch"]


def test_there_are_no_import_circles() -> None:
    assert circles(GRAPH) == []


@pytest.mark.parametrize("bottom", ["bot.messages", "bot.errors", "bot.text", "bot.conversation"])
def test_the_shared_values_import_nothing_above_them(bottom: str) -> None:
    # Request, Reply and the errors are what every layer shares; the store and the
    # digests depend on them, never on routing (bot.dispatch) or answering (bot.qa).
    # The grammar's intent values are values too: a Request may carry one already read,
    # and a conversation's turns (bot.conversation): a Request names its thread.
    shared = {
        "bot.errors",
        "bot.text",
        "bot.grammar.intents",
        "bot.grammar.lexer",
        "bot.knowledge.base",
        "bot.conversation",
    }
    assert {t for t in GRAPH[bottom] if t.startswith("bot.")} <= shared


@pytest.mark.parametrize("durable", ["bot.store", "bot.digests"])
def test_the_durable_layer_never_climbs_to_routing(durable: str) -> None:
    climbing = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _within(module, durable)
        for target in targets
        if _within(target, "bot.dispatch") or _within(target, "adapters")
    )
    assert climbing == []


@pytest.mark.parametrize("top", TOP)
def test_only_the_cli_starts_the_runtime_and_nothing_imports_the_cli(top: str) -> None:
    allowed = ("adapters.cli",) if top == "adapters.runtime" else ()
    importers = sorted(
        module
        for module, targets in ADAPTERS.items()
        if any(_within(t, top) for t in targets)
        and not _within(module, top)
        and not any(_within(module, a) for a in allowed)
    )
    assert importers == []


def test_a_platform_never_imports_another() -> None:
    platforms = ("adapters.slack", "adapters.discord", "adapters.console")
    crossings = sorted(
        (module, target)
        for module, targets in ADAPTERS.items()
        for target in targets
        for own in platforms
        for other in platforms
        if own != other and _within(module, own) and _within(target, other)
    )
    assert crossings == []


def test_bot_never_imports_adapters() -> None:
    assert [
        m
        for m, targets in GRAPH.items()
        if m.startswith("bot") and any(t.startswith("adapters") for t in targets)
    ] == []
