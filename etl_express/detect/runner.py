"""``detect_texts``: batch detection over distinct texts, in worker processes when large."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Literal

from etl_express.detect.entities import normalize_entities
from etl_express.detect.resolve import resolve
from etl_express.detect.spans import Span

# Below this many distinct texts, starting worker processes (each imports Presidio and loads
# the models: 3-5 s on an idle machine, far more on a busy one) costs more than it saves.
# Pattern mode is about four times faster per text, so it needs more texts to gain.
POOL_MIN_TEXTS = 4000
POOL_MIN_TEXTS_PATTERNS = 20000


def pool_threshold(mode: str) -> int:
    configured = os.environ.get("ETLX_DETECT_POOL_MIN_TEXTS")
    if configured:
        return int(configured)
    return POOL_MIN_TEXTS if mode == "full" else max(POOL_MIN_TEXTS, POOL_MIN_TEXTS_PATTERNS)


def worker_count() -> int:
    configured = os.environ.get("ETLX_DETECT_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(4, os.cpu_count() or 1))


def _detect_distinct(
    texts: list[str], lang: str, entities: frozenset[str], mode: str, threshold: float
) -> list[list[Span]]:
    from etl_express.detect.engines import get_engine

    engine = get_engine(lang, entities, mode)
    out: list[list[Span]] = []
    for text, results in zip(texts, engine.analyze_batch(texts, threshold), strict=True):
        spans = (Span(r.start, r.end, r.entity_type, float(r.score)) for r in results)
        out.append(resolve(text, spans, threshold))
    return out


def _init_worker() -> None:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


def _detect_parallel(
    texts: list[str], lang: str, entities: frozenset[str], mode: str, threshold: float
) -> list[list[Span]]:
    import multiprocessing

    workers = worker_count()
    size = -(-len(texts) // (workers * 4))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    # spawn: the caller may hold threads (Airflow, uvicorn) that fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        parts = pool.map(
            _detect_distinct,
            chunks,
            *zip(*[(lang, entities, mode, threshold)] * len(chunks), strict=True),
        )
        return [spans for part in parts for spans in part]


def detect_texts(
    texts: Sequence[str],
    *,
    lang: str,
    entities: Collection[str] | None = None,
    mode: Literal["full", "patterns"] = "full",
    score_threshold: float = 0.5,
) -> list[list[Span]]:
    """Spans for each text (same order as ``texts``); each distinct text is analysed once."""
    wanted = normalize_entities(entities)
    distinct = list(dict.fromkeys(t for t in texts if t and not t.isspace()))
    if not distinct or not wanted:
        return [[] for _ in texts]
    if len(distinct) >= pool_threshold(mode) and worker_count() > 1:
        found = _detect_parallel(distinct, lang, wanted, mode, score_threshold)
    else:
        found = _detect_distinct(distinct, lang, wanted, mode, score_threshold)
    by_text = dict(zip(distinct, found, strict=True))
    return [by_text.get(t, []) if t else [] for t in texts]
