"""Language labels of fastText LID models -> FLORES-200-style codes (`eng_Latn`).

ISO 639-1/639-3 resolution and default scripts come from `langcodes`; the table below only
holds what that library cannot know: labels whose meaning in lid.176 differs from their
ISO reading, and the individual language FLORES-200 uses for a macrolanguage.
"""

from __future__ import annotations

import re
from functools import lru_cache

import langcodes

from filters.scripts import dominant_script, han_variant

# lid.176 label -> code, where ISO would read the label otherwise.
LID176_OVERRIDES = {
    "als": "gsw_Latn",   # lid.176 `als` is Alemannic (Wikipedia's code), ISO `als` is Tosk Albanian
    "eml": "egl_Latn",   # Emiliano-Romagnolo, retired ISO code; Emilian is `egl`
    "bh": "bho_Deva",    # "Bihari" Wikipedia is written in Bhojpuri
    "sh": "hbs_Latn",    # deprecated Serbo-Croatian label, Latin-script Wikipedia
    "nah": "nah_Latn",   # Nahuatl languages (a collective code; no single FLORES language)
    "wuu": "wuu_Hans",
    "yue": "yue_Hant",
    "mo": "ron_Latn",    # deprecated Moldavian
    "azb": "azb_Arab",   # South Azerbaijani is written in Arabic script; langcodes guesses Latin
    "ko": "kor_Hang",    # FLORES-200 labels Korean by Hangul, not the Han+Hangul `Kore`
    "kv": "kpv_Cyrl",    # Komi Wikipedia is Komi-Zyrian; `kom` is the macrolanguage
    "tl": "tgl_Latn",    # langcodes reads Tagalog as Filipino (`fil`); FLORES-200 uses `tgl`
    "xal": "xal_Cyrl",   # Kalmyk is written in Cyrillic; langcodes guesses Latin
}

# ISO 639-3 macrolanguage -> the individual language FLORES-200 labels it with.
FLORES_INDIVIDUAL = {
    "ara": "arb", "fas": "pes", "msa": "zsm", "swa": "swh", "est": "est", "lav": "lvs",
    "uzb": "uzn", "pus": "pbt", "mon": "khk", "nep": "npi", "ori": "ory", "que": "quy",
    "nor": "nob", "orm": "gaz", "sqi": "als", "aze": "azj", "kur": "kmr", "yid": "ydd",
    "grn": "grn", "mlg": "plt", "aym": "ayr", "zho": "zho", "kon": "kng", "kau": "knc",
}

# Languages written in more than one script: the script is read off the text.
MULTI_SCRIPT = {
    "srp": {"Cyrl", "Latn"}, "hbs": {"Cyrl", "Latn"}, "bos": {"Cyrl", "Latn"},
    "azj": {"Latn", "Cyrl", "Arab"}, "uzn": {"Latn", "Cyrl"}, "pan": {"Guru", "Arab"},
    "kmr": {"Latn", "Arab", "Cyrl"}, "tgk": {"Cyrl", "Latn", "Arab"}, "khk": {"Cyrl", "Mong"},
    "snd": {"Arab", "Deva"}, "kas": {"Arab", "Deva"}, "tuk": {"Latn", "Cyrl"},
    "kaz": {"Cyrl", "Latn"}, "kir": {"Cyrl", "Latn"}, "ron": {"Latn", "Cyrl"},
}

_FLORES_RE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


@lru_cache(maxsize=4096)
def _base_code(label: str) -> str:
    """Label without `__label__` -> `xxx_Scrp` with the language's default script."""
    if label in LID176_OVERRIDES:
        return LID176_OVERRIDES[label]
    if _FLORES_RE.match(label):
        return label
    try:
        lang = langcodes.Language.get(label.replace("_", "-"))
        alpha3 = lang.to_alpha3()
        script = lang.script or lang.maximize().script or "Zyyy"
    except (LookupError, ValueError):
        return f"{label}_Zyyy"
    alpha3 = FLORES_INDIVIDUAL.get(alpha3, alpha3)
    return f"{alpha3}_{script}"


def normalize_label(label: str, text: str | None = None) -> str:
    """`__label__en` / `__label__eng_Latn` / `zh` -> FLORES-200-style code.

    With the text, a script the label leaves open is taken from the text itself.
    """
    label = label.removeprefix("__label__")
    code = _base_code(label)
    lang, script = code.split("_", 1)
    if text is None:
        return code
    # Models that say only "Han" (GlotLID's `cmn_Hani`) or only "Chinese" (lid.176's `zh`)
    # leave Simplified vs Traditional to the text; a model's own Hans/Hant is kept.
    if script == "Hani" or (lang in ("zho", "cmn") and not _FLORES_RE.match(label)):
        return f"{lang}_{han_variant(text)}"
    if lang in MULTI_SCRIPT and not _FLORES_RE.match(label):
        seen = dominant_script(text)
        if seen in MULTI_SCRIPT[lang]:
            return f"{lang}_{seen}"
    return code
