"""Task bundles → Airflow DAGs, one per ETL task (`etlx__<slug>`).

`dags/etl_express_dags.py` calls `loader.build_dags()`; `build.compile_task` turns one bundle
into a validated DAG. Importing this package pulls in no heavy library (no GX, Presidio, spaCy,
polars); the stage bodies import the engine lazily, at run time, in the worker.
"""
