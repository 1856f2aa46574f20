"""Span scoring as the privacy corpus README defines it: exact and one-to-one overlap."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Gold = Mapping[str, Any]  # {"start", "end", "entity", ...}


def match_count(gold: Sequence[Gold], pred: Sequence[Gold], *, overlap: bool) -> int:
    """True positives between one text's gold and predicted spans (each used at most once)."""
    tp = 0
    used: set[int] = set()
    for p in pred:
        for i, g in enumerate(gold):
            if i in used or g["entity"] != p["entity"]:
                continue
            if overlap:
                hit = g["start"] < p["end"] and p["start"] < g["end"]
            else:
                hit = (g["start"], g["end"]) == (p["start"], p["end"])
            if hit:
                tp += 1
                used.add(i)
                break
    return tp


@dataclass
class Counts:
    tp: int = 0
    pred: int = 0
    gold: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.pred += other.pred
        self.gold += other.gold

    def as_dict(self) -> dict[str, float | int]:
        precision = self.tp / self.pred if self.pred else 1.0
        recall = self.tp / self.gold if self.gold else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "tp": self.tp,
            "predicted": self.pred,
            "gold": self.gold,
        }


@dataclass
class Scoreboard:
    """Counts per (language, entity) for one matching rule."""

    overlap: bool
    cells: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))

    def add_text(self, lang: str, gold: Sequence[Gold], pred: Sequence[Gold]) -> None:
        for entity in {g["entity"] for g in gold} | {p["entity"] for p in pred}:
            g_e = [g for g in gold if g["entity"] == entity]
            p_e = [p for p in pred if p["entity"] == entity]
            cell = self.cells[(lang, entity)]
            cell.tp += match_count(g_e, p_e, overlap=self.overlap)
            cell.pred += len(p_e)
            cell.gold += len(g_e)

    def total(self, keys: Iterable[tuple[str, str]] | None = None) -> Counts:
        out = Counts()
        for key in keys if keys is not None else self.cells:
            out.add(self.cells[key])
        return out

    def report(self) -> dict[str, Any]:
        langs = sorted({lang for lang, _ in self.cells})
        entities = sorted({entity for _, entity in self.cells})
        return {
            "overall": self.total().as_dict(),
            "by_language": {
                lang: self.total(k for k in self.cells if k[0] == lang).as_dict() for lang in langs
            },
            "by_entity": {
                e: self.total(k for k in self.cells if k[1] == e).as_dict() for e in entities
            },
            "by_language_entity": {
                f"{lang}/{entity}": counts.as_dict()
                for (lang, entity), counts in sorted(self.cells.items())
            },
        }
