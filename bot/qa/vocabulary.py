"""Word-level knowledge the matcher needs: stop words, stems, spelling variants.

Kept deliberately small and domain-shaped: a light suffix stemmer is enough for chat
questions ("joins", "joined", "joining" all meet at "join"), and a handful of
British/American and demonym folds cover what people actually type.
"""

from __future__ import annotations

import functools
import re

__all__ = ["STOP_WORDS", "content_terms", "stem"]

STOP_WORDS: frozenset[str] = frozenset(
    """
    a an and are as at be been being but by can could did do does doing done for from had
    has have having he her here hers him his how i if in into is it its itll just me my
    of on or our ours she should so some such than that thats the their theirs them then
    there these they this those to too up us very was we were what whats when where which
    while who whos whom why will with would you your yours about any tell me please pls
    plz know give explain describe summary summarise summarize briefly info information
    anything something happen happened ever much many also get got say said one
    wat wut wht whn wen hw u ur r y re ve ll d s t m again more kind sort
    mention mentioned mentions mentioning according story exactly actually really
    basically specifically go goes going gone went
    probably possibly perhaps maybe physically roughly approximately supposedly apparently
    honestly literally kinda sorta usually always often sometimes per exact w theyve theyre
    thing things stuff whatever anyone anybody someone somebody like
    correct correctly accurate accurately confirm confirmed verify verified true
    anyway anyways anyhow
    """.split()
)
# Words about the briefing itself rather than its subject ("according to the article",
# "who is Putin in this article"): meaningless for matching, except "article 9".
_META_WORDS = frozenset(
    "article articles paper text piece notes briefing document documents doc docs analysis".split()
)

# Spelling and word-form variants folded to one form before stemming.
_VARIANTS: dict[str, str] = {
    "centre": "center",
    "centres": "center",
    "defence": "defense",
    "programme": "program",
    "programmes": "program",
    "organisation": "organization",
    "organisations": "organization",
    "japanese": "japan",
    "jp": "japan",
    "jpn": "japan",
    "chinese": "china",
    "russian": "russia",
    "russias": "russia",
    "ukrainian": "ukraine",
    "european": "europe",
    "american": "usa",
    "america": "usa",
    "washington": "usa",
    "korean": "korea",
    "koreas": "korea",
    "british": "uk",
    "britain": "uk",
    "dutch": "netherlands",
    "swedish": "sweden",
    "finnish": "finland",
    "australian": "australia",
    "indian": "india",
    "french": "france",
    "german": "germany",
    "italian": "italy",
    "lithuanian": "lithuania",
    "estonian": "estonia",
    "spanish": "spain",
    "belgian": "belgium",
    "taiwanese": "taiwan",
    "beijing": "china",
    "moscow": "russia",
    "kremlin": "russia",
    "seoul": "korea",
    "canadian": "canada",
    "polish": "poland",
    "norwegian": "norway",
    "turkish": "turkey",
    "turkiye": "turkey",
    "türkiye": "turkey",
    "baltics": "baltic",
    "naval": "maritime",
    "navy": "maritime",
    "navies": "maritime",
    "cybersecurity": "cyber",
    "cyberdefense": "cyber",
    "pm": "prime",
    "sec": "secretary",
    "secgen": "secretary",
    "sg": "secretary",
    "gen": "general",
    "fm": "foreign",
    "dm": "defense",
    "chips": "chip",
    # Where something would be: the notes say "located", "based", "nestled".
    "housed": "located",
    "thru": "through",
    "yr": "year",
    "yrs": "years",
    # A contraction typed without its apostrophe is its negation: "shouldnt" is "should not",
    # whose "should" is a stop word.
    **dict.fromkeys(
        "dont doesnt didnt isnt arent wasnt werent shouldnt wouldnt couldnt cant wont hasnt havent hadnt"
        " aint mustnt neednt".split(),
        "not",
    ),
    "semiconductor": "semiconductor",
    "semis": "semiconductor",
    "labelled": "label",
    "labeled": "label",
    "bn": "billion",
    "m": "million",
    "sci": "science",
    "tech": "technology",
    "org": "organization",
    "recs": "recommendations",
    "govt": "government",
    "gov": "government",
    "intl": "international",
    "mn": "million",
    "percent": "%",
    "pct": "%",
    # Words people use for the same thing as the notes ("biggest" funder, "largest" war
    # game), folded to one form on both sides. Only plain near-synonyms: a fold merges
    # the words everywhere, so anything with a second meaning stays out.
    "biggest": "largest",
    "funder": "fund",
    "funders": "fund",
    "funding": "fund",
    "financing": "fund",
    "financier": "fund",
    "weaponise": "weapon",
    "weaponize": "weapon",
    "weaponises": "weapon",
    "weaponizes": "weapon",
    "weaponised": "weapon",
    "weaponized": "weapon",
    "weaponising": "weapon",
    "weaponizing": "weapon",
    "deterrent": "deter",
    "deterrence": "deter",
    "deters": "deter",
    "deterred": "deter",
    "deterring": "deter",
    "threaten": "threat",
    "threatens": "threat",
    "threatening": "threat",
    "hurdle": "obstacle",
    "hurdles": "obstacle",
    "barrier": "obstacle",
    "barriers": "obstacle",
    "impediment": "obstacle",
    "impediments": "obstacle",
    "roadblock": "obstacle",
    "roadblocks": "obstacle",
    "membership": "member",
    "memberships": "member",
    "rebuild": "reconstruct",
    "rebuilding": "reconstruct",
    "reconstruction": "reconstruct",
    "reconstructing": "reconstruct",
    "postconflict": "postwar",
    "disarmament": "disarm",
    "earthquake": "quake",
    "earthquakes": "quake",
    "quakes": "quake",
    "drill": "exercise",
    "drills": "exercise",
    "kyiv": "ukraine",
    "kiev": "ukraine",
    "prc": "china",
    "allied": "ally",
    "dislike": "disapprove",
    "dislikes": "disapprove",
    "disliked": "disapprove",
    "displeasure": "disapprove",
    "displeased": "disapprove",
    "disapproval": "disapprove",
    "disapproves": "disapprove",
    "disapproved": "disapprove",
    "job": "role",
    "jobs": "role",
    "title": "role",  # "job title": the answers never use the word otherwise
    # Irregular verb forms, so "what was agreed" meets "agree" and "who led" meets "lead".
    "agreed": "agree",
    "seen": "see",
    "saw": "see",
    "used": "use",
    "made": "make",
    "took": "take",
    "taken": "take",
    "gave": "give",
    "given": "give",
    "held": "hold",
    "met": "meet",
    "began": "begin",
    "begun": "begin",
    "became": "become",
    "spoke": "speak",
    "spoken": "speak",
    "wrote": "write",
    "written": "write",
    "chose": "choose",
    "chosen": "choose",
    "led": "lead",
    "sent": "send",
    "won": "win",
    "brought": "bring",
    "thought": "think",
    "built": "build",
    "told": "tell",
    "kept": "keep",
    "sold": "sell",
    "paid": "pay",
    "meant": "mean",
    "drew": "draw",
    "drawn": "draw",
}

