import re

import pytest

from filters.lang_codes import normalize_label
from filters.langid import UND, LanguageIdentifier

SENTENCES = {
    "eng_Latn": "The museum opens at nine in the morning and closes late on Fridays during the summer.",
    "deu_Latn": "Das Museum öffnet um neun Uhr morgens und schließt im Sommer freitags erst spät am Abend.",
    "fra_Latn": "Le musée ouvre à neuf heures du matin et ferme tard le vendredi pendant tout l'été.",
    "spa_Latn": "El museo abre a las nueve de la mañana y cierra tarde los viernes durante el verano.",
    "rus_Cyrl": "Музей открывается в девять часов утра и закрывается поздно по пятницам летом.",
    "ell_Grek": "Το μουσείο ανοίγει στις εννέα το πρωί και κλείνει αργά τις Παρασκευές το καλοκαίρι.",
    "arb_Arab": "يفتح المتحف أبوابه في التاسعة صباحا ويغلق متأخرا أيام الجمعة خلال فصل الصيف.",
    "hin_Deva": "संग्रहालय सुबह नौ बजे खुलता है और गर्मियों में शुक्रवार को देर से बंद होता है।",
    "zho_Hans": "博物馆早上九点开门，夏天的星期五很晚才关门，游客可以在里面参观很长时间。",
    "jpn_Jpan": "博物館は朝九時に開館し、夏の間は金曜日の夜遅くまで開いています。ぜひ来てください。",
    "por_Latn": "O museu abre às nove horas da manhã e fecha tarde às sextas-feiras durante o verão.",
    "ita_Latn": "Il museo apre alle nove del mattino e chiude tardi il venerdì durante tutta l'estate.",
    "nld_Latn": "Het museum gaat om negen uur 's ochtends open en sluit in de zomer op vrijdag pas laat.",
    "pol_Latn": "Muzeum jest otwierane o dziewiątej rano, a latem w piątki zamyka się późnym wieczorem.",
    "tur_Latn": "Müze sabah dokuzda açılıyor ve yaz aylarında cuma günleri geç saatte kapanıyor.",
    "vie_Latn": "Bảo tàng mở cửa lúc chín giờ sáng và đóng cửa muộn vào các ngày thứ Sáu trong mùa hè.",
    "ind_Latn": "Museum ini buka pukul sembilan pagi dan tutup larut malam setiap hari Jumat selama musim panas.",
    "swe_Latn": "Museet öppnar klockan nio på morgonen och stänger sent på fredagar under hela sommaren.",
    "ukr_Cyrl": "Музей відчиняється о дев'ятій ранку і влітку по п'ятницях зачиняється пізно ввечері.",
    "kor_Hang": "박물관은 아침 아홉 시에 문을 열고 여름에는 금요일마다 늦게까지 문을 엽니다.",
    "heb_Hebr": "המוזיאון נפתח בתשע בבוקר ונסגר מאוחר בימי שישי במהלך כל הקיץ.",
    "tha_Thai": "พิพิธภัณฑ์เปิดเวลาเก้าโมงเช้าและปิดดึกในวันศุกร์ช่วงฤดูร้อน",
    "pes_Arab": "موزه ساعت نه صبح باز می‌شود و در تابستان روزهای جمعه دیر وقت بسته می‌شود.",
    "ben_Beng": "জাদুঘরটি সকাল নয়টায় খোলে এবং গ্রীষ্মকালে শুক্রবার দেরিতে বন্ধ হয়।",
    "zho_Hant": "博物館早上九點開門，夏天的星期五很晚才關門，遊客可以在裡面參觀很長時間。",
    "srp_Cyrl": "Музеј се отвара у девет сати ујутру, а лети петком се затвара касно увече.",
}


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier("lid176")


def test_lid176_real_sentences(lid):
    preds = lid.predict(list(SENTENCES.values()))
    assert dict(zip(SENTENCES, [code for code, _ in preds])) == {k: k for k in SENTENCES}
    assert all(score > 0.5 for _, score in preds)
    assert len(SENTENCES) >= 20 and len({k.split("_")[1] for k in SENTENCES}) >= 6


