"""spaCy's English tokenizer rules (prefixes, suffixes, infixes, special cases, URLs,
emoticons), ported to `regex`: the word splitting datatrove's Gopher filters rely on."""

from __future__ import annotations

import re

import regex

_PUNCT_LIST = ["\u2026", "\u2026\u2026", ",", ":", ";", r"\!", r"\?", "\xbf", "\u061f", "\xa1",
               r"\(", r"\)", r"\[", r"\]", r"\{", r"\}", "<", ">", "_", "#", r"\*", "&",
               "\u3002", "\uff1f", "\uff01", "\uff0c", "\u3001", "\uff1b", "\uff1a", "\uff5e",
               "\xb7", "\u0964", "\u060c", "\u06d4", "\u061b", "\u066a"]
_QUOTE_LIST = ["\\'", '"', "\u201d", "\u201c", "`", "\u2018", "\xb4", "\u2019", "\u201a", ",",
               "\u201e", "\xbb", "\xab", "\u300c", "\u300d", "\u300e", "\u300f", "\uff08",
               "\uff09", "\u3014", "\u3015", "\u3010", "\u3011", "\u300a", "\u300b", "\u3008",
               "\u3009", "\u2329", "\u232a", "\u27e6", "\u27e7"]
_CURRENCY_LIST = [r"\$", "\xa3", "\u20ac", "\xa5", "\u0e3f", r"US\$", r"C\$", r"A\$", "\u20bd",
                  "\ufdfc"] + [chr(c) for c in range(0x20a0, 0x20c0)]
_UNITS = ("km|km²|km³|m|m²|m³|dm|dm²|dm³|cm|cm²|cm³|mm|mm²|mm³|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|"
          "oz|m/s|km/h|kmh|mph|hPa|Pa|mbar|mb|MB|kb|KB|gb|GB|tb|TB|T|G|M|K|%|км|км²|км³|м|м²|м³|"
          "дм|дм²|дм³|см|см²|см³|мм|мм²|мм³|нм|кг|г|мг|м/с|км/ч|кПа|Па|мбар|Кб|КБ|кб|Мб|МБ|мб|"
          "Гб|ГБ|гб|Тб|ТБ|тб")
_ICON = r"\p{So}"
_QUOTES_CLS = "".join(q.replace("\\", "") for q in _QUOTE_LIST).replace("'", "\\'")
_PUNCT_CLS_CHARS = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪|"
_HYPHENS = "-|–|—|--|---|——|~"

_PREFIX_RE = regex.compile(
    "^(?:" + "|".join(["§", "%", "=", "—", "–", r"\+(?![0-9])"] + _PUNCT_LIST + [r"\.\.+", "…"]
                      + _QUOTE_LIST + _CURRENCY_LIST + [f"[{_ICON}]"]) + ")")
_SUFFIX_RE = regex.compile(
    "(?:" + "|".join(
        _PUNCT_LIST + [r"\.\.+", "…"] + _QUOTE_LIST + [f"[{_ICON}]"]
        + ["'s", "'S", "’s", "’S", "—", "–", r"(?<=[0-9])\+", r"(?<=°[FfCcKk])\.",
           r"(?<=[0-9])(?:" + "|".join(_CURRENCY_LIST) + ")",
           r"(?<=[0-9])(?:" + _UNITS + ")",
           # spaCy's class here also holds the characters of "(?:" and ")" (a quirk kept).
           r"(?<=[0-9\p{Ll}%²\-\+" + regex.escape(_PUNCT_CLS_CHARS) + r"(?:"
           + regex.escape(_QUOTES_CLS.replace("\\", "")) + r")])\.",
           r"(?<=\p{Lu}\p{Lu})\."]) + ")$")