_KEEP_AS_IS = frozenset({"us", "gps", "sps", "its", "this", "has", "was", "is", "as", "news"})
_VOWEL = re.compile(r"[aeiouy]")


@functools.lru_cache(maxsize=16384)  # pure, and the same few thousand words recur
def stem(word: str) -> str:
    """A light, predictable suffix stemmer (better a few misses than surprising merges).

    "joins", "joined", "joining" -> "join"; "announce", "announced" -> "announc";
    "allies" -> "ally". A final "e" is always dropped so that the verb and its
    inflections meet.
    """
    word = _VARIANTS.get(word, word)
    if len(word) <= 3 or word in _KEEP_AS_IS or not word.isalpha():
        return word
    if word.endswith(("ss", "us", "is")):
        return word
    # A few derivations people use interchangeably in questions: "reaction"/"react",
    # "cooperation"/"cooperate", "recently"/"recent".
    if len(word) >= 7 and word.endswith("tion") and not word.endswith("ssion"):
        return word[:-3]
    # One letter longer than "tion"'s bound, so that a plural meets its singular ("nations"
    # and "nation", not "nat" and "nation").
    if len(word) >= 8 and word.endswith("tions") and not word.endswith("ssions"):
        return word[:-4]
    if len(word) >= 7 and word.endswith("ly") and not word.endswith("ally"):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWEL.search(base):
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "ls":
                base = base[:-1]  # "planned" -> "plan", "stopping" -> "stop"
            return base.removesuffix("e")
    if word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "z")):
        return word[:-2]
    if word.endswith("s"):
        word = word[:-1]
    return word.removesuffix("e") if len(word) > 3 else word


def content_terms(words: list[str]) -> list[str]:
    """Stems of the words that carry meaning, in order, without repeats."""
    seen: dict[str, None] = {}
    for position, word in enumerate(words):
        if word in STOP_WORDS:
            continue
        if word in _META_WORDS and not (position + 1 < len(words) and words[position + 1].isdigit()):
            continue
        term = stem(word)
        if term and term not in STOP_WORDS:
            seen.setdefault(term, None)
    return list(seen)
