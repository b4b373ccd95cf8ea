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
}


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier("lid176")


def test_lid176_real_sentences(lid):
    preds = lid.predict(list(SENTENCES.values()))
    assert [code for code, _ in preds] == list(SENTENCES)
    assert all(score > 0.5 for _, score in preds)


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
