from filters.gopher_quality import GopherThresholds, decide, signals

T = GopherThresholds()
GOOD_EN = (
    "The village market opens every Saturday morning in the square next to the church. "
    "Farmers from the surrounding valleys bring vegetables, cheese, honey and bread, and "
    "the stalls are usually crowded before nine o'clock. Many families have been selling "
    "there for generations, and they know most of their customers by name. In the summer "
    "the market stays open until the early afternoon, and musicians play near the fountain "
    "while children run between the tables with the dogs of the town."
)


def test_good_english_kept():
    s = signals(GOOD_EN, "eng_Latn")
    assert decide(s, T) is None
    assert s["stop_words"] >= 2


def test_short_doc():
    assert decide(signals("Click here to subscribe now.", "eng_Latn"), T) == "gopher_short_doc"


def test_symbol_heavy_and_bullets():
    hashes = " ".join(["#tag"] * 60) + " " + GOOD_EN
    assert decide(signals(hashes, "eng_Latn"), T) == "gopher_too_many_hashes"
    bullets = "\n".join(f"- item number {i} in the long list of things that we have" for i in range(80))
    assert decide(signals(bullets, "eng_Latn"), T) == "gopher_too_many_bullets"


def test_repeated_lines():
    text = "\n".join(["Buy cheap watches online today and save money with the best offers"] * 20)
    assert decide(signals(text, "eng_Latn"), T) == "gopher_rep_dup_line_frac"


def test_no_stop_words_in_english():
    text = " ".join(f"keyword{i % 7} cheap discount bargain" for i in range(30))
    assert decide(signals(text, "eng_Latn"), T) == "gopher_enough_stop_words"


def test_stop_words_not_applied_to_other_languages():
    de = ("Der Wochenmarkt findet jeden Samstag auf dem Platz neben der Kirche statt. Bauern aus "
          "den umliegenden Tälern bringen Gemüse, Käse, Honig und Brot, und die Stände sind meist "
          "schon vor neun Uhr voll. Viele Familien verkaufen dort seit Generationen und kennen die "
          "meisten Kunden beim Namen. Im Sommer bleibt der Markt bis zum frühen Nachmittag geöffnet.")
    assert decide(signals(de, "deu_Latn"), T) is None


def test_unspaced_scripts_are_not_judged_by_word_length():
    zh = ("每个星期六早上，村里的集市都会在教堂旁边的广场上开市。附近山谷里的农民带来蔬菜、奶酪、蜂蜜和面包，"
          "九点以前摊位上通常已经挤满了人。许多家庭几代人都在那里卖东西，认识大多数顾客。夏天集市一直开到下午，"
          "音乐家在喷泉旁边演奏，孩子们和镇上的狗在桌子之间跑来跑去。")
    s = signals(zh, "zho_Hans")
    assert s["unspaced"] == 1.0
    assert decide(s, T) is None
    th = ("ตลาดในหมู่บ้านเปิดทุกเช้าวันเสาร์ที่ลานข้างโบสถ์ เกษตรกรจากหุบเขาโดยรอบนำผัก ชีส น้ำผึ้ง และขนมปังมาขาย "
          "แผงลอยมักจะแน่นก่อนเก้าโมงเช้า หลายครอบครัวขายของที่นั่นมาหลายชั่วอายุคนและรู้จักลูกค้าส่วนใหญ่ด้วยชื่อ")
    assert decide(signals(th, "tha_Thai"), T) is None
