"""The ETL-Express database: schema, migrations, and SQL per concept.

- `db`: engines (psycopg 3) and Alembic run in code (`etlx db upgrade`, `make up`).
- `schema`: the tables; `migrations/`: how they came to be (own version table).
- `audit`: the append-only trail; `audited(engine, actor)` is the transaction every change
  runs in, and it refuses to commit a change that recorded no event.
- `scripts`, `tasks`, `runs`, `batches`: SQL for each concept; functions that change state
  take the `AuditedTx` and record their own event.
- `overview`: the front page numbers.

Validation and policy live one layer up, in `etl_express.registry`.
"""
