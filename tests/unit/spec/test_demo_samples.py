from __future__ import annotations

from spec_world import CUSTOMERS, demo_documents

from etl_express.spec import ScriptKind, StaticContext, TaskSpec, parse_script, parse_task
from etl_express.spec.extraction import ExtractionSpec
from etl_express.spec.transformation import TransformationSpec


def test_every_kind_and_a_task_are_in_the_demo() -> None:
    kinds = sorted(doc["kind"] for doc in demo_documents())
    assert kinds == sorted([*(k.value for k in ScriptKind), "task"])


def test_demo_extraction_records_the_source_schema(world: StaticContext) -> None:
    doc = next(d for d in demo_documents() if d["kind"] == "extraction")
    spec = parse_script("extraction", doc["spec"], world)
    assert isinstance(spec, ExtractionSpec)
    assert spec.output_schema is not None
    assert [(c.name, c.type) for c in spec.output_schema] == [(c.name, c.type) for c in CUSTOMERS]


def test_demo_transformation_binds_to_its_input(world: StaticContext) -> None:
    doc = next(d for d in demo_documents() if d["kind"] == "transformation")
    spec = parse_script("transformation", doc["spec"], world)
    assert isinstance(spec, TransformationSpec)
    assert spec.output_schema is not None
    names = [c.name for c in spec.output_schema]
    assert names[-1] == "signup_year" and "email" in names


def test_demo_task_passes_every_cross_check(world: StaticContext) -> None:
    doc = next(d for d in demo_documents() if d["kind"] == "task")
    task = parse_task(doc["spec"], world)
    assert isinstance(task, TaskSpec)
    assert task.dag_id == "etlx__demo_customers"
    assert task.schedule == "@daily"
    assert [e.input for e in task.scripts.extraction] == ["customers"]