# Every lid.176 label and the code it becomes, checked by hand against the languages the
# labels stand for in the Wikipedia dumps the model was trained on.
LID176_EXPECTED = {
    "af": "afr_Latn", "als": "gsw_Latn", "am": "amh_Ethi", "an": "arg_Latn", "ar": "arb_Arab",
    "arz": "arz_Arab", "as": "asm_Beng", "ast": "ast_Latn", "av": "ava_Cyrl", "az": "azj_Latn",
    "azb": "azb_Arab", "ba": "bak_Cyrl", "bar": "bar_Latn", "bcl": "bcl_Latn", "be": "bel_Cyrl",
    "bg": "bul_Cyrl", "bh": "bho_Deva", "bn": "ben_Beng", "bo": "bod_Tibt", "bpy": "bpy_Beng",
    "br": "bre_Latn", "bs": "bos_Latn", "bxr": "bxr_Cyrl", "ca": "cat_Latn", "cbk": "cbk_Latn",
    "ce": "che_Cyrl", "ceb": "ceb_Latn", "ckb": "ckb_Arab", "co": "cos_Latn", "cs": "ces_Latn",
    "cv": "chv_Cyrl", "cy": "cym_Latn", "da": "dan_Latn", "de": "deu_Latn", "diq": "diq_Latn",
    "dsb": "dsb_Latn", "dty": "dty_Deva", "dv": "div_Thaa", "el": "ell_Grek", "eml": "egl_Latn",
    "en": "eng_Latn", "eo": "epo_Latn", "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn",
    "fa": "pes_Arab", "fi": "fin_Latn", "fr": "fra_Latn", "frr": "frr_Latn", "fy": "fry_Latn",
    "ga": "gle_Latn", "gd": "gla_Latn", "gl": "glg_Latn", "gn": "grn_Latn", "gom": "gom_Deva",
    "gu": "guj_Gujr", "gv": "glv_Latn", "he": "heb_Hebr", "hi": "hin_Deva", "hif": "hif_Latn",
    "hr": "hrv_Latn", "hsb": "hsb_Latn", "ht": "hat_Latn", "hu": "hun_Latn", "hy": "hye_Armn",
    "ia": "ina_Latn", "id": "ind_Latn", "ie": "ile_Latn", "ilo": "ilo_Latn", "io": "ido_Latn",
    "is": "isl_Latn", "it": "ita_Latn", "ja": "jpn_Jpan", "jbo": "jbo_Latn", "jv": "jav_Latn",
    "ka": "kat_Geor", "kk": "kaz_Cyrl", "km": "khm_Khmr", "kn": "kan_Knda", "ko": "kor_Hang",
    "krc": "krc_Cyrl", "ku": "kmr_Latn", "kv": "kpv_Cyrl", "kw": "cor_Latn", "ky": "kir_Cyrl",
    "la": "lat_Latn", "lb": "ltz_Latn", "lez": "lez_Cyrl", "li": "lim_Latn", "lmo": "lmo_Latn",
    "lo": "lao_Laoo", "lrc": "lrc_Arab", "lt": "lit_Latn", "lv": "lvs_Latn", "mai": "mai_Deva",
    "mg": "plt_Latn", "mhr": "mhr_Cyrl", "min": "min_Latn", "mk": "mkd_Cyrl", "ml": "mal_Mlym",
    "mn": "khk_Cyrl", "mr": "mar_Deva", "mrj": "mrj_Cyrl", "ms": "zsm_Latn", "mt": "mlt_Latn",
    "mwl": "mwl_Latn", "my": "mya_Mymr", "myv": "myv_Cyrl", "mzn": "mzn_Arab", "nah": "nah_Latn",
    "nap": "nap_Latn", "nds": "nds_Latn", "ne": "npi_Deva", "new": "new_Deva", "nl": "nld_Latn",
    "nn": "nno_Latn", "no": "nob_Latn", "oc": "oci_Latn", "or": "ory_Orya", "os": "oss_Cyrl",
    "pa": "pan_Guru", "pam": "pam_Latn", "pfl": "pfl_Latn", "pl": "pol_Latn", "pms": "pms_Latn",
    "pnb": "pnb_Arab", "ps": "pbt_Arab", "pt": "por_Latn", "qu": "quy_Latn", "rm": "roh_Latn",
    "ro": "ron_Latn", "ru": "rus_Cyrl", "rue": "rue_Cyrl", "sa": "san_Deva", "sah": "sah_Cyrl",
    "sc": "srd_Latn", "scn": "scn_Latn", "sco": "sco_Latn", "sd": "snd_Arab", "sh": "hbs_Latn",
    "si": "sin_Sinh", "sk": "slk_Latn", "sl": "slv_Latn", "so": "som_Latn", "sq": "als_Latn",
    "sr": "srp_Cyrl", "su": "sun_Latn", "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml",
    "te": "tel_Telu", "tg": "tgk_Cyrl", "th": "tha_Thai", "tk": "tuk_Latn", "tl": "tgl_Latn",
    "tr": "tur_Latn", "tt": "tat_Cyrl", "tyv": "tyv_Cyrl", "ug": "uig_Arab", "uk": "ukr_Cyrl",
    "ur": "urd_Arab", "uz": "uzn_Latn", "vec": "vec_Latn", "vep": "vep_Latn", "vi": "vie_Latn",
    "vls": "vls_Latn", "vo": "vol_Latn", "wa": "wln_Latn", "war": "war_Latn", "wuu": "wuu_Hans",
    "xal": "xal_Cyrl", "xmf": "xmf_Geor", "yi": "ydd_Hebr", "yo": "yor_Latn", "yue": "yue_Hant",
    "zh": "zho_Hans",
}


