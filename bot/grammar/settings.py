"""`/nato settings …`: a channel's settings, read into one ``Settings`` value on every platform.

::

    /nato settings                                  show them
    /nato settings answers private|public           slash answers: only the asker, or the channel
    /nato settings auto-answer on|off               answer questions asked without a mention
    /nato settings allow #briefings #policy         the only channels the bot answers in
    /nato settings allow all                        every channel again

Several may be given at once (``answers public auto-answer on``), each once. Anything
malformed is a ``Usage`` whose message says precisely what, and nothing is changed: a
command is applied whole or not at all. Discord's typed options are written out as these
words and read here too, so both platforms share one grammar and one set of messages.
"""

from __future__ import annotations

import difflib
import re

from bot.grammar.intents import ChannelRef, Settings, Usage
from bot.text import clean_user_text, quote_user_text

__all__ = ["MAX_ALLOWED", "SETTING_NAMES", "parse_settings", "settings_help"]

# The settings, as written in the command and in `/nato settings`'s listing.
SETTING_NAMES = ("answers", "auto-answer", "allow")
_ALIASES = {
    "answers": "answers",
    "answer": "answers",
    "auto-answer": "auto-answer",
    "autoanswer": "auto-answer",
    "auto_answer": "auto-answer",
    "allow": "allow",
}
_SHOW = frozenset({"show", "list"})
_ANSWERS = {"private": True, "public": False}
_SWITCH = {"on": True, "off": False}
_ALL = frozenset({"all", "everywhere"})
# A list longer than this is a mistake (or an attack), not a choice of channels.
MAX_ALLOWED = 25
# <#C123|general> (Slack, escaped), <#123> (Discord), #general (typed).
_MENTION = re.compile(r"^<#(?P<id>[A-Za-z0-9]{1,40})(?:\|(?P<name>[^<>|]{0,80}))?>$")
_NAMED = re.compile(r"^#(?P<name>[^\s#<>@|]{1,80})$")
_SPLIT = re.compile(r"[\s,]+")
_EXAMPLE = "`/nato settings answers public`"


def settings_help() -> str:
    """`/nato help settings`."""
    return (
        "`/nato settings [answers private|public] [auto-answer on|off] [allow #channel… | allow all]`: "
        "this channel's settings (channel managers only; only you see the reply). Without a change, "
        "it shows them.\n"
        "• `answers private` (the default): a `/nato` answer is shown only to the asker, with a "
        "button to share it; `answers public`: posted in the channel. Declines stay private.\n"
        "• `auto-answer on`: a question posted here without a mention is answered in a thread, but "
        "only when the notes answer it with confidence; anything else gets no reply. Off by default.\n"
        "• `allow #channel…`: the only channels in this workspace I answer in (mentions, `/nato` "
        "questions, auto-answers); `allow all` (the default): every channel. Direct messages are "
        "always answered, and `/nato settings` always works.\n"
        "Examples: `/nato settings`, `/nato settings answers public`, `/nato settings auto-answer on`, "
        "`/nato settings allow #briefings #nato-japan`, `/nato settings allow all`"
    )


def parse_settings(args: str) -> Settings | Usage:
    """The words after `/nato settings`; see the module docstring."""
    words = [w for w in _SPLIT.split(clean_user_text(args)) if w]
    if not words or (len(words) == 1 and words[0].casefold() in _SHOW):
        return Settings()
    private: bool | None = None
    auto: bool | None = None
    allow: tuple[ChannelRef, ...] | None = None
    seen: set[str] = set()
    at = 0
    while at < len(words):
        name = _ALIASES.get(words[at].casefold())
        if name is None:
            return Usage(_unknown_setting(words[at]))
        if name in seen:
            return Usage(f"`{name}` is given twice; give each setting once, e.g. {_EXAMPLE}.")
        seen.add(name)
        at += 1
        if name == "allow":
            end = at
            while end < len(words) and words[end].casefold() not in _ALIASES:
                end += 1
            read = _channels(words[at:end])
            if isinstance(read, Usage):
                return read
            allow, at = read, end
            continue
        choices = _ANSWERS if name == "answers" else _SWITCH
        options = " or ".join(f"`{c}`" for c in choices)
        if at >= len(words):
            example = f"/nato settings {name} {next(iter(choices))}"
            return Usage(f"`{name}` needs a value: {options}, e.g. `{example}`.")
        value = choices.get(words[at].casefold())
        if value is None:
            return Usage(f"`{name}` is {options}, not “{quote_user_text(words[at], 30)}”.")
        if name == "answers":
            private = value
        else:
            auto = value
        at += 1
    return Settings(private_answers=private, auto_answer=auto, allow=allow)


def _channels(words: list[str]) -> tuple[ChannelRef, ...] | Usage:
    if not words:
        return Usage(
            "`allow` needs channels, e.g. `/nato settings allow #briefings #policy`, "
            "or `allow all` to answer in every channel."
        )
    if any(w.casefold() in _ALL for w in words):
        if len(words) > 1:
            return Usage(
                "`allow all` takes no channels: it means every channel. Give either `all` or channels."
            )
        return ()
    if len(words) > MAX_ALLOWED:
        return Usage(f"At most {MAX_ALLOWED} channels can be on the list; you gave {len(words)}.")
    refs = []
    for word in words:
        mention = _MENTION.match(word)
        named = _NAMED.match(word)
        if mention is not None:
            refs.append(ChannelRef(id=mention.group("id"), name=(mention.group("name") or "").strip()))
        elif named is not None:
            refs.append(ChannelRef(name=named.group("name")))
        else:
            return Usage(
                f"“{quote_user_text(word, 30)}” is not a channel. Name channels with # (pick them from "
                "the list as you type), e.g. `/nato settings allow #briefings`, or `allow all`."
            )
    return tuple(refs)


def _unknown_setting(word: str) -> str:
    close = difflib.get_close_matches(word.casefold(), SETTING_NAMES, n=1, cutoff=0.7)
    hint = f"Did you mean `{close[0]}`? " if close else ""
    names = ", ".join(f"`{n}`" for n in SETTING_NAMES)
    return (
        f"{hint}There is no setting “{quote_user_text(word, 30)}”; the settings are {names}. "
        "`/nato help settings` explains them."
    )
