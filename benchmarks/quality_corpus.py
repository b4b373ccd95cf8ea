"""A deterministic generator of English web-like pages of varied quality, for the quality
rules' benchmark and agreement tests.

`make_corpus` makes pages of varied quality (good prose, boilerplate, short pages, bullet lists, repeated lines and
paragraphs, n-gram spam, lorem ipsum, JavaScript notices, cookie/policy lines, hashtags,
ellipses, curly brackets, lines without terminal punctuation, menus, number tables...),
with many pages placed near one threshold or another, from a few hundred sentence templates:
a controlled corpus for agreement, not an open vocabulary (benchmarks/real_text.py is that).
"""

from __future__ import annotations

import random

# ----------------------------------------------------------------------------------------
# Corpus generator
# ----------------------------------------------------------------------------------------

_SUBJECTS = [
    "the city council", "our neighbours", "the new library", "a small team of engineers",
    "most farmers in the valley", "the museum's director", "local teachers", "the company",
    "scientists at the institute", "my grandmother", "volunteers from the sailing club",
    "the regional government", "two students from Leeds", "the hospital board",
    "a family-run bakery", "the planning committee", "researchers in Norway", "the author",
    "the football club", "several shop owners", "the school's head teacher", "the union",
    "an independent review", "the festival organisers", "the ministry of health",
    "a group of residents", "the chief executive", "the orchestra", "the railway operator",
    "the county archive",
]
_VERBS = [
    ("announced", "announce"), ("described", "describe"), ("questioned", "question"),
    ("supported", "support"), ("rebuilt", "rebuild"), ("reviewed", "review"),
    ("celebrated", "celebrate"), ("opened", "open"), ("explained", "explain"),
    ("measured", "measure"), ("improved", "improve"), ("discussed", "discuss"),
    ("planned", "plan"), ("rejected", "reject"), ("studied", "study"), ("repaired", "repair"),
    ("tested", "test"), ("published", "publish"), ("defended", "defend"), ("funded", "fund"),
    ("delayed", "delay"), ("welcomed", "welcome"), ("criticised", "criticise"),
    ("documented", "document"),
]
_OBJECTS = [
    "a plan to widen the main road", "the results of the survey", "the history of the harbour",
    "a new recycling programme", "the cost of the repairs", "its annual report",
    "the effects of the long drought", "the changes to the bus timetable",
    "an exhibition of local photographs", "the idea of a four-day week",
    "the proposal for a second bridge", "the old water mill", "a scheme to plant more trees",
    "the decision to close the post office", "the design of the new school",
    "a study of migrating birds", "the rules for parking near the station",
    "the budget for next year", "the damage caused by the storm", "a guide to the local dialect",
    "the price of heating oil", "the records of the parish", "a cheaper way to insulate homes",
    "the quality of the drinking water", "the route of the marathon", "the garden behind the church",
    "the use of solar panels on public buildings", "a collection of letters from the war",
]
_ADJUNCTS = [
    "last week", "on Tuesday morning", "after a long debate", "in front of a large crowd",
    "for the first time since 2015", "with the help of a local charity", "despite heavy rain",
    "during the summer holidays", "at the end of the meeting", "earlier this year",
    "in a short statement", "without much fuss", "after months of delay", "on the radio",
    "in the spring of 2019", "to the surprise of many", "at a cost of about $2.5 million",
    "in a letter to the editor", "before the election", "over the weekend",
]
_CLAUSES = [
    "nobody expected it to happen so quickly", "the details are still unclear",
    "many people were not convinced", "the work will take at least two years",
    "critics say the money could be better spent", "the weather made everything harder",
    "the final decision is expected in March", "most of the cost will be covered by grants",
    "it is too early to say whether it will work", "the numbers have improved since then",
    "several questions remain unanswered", "the public was invited to comment",
]
_PEOPLE = [
    "Dr. Smith", "Mrs. Patel", "Professor Ahmed", "Mr. O'Brien", "Anna Kowalski",
    "the mayor", "a spokesperson", "one resident", "Sarah Jones", "Mr. Nakamura",
]
_QUOTES = [
    "We were surprised by how strong the effect was", "This is a good day for the town",
    "It's not perfect, but it's a start", "We don't have enough staff to do it properly",
    "People here have waited a long time for this", "I think we can do better",
    "Nobody wants to pay more for less", "The river has always shaped this place",
]
_FACTS = [
    "Prices rose by {p}% in {m}, according to figures released by the statistics office (ONS).",
    "The project, which began in {y}, has already cost more than ${n} million.",
    "About {n},000 people live in the town, and roughly {p}% of them work in farming.",
    "The report, published on {d} {m}, runs to {n}0 pages and includes {n} recommendations.",
    "Temperatures reached {n}{n} degrees, the highest since records began in 18{n}{n}.",
    "The U.S. figures were similar, e.g. a rise of {p}.{n}% over the same period.",
    "The well-known long-term study followed {n},{n}00 children from {y} to {y2}.",
    "It wasn't clear whether the plan would survive the vote, but most members seemed optimistic.",
    "Isn't it strange that nobody asked the people who actually live there?",
    "There's a small café near the station where you can't get a table after 9 a.m. on Saturdays.",
]
_MONTHS = ["January", "March", "April", "June", "August", "October", "November"]

_LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
          "incididunt ut labore et dolore magna aliqua.")
_JS = [
    "Please enable JavaScript to view the comments powered by Disqus.",
    "You need to enable JavaScript to run this app.",
    "This site requires JavaScript to work properly, so please turn it on.",
    "JavaScript is disabled in your browser.",
]
_POLICY = [
    "This website uses cookies to improve your experience.",
    "By continuing to browse the site you agree to our use of cookies.",
    "Please read our privacy policy and terms of use before you register.",
    "We use cookies to personalise content and ads, and to analyse our traffic.",
    "See our cookie policy for more information.",
]
_MENU = ["Home", "About us", "Contact", "News", "Events", "Shop", "Login", "Register",
         "Search", "Privacy", "Sitemap", "Careers", "Blog", "FAQ", "Help", "Archive",
         "Subscribe", "Next page", "Previous", "Share", "Print", "Back to top"]
_FOOTER = ["Share this article.", "Posted in News.", "Read more.", "All rights reserved.",
           "Leave a comment.", "Tags: town, council, roads.", "Follow us on social media!"]
_HEADLINES = [
    "Council approves new budget for parks", "Ten things to do this weekend",
    "Local team wins regional final", "How to grow tomatoes on a balcony",
    "Road closures expected next month", "Photos from the summer fair",
    "Interview with the new head teacher", "Weather warning for the coast",
    "Best walks in the national park", "Market prices for October",
]
_SPAM = ["buy cheap watches online", "best price guaranteed", "free shipping today",
         "cheap flights to london", "replica bags sale", "click here for discount",
         "top rated casino bonus", "lose weight fast now"]
_KEYWORDS = ["watches", "cheap", "discount", "sale", "luxury", "replica", "online", "store",
             "brand", "deal", "offer", "gold", "silver", "steel", "men", "women", "quartz",
             "automatic", "chronograph", "leather", "strap", "sport", "diver", "classic"]
_ITEMS = ["fresh bread from the bakery", "two litres of milk", "a bag of apples",
          "the keys to the shed", "batteries for the radio", "a map of the old town",
          "tickets for the concert", "a warm jacket", "sun cream", "the library books",
          "a new notebook", "stamps for the letters", "a pot of honey", "seeds for the garden"]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    s, (v, vb), o = rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS)
    a = rng.choice(_ADJUNCTS)
    if kind < 0.30:
        return f"{_cap(s)} {v} {o} {a}."
    if kind < 0.42:
        return f"{_cap(a)}, {s} {v} {o}."
    if kind < 0.54:
        return f"{_cap(s)} {v} {o}, but {rng.choice(_CLAUSES)}."
    if kind < 0.62:
        return f"\"{rng.choice(_QUOTES)},\" said {rng.choice(_PEOPLE)}."
    if kind < 0.68:
        return f"Why did {s} {vb} {o}?"
    if kind < 0.74:
        return f"According to {rng.choice(_PEOPLE)}, {s} {v} {o} {a}."
    if kind < 0.80:
        return f"{_cap(s)} (which {v} {o}) said that {rng.choice(_CLAUSES)}."
    if kind < 0.93:
        f = rng.choice(_FACTS)
        return f.format(p=rng.randint(2, 40), m=rng.choice(_MONTHS), y=rng.randint(1990, 2020),
                        y2=rng.randint(2021, 2024), n=rng.randint(1, 9), d=rng.randint(1, 28))
    return f"It is not the first time that {s} {v} {o}; {rng.choice(_CLAUSES)}!"


