from __future__ import annotations

from etl_express.evaluation.scoring import Scoreboard, match_count


def g(start: int, end: int, entity: str = "PERSON") -> dict[str, object]:
    return {"start": start, "end": end, "entity": entity}


def test_exact_and_overlap_one_to_one() -> None:
    gold = [g(0, 10), g(20, 30)]
    pred = [g(0, 10), g(2, 8), g(25, 35), g(40, 45)]
    assert match_count(gold, pred, overlap=False) == 1
    # g(2, 8) overlaps g(0, 10) but that gold span is already used
    assert match_count(gold, pred, overlap=True) == 2


def test_entity_must_match() -> None:
    assert match_count([g(0, 5, "RU_INN")], [g(0, 5, "RU_OGRN")], overlap=True) == 0


def test_scoreboard_report_per_language_and_entity() -> None:
    board = Scoreboard(overlap=True)
    board.add_text("ru", [g(0, 5), g(6, 9, "RU_INN")], [g(0, 4), g(10, 12, "EMAIL_ADDRESS")])
    board.add_text("en", [g(0, 5)], [])
    report = board.report()
    assert report["by_language_entity"]["ru/PERSON"]["recall"] == 1.0
    assert report["by_language_entity"]["ru/EMAIL_ADDRESS"]["precision"] == 0.0
    assert report["by_language"]["en"]["recall"] == 0.0
    overall = report["overall"]
    assert (overall["tp"], overall["predicted"], overall["gold"]) == (1, 2, 3)
