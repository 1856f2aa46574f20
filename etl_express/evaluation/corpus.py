"""Reading the privacy corpus (../shared/privacy-corpus relative to the repository)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "privacy-corpus"


@dataclass(frozen=True)
class LabeledText:
    id: str
    lang: str
    text: str
    spans: list[dict[str, Any]]
    source: str


def corpus_dir(path: str | os.PathLike[str] | None = None) -> Path:
    chosen = Path(path or os.environ.get("ETLX_PRIVACY_CORPUS") or DEFAULT_CORPUS)
    if not (chosen / "texts.jsonl").is_file():
        raise FileNotFoundError(
            f"privacy corpus not found at {chosen} (expected texts.jsonl there); "
            "pass --corpus or set ETLX_PRIVACY_CORPUS"
        )
    return chosen


def load_labeled(directory: Path) -> list[LabeledText]:
    items: list[LabeledText] = []
    for name in ("texts.jsonl", "records_comment_spans.jsonl"):
        path = directory / name
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                items.append(
                    LabeledText(
                        id=str(row["id"]),
                        lang=row["lang"],
                        text=row["text"] or "",
                        spans=row.get("spans", []),
                        source=name.removesuffix(".jsonl"),
                    )
                )
    return items