def _paragraph(rng: random.Random, n_sent: int) -> str:
    return " ".join(_sentence(rng) for _ in range(n_sent))


def _prose(rng: random.Random, n_para: int, lo: int = 2, hi: int = 6, sep: str | None = None) -> str:
    sep = sep if sep is not None else rng.choice(["\n\n", "\n", "\n\n", "\n"])
    return sep.join(_paragraph(rng, rng.randint(lo, hi)) for _ in range(n_para))


def _lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip()]


def _insert_lines(rng: random.Random, base: list[str], extra: list[str]) -> list[str]:
    out = list(base)
    for ln in extra:
        out.insert(rng.randint(0, len(out)), ln)
    return out


def _doc_prose(rng):
    return _prose(rng, rng.randint(2, 7))


def _doc_short(rng):
    n = rng.randint(1, 6)
    return " ".join(_sentence(rng) for _ in range(n))


def _doc_near_words(rng):
    # Around Gopher's 50-word and C4's 5-sentence limits.
    words = rng.randint(30, 75)
    out, count = [], 0
    while count < words:
        s = _sentence(rng)
        out.append(s)
        count += len(s.split())
    sep = rng.choice([" ", "\n"])
    return sep.join(out)


def _doc_bullets(rng):
    n = rng.randint(4, 25)
    mark = rng.choice(["- ", "• ", "-", "* "])
    end = rng.choice(["", ".", ";"])
    items = [f"{mark}{_cap(rng.choice(_ITEMS))} and {rng.choice(_ITEMS)}{end}" for _ in range(n)]
    head = [_paragraph(rng, rng.randint(1, 3)) for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]
    return "\n".join(head + items)


def _doc_dup_lines(rng):
    lines = _lines(_prose(rng, rng.randint(2, 6), 1, 4, sep="\n"))
    k = rng.choice([0, 1, 1, 2, 3, 5, 8])
    dups = [rng.choice(lines) for _ in range(k)]
    if rng.random() < 0.5:
        dups += [rng.choice(_FOOTER)] * rng.randint(1, 3)
    return "\n".join(_insert_lines(rng, lines, dups))


def _doc_dup_paras(rng):
    paras = [_paragraph(rng, rng.randint(1, 4)) for _ in range(rng.randint(2, 6))]
    k = rng.choice([0, 1, 1, 2, 3])
    paras = _insert_lines(rng, paras, [rng.choice(paras) for _ in range(k)])
    return "\n\n".join(paras)


def _doc_spam(rng):
    mode = rng.random()
    if mode < 0.4:
        phrase = rng.choice(_SPAM)
        parts = []
        for _ in range(rng.randint(5, 40)):
            parts.append(phrase if rng.random() < 0.7 else rng.choice(_SPAM))
        return rng.choice([" ", ". ", "\n", ", "]).join(parts) + "."
    # Prose with a repeated slogan mixed in at varying density.
    sents = [_sentence(rng) for _ in range(rng.randint(6, 20))]
    slogan = _cap(rng.choice(_SPAM)) + rng.choice(["!", ".", ""])
    for _ in range(rng.randint(0, 8)):
        sents.insert(rng.randint(0, len(sents)), slogan)
    return " ".join(sents) if rng.random() < 0.6 else "\n".join(sents)


def _doc_lorem(rng):
    lines = _lines(_prose(rng, rng.randint(2, 5), sep="\n"))
    lorem = _LOREM if rng.random() < 0.7 else _LOREM[:-1]
    if rng.random() < 0.3:
        lorem = lorem.split(",")[0]  # "Lorem ipsum dolor sit amet" - fewer words, no end punct
    return "\n".join(_insert_lines(rng, lines, [lorem]))


def _doc_javascript(rng):
    lines = _lines(_prose(rng, rng.randint(1, 4), 1, 3, sep="\n"))
    js = [rng.choice(_JS) for _ in range(rng.randint(1, 4))]
    return "\n".join(_insert_lines(rng, lines, js))