def test_every_lid176_label_maps_as_checked(lid):
    assert lid.label_format == "iso"
    got = {lab.removeprefix("__label__"): normalize_label(lab) for lab in lid.labels}
    assert got == LID176_EXPECTED
    assert all(re.match(r"^[a-z]{3}_[A-Z][a-z]{3}$", c) for c in got.values())


def test_paragraph_shares(lid):
    text = (SENTENCES["eng_Latn"] + "\n\n" + SENTENCES["deu_Latn"] + "\n\n" + SENTENCES["fra_Latn"]
            + " " + SENTENCES["fra_Latn"])
    (shares,) = lid.paragraph_shares([text])
    assert list(shares)[0] == "fra_Latn" and set(shares) == {"fra_Latn", "eng_Latn", "deu_Latn"}
    assert abs(sum(shares.values()) - 1.0) < 1e-3
    assert lid.paragraph_shares(["ok"]) == [{"und_Zyyy": 1.0}]


def test_short_text_is_undetermined(lid):
    assert lid.predict(["ok", "", "1234 5678 !!!"]) == [(UND, 0.0)] * 3


def test_newlines_do_not_cut_the_text(lid):
    (code, _), = lid.predict(["Bonjour\nà tous, le marché\nde la ville ouvre ce matin\navec des fruits frais."])
    assert code == "fra_Latn"


@pytest.mark.parametrize("label,text,code", [
    ("__label__en", None, "eng_Latn"),
    ("__label__ar", None, "arb_Arab"),
    ("__label__als", None, "gsw_Latn"),
    ("__label__eng_Latn", None, "eng_Latn"),
    ("__label__zh", "這是我們的學校", "zho_Hant"),
    ("__label__zh", "这是我们的学校", "zho_Hans"),
    ("__label__sr", "Ово је наша школа", "srp_Cyrl"),
    ("__label__sr", "Ovo je naša škola", "srp_Latn"),
])
def test_label_normalisation(label, text, code):
    assert normalize_label(label, text) == code


def test_missing_model_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("EARLYFUSE_MODELS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="jobs.install_models"):
        LanguageIdentifier("lid176")
