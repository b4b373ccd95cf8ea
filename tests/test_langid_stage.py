"""The language-ID stage's batch function, without Spark."""

from pipelines.config import LangIdConfig
from pipelines.schema import caption_part, image_part, record, records_to_batch, text_part
from pipelines.stages.langid import LangIdProcessor
from tests.test_langid import SENTENCES

EN, DE, FR = SENTENCES["eng_Latn"], SENTENCES["deu_Latn"], SENTENCES["fra_Latn"]


def batch(*parts_lists):
    return records_to_batch([record(f"id{i}", "s", f"u{i}", parts) for i, parts in enumerate(parts_lists)])


def test_alt_text_and_captions_identified():
    b = batch([text_part(EN + " " + EN), image_part(b"x", src="http://i", alt=DE)],
              [image_part(b"y"), caption_part("ok")])
    out = LangIdProcessor(LangIdConfig())(b)
    assert out["lang"][0] == "eng_Latn"
    meta = dict(out["parts"][0][1]["meta"])
    assert meta["alt_lang"] == "deu_Latn" and float(meta["alt_lang_score"]) > 0.5
    # an image-text pair with an undeterminable caption is kept, its language recorded as und
    assert out["lang"][1] == "und_Zyyy" and out["reasons"][1] is None


def test_top_k_and_reasons():
    cfg = LangIdConfig(top_k=3, keep=["eng_Latn", "fra_Latn"])
    out = LangIdProcessor(cfg)(batch([text_part(EN)], [text_part(DE)], [text_part("hm ok")]))
    assert out["reasons"] == [None, "language_not_kept", "undetermined"]
    tops = [k for k in out["signals"][0] if k.startswith("langid.top.")]
    assert "langid.top.eng_Latn" in tops and len(tops) == 3


def test_paragraph_modes():
    mixed = [text_part(f"{EN}\n\n{DE}\n\n{FR}")]
    clean = [text_part(f"{EN}\n\n{EN}")]
    rec = LangIdProcessor(LangIdConfig(paragraph_mode="record"))(batch(mixed, clean))
    assert rec["reasons"] == [None, None]
    assert {k for k in rec["signals"][0] if k.startswith("langid.share.")} == {
        "langid.share.eng_Latn", "langid.share.deu_Latn", "langid.share.fra_Latn"}
    assert rec["signals"][1]["langid.share.eng_Latn"] == 1.0
    rej = LangIdProcessor(LangIdConfig(paragraph_mode="reject"))(batch(mixed, clean))
    assert rej["reasons"] == ["mixed_language", None]
    maj = LangIdProcessor(LangIdConfig(paragraph_mode="majority", min_majority_share=0.9))(
        batch([text_part(f"{EN} {EN}\n\n{DE}\n\n{EN}")]))
    assert maj["reasons"] == [None]
    assert maj["parts"][0][0]["text"] == f"{EN} {EN}\n{EN}"
    assert maj["signals"][0]["langid.dropped_paragraphs"] == 1.0