def _doc_policy(rng):
    lines = _lines(_prose(rng, rng.randint(1, 4), 1, 3, sep="\n"))
    pol = [rng.choice(_POLICY) for _ in range(rng.randint(1, 4))]
    return "\n".join(_insert_lines(rng, lines, pol))


def _doc_hashtags(rng):
    text = _prose(rng, rng.randint(1, 4))
    words = text.split(" ")
    rate = rng.choice([0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.25])
    tags = ["#news", "#travel", "#food", "#local", "#photo", "#summer", "#1", "#tbt"]
    out = []
    for w in words:
        out.append(w)
        if rng.random() < rate:
            out.append(rng.choice(tags))
    return " ".join(out)


def _doc_ellipsis(rng):
    lines = _lines(_prose(rng, rng.randint(3, 10), 1, 3, sep="\n"))
    frac = rng.choice([0.1, 0.2, 0.3, 0.4, 0.6])
    out = []
    for ln in lines:
        if rng.random() < frac:
            ln = ln[:-1] + rng.choice(["...", "…", " ...", "... Read more..."])
        elif rng.random() < 0.2:
            ln = ln.replace(", ", "... ", 1)
        out.append(ln)
    return "\n".join(out)


def _doc_trailing_dots(rng):
    # Ellipses inside sentences: chat-like hesitation, "..." as a symbol word.
    sents = []
    for _ in range(rng.randint(4, 16)):
        words = _sentence(rng)[:-1].split()
        out = [w + ("..." if rng.random() < rng.choice([0.05, 0.1, 0.2]) else "") for w in words]
        sents.append(" ".join(out) + ".")
    return rng.choice([" ", "\n"]).join(sents)


def _doc_links(rng):
    # Link lists: long lines of one or two tokens (not "short", but few words per newline).
    hosts = ["www.example.com", "news.example.org", "shop.example.net", "blog.example.co.uk"]
    links = []
    for _ in range(rng.randint(3, 25)):
        slug = "-".join(rng.sample(["local", "news", "council", "roads", "summer", "festival",
                                    "budget", "school", "river", "bridge", "market"], 4))
        links.append(f"https://{rng.choice(hosts)}/{rng.randint(2015, 2024)}/{slug}.html")
    prose = _lines(_prose(rng, rng.randint(1, 3), 1, 4, sep="\n"))
    out = _insert_lines(rng, prose, links)
    return rng.choice(["\n", "\n\n", "\n\n\n"]).join(out)


def _doc_curly(rng):
    lines = _lines(_prose(rng, rng.randint(2, 5), sep="\n"))
    code = rng.choice([
        "function init() { return load(config); }",
        "The settings are stored as {\"theme\": \"dark\"} in the file.",
        "Use {name} as a placeholder in the template.",
        "body { margin: 0 }",
        "See the {glossary} page",
    ])
    return "\n".join(_insert_lines(rng, lines, [code]))


def _doc_no_punct(rng):
    heads = [rng.choice(_HEADLINES) for _ in range(rng.randint(3, 15))]
    if rng.random() < 0.6:
        heads = [f"{h} - {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)[0]} {rng.choice(_OBJECTS)}"
                 for h in heads]
    body = [_sentence(rng) for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8]))]
    return "\n".join(_insert_lines(rng, heads, body))


def _doc_menu(rng):
    lines = _lines(_prose(rng, rng.randint(1, 4), 1, 4, sep="\n"))
    menu = rng.sample(_MENU, rng.randint(2, min(len(_MENU), 18)))
    if rng.random() < 0.5:
        return "\n".join(menu + lines + rng.sample(_MENU, rng.randint(0, 6)))
    return "\n".join(_insert_lines(rng, lines, menu))


