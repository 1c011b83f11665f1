"""discord.py, imported once and quietly: every module of the adapter takes it from here.

discord.py imports the standard library's audioop for voice, which briefbot never uses; it
is deprecated since Python 3.11 and must not turn into an error under ``-W error``. Nor are
discord.py's start-up warnings about missing voice libraries of any use to us.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
    import discord
    from discord import app_commands

discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

__all__ = ["app_commands", "discord"]
