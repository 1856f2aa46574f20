"""`etlx pii detect` round trip through the typer app (pattern mode)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from etl_express.cli import pii

app = typer.Typer()
pii.register(app)


def test_detect_round_trip(tmp_path: Path) -> None:
    texts = [
        {"id": 1, "text": "ИНН 7707083893, тел. 8 912 345 67 89"},
        {"id": "e", "lang": "en", "text": "Email jane.doe@example.com please"},
        {"id": 3, "text": "ничего"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in texts) + "\n")
    target = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "pii",
            "detect",
            "--input",
            str(source),
            "--output",
            str(target),
            "--lang",
            "ru",
            "--mode",
            "patterns",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["id"] for line in lines] == [1, "e", 3]
    by_id = {line["id"]: line["spans"] for line in lines}
    for row in texts:
        for span in by_id[row["id"]]:
            assert set(span) == {"start", "end", "entity", "score"}
    first = {texts[0]["text"][s["start"] : s["end"]]: s["entity"] for s in by_id[1]}
    assert first == {"7707083893": "RU_INN", "8 912 345 67 89": "PHONE_NUMBER"}
    assert [(s["entity"], s["start"], s["end"]) for s in by_id["e"]] == [("EMAIL_ADDRESS", 6, 26)]
    assert by_id[3] == []


def test_bad_input_names_line_and_field(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "x", "lang": "de"}\n{"text": 5}\nnot json\n')
    result = CliRunner().invoke(
        app, ["pii", "detect", "--input", str(source), "--output", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "in.jsonl:1 $.lang" in result.output
    assert "in.jsonl:2 $.id" in result.output
    assert "in.jsonl:2 $.text" in result.output
    assert "in.jsonl:3" in result.output