def _doc_numbers(rng):
    rows = []
    for _ in range(rng.randint(3, 20)):
        cells = [f"{rng.uniform(0, 999):.{rng.randint(0, 2)}f}" for _ in range(rng.randint(3, 8))]
        if rng.random() < 0.5:
            cells.insert(0, rng.choice(["Total", "Week", "Item", "Price"]))
        rows.append(" ".join(cells))
    prose = [_sentence(rng) for _ in range(rng.randint(0, 6))]
    return "\n".join(prose[: len(prose) // 2] + rows + prose[len(prose) // 2:])


def _doc_word_length(rng):
    if rng.random() < 0.5:
        # Very short words: chat-like text.
        pool = ["a", "an", "to", "of", "on", "is", "it", "ok", "so", "we", "go", "me", "u", "r",
                "the", "and", "be", "ya", "lol", "hi", "yes", "no", "oh", "my", "do", "up"]
        sents = [" ".join(rng.choice(pool) for _ in range(rng.randint(4, 12))) + "."
                 for _ in range(rng.randint(6, 20))]
        mix = [_sentence(rng) for _ in range(rng.randint(0, 4))]
        return " ".join(_insert_lines(rng, sents, mix))
    # Very long words: identifiers, URLs and long compounds.
    pool = ["internationalisation", "telecommunications", "counterrevolutionary",
            "https://example.com/path/to/resource/index.html", "electroencephalography",
            "characteristically", "misunderstandings", "responsibilities",
            "a1b2c3d4e5f6a7b8c9d0", "incomprehensibilities"]
    sents = [" ".join(rng.choice(pool) for _ in range(rng.randint(3, 8))) + ", and the "
             + rng.choice(pool) + "." for _ in range(rng.randint(6, 16))]
    mix = [_sentence(rng) for _ in range(rng.randint(0, 6))]
    return " ".join(_insert_lines(rng, sents, mix))


def _doc_keywords(rng):
    n = rng.randint(40, 200)
    words = [rng.choice(_KEYWORDS) for _ in range(n)]
    for stop in ("the", "and", "of", "with", "to"):
        if rng.random() < 0.3:
            words.insert(rng.randint(0, len(words)), stop)
    lines, i = [], 0
    while i < len(words):
        k = rng.randint(5, 15)
        lines.append(" ".join(words[i:i + k]) + rng.choice([".", "", ",", "!"]))
        i += k
    return "\n".join(lines)


def _doc_boilerplate(rng):
    lines = _lines(_prose(rng, rng.randint(2, 6), 1, 4, sep="\n"))
    extra = [rng.choice(_FOOTER) for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.4:
        extra += [rng.choice(_HEADLINES) for _ in range(rng.randint(1, 4))]
    out = _insert_lines(rng, lines, extra)
    if rng.random() < 0.3:
        out = [ln + " " if rng.random() < 0.3 else ln for ln in out]  # trailing spaces
    return "\n".join(out)


def _doc_mixed(rng):
    # Prose with a bit of everything, each feature rare: the pages that sit near thresholds.
    lines = _lines(_prose(rng, rng.randint(2, 8), 1, 5, sep="\n"))
    extras = []
    for pool, p in ((_MENU, 0.4), (_FOOTER, 0.3), (_POLICY, 0.15), (_JS, 0.1), (_HEADLINES, 0.3)):
        if rng.random() < p:
            extras += [rng.choice(pool) for _ in range(rng.randint(1, 3))]
    out = _insert_lines(rng, lines, extras)
    text = "\n".join(out)
    if rng.random() < 0.3:
        text = text.replace(". ", ".\n", rng.randint(1, 6))
    if rng.random() < 0.15:
        text = "\n" + text + "\n"
    if rng.random() < 0.1:
        text = text.replace("\n", "\n\n\n", 2)
    if rng.random() < 0.1:
        text += " [1] [edit]"
    return text


_KINDS = [
    (_doc_prose, 22), (_doc_short, 6), (_doc_near_words, 7), (_doc_bullets, 5),
    (_doc_dup_lines, 7), (_doc_dup_paras, 5), (_doc_spam, 6), (_doc_lorem, 3),
    (_doc_javascript, 4), (_doc_policy, 4), (_doc_hashtags, 5), (_doc_ellipsis, 5),
    (_doc_curly, 3), (_doc_no_punct, 5), (_doc_menu, 6), (_doc_numbers, 3),
    (_doc_word_length, 3), (_doc_keywords, 3), (_doc_boilerplate, 6), (_doc_mixed, 10),
    (_doc_trailing_dots, 3), (_doc_links, 3),
]


def make_corpus(n: int = 3000, seed: int = 0) -> list[str]:
    """`n` English pages of varied quality, the same for the same (n, seed)."""
    rng = random.Random(seed)
    fns = [f for f, _ in _KINDS]
    weights = [w for _, w in _KINDS]
    return [rng.choices(fns, weights)[0](rng) for _ in range(n)]


