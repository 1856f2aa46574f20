"""`etlx pii detect`: find personal data in free texts (JSON lines in, JSON lines out)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from etl_express.errors import FieldError, ValidationFailed

LANGUAGES = ("ru", "en")
MODES = ("full", "patterns")


def read_inputs(path: Path, default_lang: str | None) -> list[dict[str, Any]]:
    """Input lines ``{"id", "text", "lang"?}``; errors name the line and the field."""
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(FieldError(where, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(row, dict):
                errors.append(FieldError(where, "each line must be a JSON object"))
                continue
            errors.extend(_check_row(row, where, default_lang))
            rows.append(row)
    if errors:
        raise ValidationFailed(errors)
    return rows


def _check_row(row: dict[str, Any], where: str, default_lang: str | None) -> Iterator[FieldError]:
    if "id" not in row:
        yield FieldError(f"{where} $.id", "missing")
    if not isinstance(row.get("text"), str):
        yield FieldError(f"{where} $.text", "missing or not a string")
    lang = row.get("lang") or default_lang
    if lang not in LANGUAGES:
        yield FieldError(
            f"{where} $.lang",
            f"language {lang!r} not supported; use one of {list(LANGUAGES)} (or pass --lang)",
        )


def detect_rows(
    rows: list[dict[str, Any]], default_lang: str | None, mode: str, threshold: float
) -> list[dict[str, Any]]:
    from etl_express.detect import detect_texts

    by_lang: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_lang[row.get("lang") or default_lang or ""].append(index)
    spans: list[list[dict[str, Any]]] = [[] for _ in rows]
    for lang, indexes in by_lang.items():
        found = detect_texts(
            [rows[i]["text"] for i in indexes],
            lang=lang,
            mode=mode,  # type: ignore[arg-type]
            score_threshold=threshold,
        )
        for i, result in zip(indexes, found, strict=True):
            spans[i] = [s.to_dict() for s in result]
    return [{"id": row["id"], "spans": s} for row, s in zip(rows, spans, strict=True)]


def register(app: typer.Typer) -> None:
    pii = typer.Typer(help="Personal data in free text.", no_args_is_help=True)
    app.add_typer(pii, name="pii")

    @pii.command("detect")
    def detect(
        input: Annotated[Path, typer.Option("--input", help="JSON lines: id, text, optional lang")],
        output: Annotated[Path, typer.Option("--output", help="JSON lines: id, spans")],
        lang: Annotated[
            str | None, typer.Option("--lang", help="language of lines without one")
        ] = None,
        mode: Annotated[
            str, typer.Option("--mode", help="full (NER + patterns) or patterns")
        ] = "full",
        threshold: Annotated[float, typer.Option("--threshold", help="minimum span score")] = 0.5,
    ) -> None:
        """Detect PII spans (character offsets into each text) in a JSON-lines file."""
        problems = []
        if lang is not None and lang not in LANGUAGES:
            problems.append(FieldError("--lang", f"use one of {list(LANGUAGES)}"))
        if mode not in MODES:
            problems.append(FieldError("--mode", f"use one of {list(MODES)}"))
        if not input.is_file():
            problems.append(FieldError("--input", f"file not found: {input}"))
        try:
            if problems:
                raise ValidationFailed(problems)
            rows = read_inputs(input, lang)
        except ValidationFailed as exc:
            for error in exc.errors:
                typer.echo(f"error: {error.path}: {error.message}", err=True)
            raise typer.Exit(2) from exc
        results = detect_rows(rows, lang, mode, threshold)
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as fh:
            for line in results:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        found = sum(len(r["spans"]) for r in results)
        typer.echo(f"{len(results)} texts, {found} spans -> {output}", err=True)
