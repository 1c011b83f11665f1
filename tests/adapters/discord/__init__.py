"""End-to-end tests of the Discord adapter against a local Discord emulator."""

# discord.py must be imported through the adapter first, which keeps its deprecated
# audioop import from failing the run under filterwarnings = error.
import adapters.discord  # noqa: F401
