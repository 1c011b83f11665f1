"""normalise skips rewrites whose text cannot occur; the result is the full chain's."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import text as text_module
from bot.text import clean_user_text, fold_typography, normalise

_SPACES = re.compile(r"\s+")
# Characters each rewrite looks for, so generated text often triggers them.
_PIECES = st.sampled_from(
    ["US", "us", "U.S.", "usd", "us dollars", "$30m", "$ 7.1 billion", "U.K.", "united kingdom",
     "who's", "Japan's", "it’s", "non-member", "anti-China", "postwar", "—", "–", "\u200b",
     "\u202e", "\x07", "\t", "  ", "日本", "ＵＳ", "é", "nonsense", "focus", "status", " "]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=12).map("".join)


def reference_normalise(text: str) -> str:
    """Every rewrite applied to every text, in the order normalise applies them."""
    t = text_module
    text = t._INVISIBLE.sub("", text)
    text = t._CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    text = unicodedata.normalize("NFKC", text).translate(t._TYPOGRAPHY)
    text = _SPACES.sub(" ", text).strip()
    text = t._US_CAPITALS.sub("USA", text).casefold()
    text = t._DOLLARS.sub(t._spell_dollars, t._USD.sub(" dollars ", text))
    text = t._USA.sub(" usa ", text)
    text = t._UK.sub(" uk ", text)
    text = t._IS_CONTRACTION.sub(r"\1 is", text)
    text = t._POSSESSIVE.sub(r"\1", text)
    text = text.replace("'", "")
    text = t._NON_WORD.sub(" ", text)
    text = t._PREFIXED.sub(r"\1 ", text)
    return _SPACES.sub(" ", text).strip()


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_normalise_equals_the_full_chain_of_rewrites(text: str) -> None:
    assert normalise(text) == reference_normalise(text)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_cleaning_and_folding_equal_their_unguarded_forms(text: str) -> None:
    t = text_module
    cleaned = _SPACES.sub(" ", t._CONTROL.sub(" ", t._INVISIBLE.sub("", text))).strip()
    assert clean_user_text(text) == cleaned
    folded = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).translate(t._TYPOGRAPHY)).strip()
    assert fold_typography(text) == folded
    assert re.sub(r"\s+", " ", folded) == folded