_INFIX_RE = regex.compile("|".join([
    r"\.\.+", "…", f"[{_ICON}]",
    r"(?<=[0-9])[+\-\*^](?=[0-9-])",
    r"(?<=[\p{Ll}" + regex.escape(_QUOTES_CLS.replace("\\", "")) + r"])\.(?=[\p{Lu}"
    + regex.escape(_QUOTES_CLS.replace("\\", "")) + "])",
    r"(?<=\p{L}),(?=\p{L})",
    r"(?<=[\p{L}0-9])(?:" + _HYPHENS + r")(?=\p{L})",
    r"(?<=[\p{L}0-9])[:<>=/](?=\p{L})",
]))
# spaCy's URL_MATCH (lang/tokenizer_exceptions.py), TLD in lower-case letters.
_URL_RE = regex.compile(
    r"^(?:(?:[\w\+\-\.]{2,})://)?(?:\S+(?::\S*)?@)?(?:(?!(?:10|127)(?:\.\d{1,3}){3})"
    r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))|(?:(?:[A-Za-z0-9\u00a1-\uffff]"
    r"[A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+(?:\p{Ll}{2,63}))"
    r"(?::\d{2,5})?(?:[/?#]\S*)?$")

# The same two rules for ASCII strings, in the stdlib `re` (several times faster on the long
# link-like chunks of real pages); tests compare them with the rules above on every chunk of
# several corpora and on random strings. Infix alternatives start with the character they
# consume and check their lookbehind after it, so a scan tries few positions; their order is
# the rule's order. For a string without "@" the URL rule's user-info group can only match
# empty, and leaving it out removes its quadratic backtracking.
_ASCII_QUOTES = re.escape("'\"`,")
_ASCII_INFIX_RE = re.compile("|".join([
    r"\.\.+",
    r"[+\-*^](?<=[0-9][+\-*^])(?=[0-9-])",
    rf"\.(?<=[a-z{_ASCII_QUOTES}]\.)(?=[A-Z{_ASCII_QUOTES}])",
    r",(?<=[A-Za-z],)(?=[A-Za-z])",
    r"(?:-(?<=[A-Za-z0-9]-)|--(?<=[A-Za-z0-9]--)|---(?<=[A-Za-z0-9]---)|~(?<=[A-Za-z0-9]~))(?=[A-Za-z])",
    r"[:<>=/](?<=[A-Za-z0-9][:<>=/])(?=[A-Za-z])",
]))
_ASCII_URL_NO_AT_RE = re.compile(
    r"^(?:(?:[\w\+\-\.]{2,})://)?(?:(?!(?:10|127)(?:\.\d{1,3}){3})"
    r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))|(?:(?:[A-Za-z0-9]"
    r"[A-Za-z0-9_-]{0,62})?[A-Za-z0-9]\.)+(?:[a-z]{2,63}))"
    r"(?::\d{2,5})?(?:[/?#]\S*)?$")

_EMOTICONS = r"""
:) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (;
(-; :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-| ]= =[ :1 :P
:-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D ;D ;-D =D
xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o o_O O_o
O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<) (*_*)
(¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>
""".split()
_SINGLE_EXCEPTIONS = r"""
' \") <space> '' C++ a. b. c. d. e. f. g. h. i. j. k. l. m. n. o. p. q. r. s. t. u. v. w. x. y. z.
ä. ö. ü. — 'S 's ‘S ‘s and/or w/o 're 'Cause 'cause 'cos 'Cos 'coz 'Coz 'cuz 'Cuz 'bout ma'am
Ma'am o'clock O'clock lovin' Lovin' lovin Lovin havin' Havin' havin Havin doin' Doin' doin Doin
goin' Goin' goin Goin Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla.
Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun. Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D.
N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash.
Wis. 'd a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc.
Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.
nothin nothin' Nothin Nothin' nuthin nuthin' Nuthin Nuthin' ol ol' Ol Ol' somethin somethin'
Somethin Somethin' em 'em ll 'll nuff 'nuff \t \n
""".split()


def _build_specials() -> dict[str, tuple[str, ...]]:
    """spaCy's English tokenizer exceptions, generated the way spacy/lang/en does."""
    exc: dict[str, tuple[str, ...]] = {}

    def both(word):
        return (word, word.title())

    for orth in both("i"):
        exc[orth + "'m"] = (orth, "'m")
        exc[orth + "m"] = (orth, "m")
        exc[orth + "'ma"] = (orth, "'m", "a")
        exc[orth + "ma"] = (orth, "m", "a")
    for pron in ("i", "you", "he", "she", "it", "we", "they"):
        for orth in both(pron):
            exc[orth + "'ll"] = (orth, "'ll")
            exc[orth + "ll"] = (orth, "ll")
            exc[orth + "'ll've"] = (orth, "'ll", "'ve")
            exc[orth + "llve"] = (orth, "ll", "ve")
            exc[orth + "'d"] = (orth, "'d")
            exc[orth + "d"] = (orth, "d")
            exc[orth + "'d've"] = (orth, "'d", "'ve")
            exc[orth + "dve"] = (orth, "d", "ve")
    for pron in ("i", "you", "we", "they"):
        for orth in both(pron):
            exc[orth + "'ve"] = (orth, "'ve")
            exc[orth + "ve"] = (orth, "ve")
    for pron in ("you", "we", "they"):
        for orth in both(pron):
            exc[orth + "'re"] = (orth, "'re")
            exc[orth + "re"] = (orth, "re")
    for pron in ("he", "she", "it"):
        for orth in both(pron):
            exc[orth + "'s"] = (orth, "'s")
            exc[orth + "s"] = (orth, "s")
    for word, number in (("who", None), ("what", None), ("when", None), ("where", None),
                         ("why", None), ("how", None), ("there", None), ("that", "sing"),
                         ("this", "sing"), ("these", "plur"), ("those", "plur")):
        for orth in both(word):
            if number != "plur":
                exc[orth + "'s"] = (orth, "'s")
                exc[orth + "s"] = (orth, "s")
            exc[orth + "'ll"] = (orth, "'ll")
            exc[orth + "ll"] = (orth, "ll")
            exc[orth + "'ll've"] = (orth, "'ll", "'ve")
            exc[orth + "llve"] = (orth, "ll", "ve")
            if number != "sing":
                exc[orth + "'re"] = (orth, "'re")
                exc[orth + "re"] = (orth, "re")
                exc[orth + "'ve"] = (orth, "'ve")
                exc[orth + "ve"] = (orth, "ve")
            exc[orth + "'d"] = (orth, "'d")
            exc[orth + "d"] = (orth, "d")
            exc[orth + "'d've"] = (orth, "'d", "'ve")
            exc[orth + "dve"] = (orth, "d", "ve")
    for verb in ("ca", "could", "do", "does", "did", "had", "may", "might", "must", "need",
                 "ought", "sha", "should", "wo", "would"):
        for orth in both(verb):
            exc[orth + "n't"] = (orth, "n't")
            exc[orth + "nt"] = (orth, "nt")
            exc[orth + "n't've"] = (orth, "n't", "'ve")
            exc[orth + "ntve"] = (orth, "nt", "ve")
    for verb in ("could", "might", "must", "should", "would"):
        for orth in both(verb):
            exc[orth + "'ve"] = (orth, "'ve")
            exc[orth + "ve"] = (orth, "ve")
    for verb in ("ai", "are", "is", "was", "were", "have", "has", "dare"):
        for orth in both(verb):
            exc[orth + "n't"] = (orth, "n't")
            exc[orth + "nt"] = (orth, "nt")
    for h in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            exc[f"{h}{period}"] = (str(h), period)
    exc.update({
        "y'all": ("y'", "all"), "yall": ("y", "all"), "how'd'y": ("how", "'d", "'y"),
        "How'd'y": ("How", "'d", "'y"), "not've": ("not", "'ve"), "notve": ("not", "ve"),
        "Not've": ("Not", "'ve"), "Notve": ("Not", "ve"), "cannot": ("can", "not"),
        "Cannot": ("Can", "not"), "gonna": ("gon", "na"), "Gonna": ("Gon", "na"),
        "gotta": ("got", "ta"), "Gotta": ("Got", "ta"), "let's": ("let", "'s"),
        "Let's": ("Let", "'s"), "c'mon": ("c'm", "on"), "C'mon": ("C'm", "on"),
    })
    for orth in _SINGLE_EXCEPTIONS:
        exc[orth] = (orth,)
    for orth in ("Ill", "ill", "Its", "its", "Hell", "hell", "Shell", "shell", "Shed", "shed",
                 "were", "Were", "Well", "well", "Whore", "whore"):
        exc.pop(orth, None)
    for orth in _EMOTICONS:
        exc[orth] = (orth,)
    for u in "cfkCFK":
        exc[f"°{u}."] = ("°", u, ".")
    # spaCy's expand_exc: every exception with ' also exists with ’.
    for key, toks in list(exc.items()):
        if "'" in key:
            exc[key.replace("'", "’")] = tuple(t.replace("'", "’") for t in toks)
    return exc


_SPECIALS = _build_specials()
