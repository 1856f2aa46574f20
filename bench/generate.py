"""Generate the benchmark source table in PostgreSQL, server-side (fast, deterministic).

Twelve columns: id, full_name, email, phone, birth_date, inn, address, comment, salary
(numeric), created_at (timestamptz), city, is_active. Phones come in the formats people really
type (RU, US, UK, with and without punctuation), emails with stray case and spaces, so the
field rules have real work to do.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

_FIRST = ["Ivan", "Olga", "Пётр", "Анна", "John", "Mary", "Sergey", "Елена", "David", "Sophie"]
_LAST = ["Ivanov", "Petrova", "Сидоров", "Кузнецова", "Smith", "Brown", "Popov", "Волкова"]
_CITY = ["Moscow", "Санкт-Петербург", "London", "New York", "Kazan", "Manchester", "Boston"]
_STREET = ["Lenina", "Tverskaya", "Baker St", "Main St", "Садовая", "High St", "Arbat"]

_TABLE_SQL = """
CREATE TABLE {table} (
    id bigint PRIMARY KEY,
    full_name text NOT NULL,
    email text,
    phone text,
    birth_date date,
    inn text,
    address text,
    comment text,
    salary numeric(12, 2),
    created_at timestamptz NOT NULL,
    city text,
    is_active boolean
)
"""

# One INSERT ... SELECT over generate_series: the server does the work, Python only waits.
_FILL_SQL = """
INSERT INTO {table}
SELECT
    g,
    f[1 + g %% {nf}] || ' ' || l[1 + (g / 7) %% {nl}],
    CASE WHEN g %% 50 = 0 THEN NULL
         WHEN g %% 5 = 0 THEN '  ' || upper(lower(f[1 + g %% {nf}])) || '.' || g || '@Example.COM '
         ELSE lower(l[1 + (g / 7) %% {nl}]) || g || '@example.com' END,
    CASE g %% 6
        WHEN 0 THEN '+7 (9' || lpad((g %% 100)::text, 2, '0') || ') '
                    || lpad((g %% 1000)::text, 3, '0') || '-'
                    || lpad((g %% 100)::text, 2, '0') || '-' || lpad(((g / 3) %% 100)::text, 2, '0')
        WHEN 1 THEN '8 9' || lpad((g %% 100)::text, 2, '0') || ' '
                    || lpad((g %% 10000000)::text, 7, '0')
        WHEN 2 THEN '(212) 555-' || lpad((g %% 10000)::text, 4, '0')
        WHEN 3 THEN '+44 20 7946 ' || lpad((g %% 10000)::text, 4, '0')
        WHEN 4 THEN '07700 9' || lpad((g %% 100000)::text, 5, '0')
        ELSE CASE WHEN g %% 12 = 5 THEN 'n/a' ELSE NULL END
    END,
    DATE '1950-01-01' + (g * 7919 %% 20000)::int,
    lpad((g * 104729 %% 10000000000)::text, 10, '0'),
    (1 + g %% 200) || ' ' || s[1 + g %% {ns}] || ', ' || c[1 + (g / 3) %% {nc}],
    'Customer ' || f[1 + g %% {nf}] || ' called about order ' || g || ', phone on file.',
    round((20000 + (g * 37 %% 300000)) + (g %% 100) / 100.0, 2),
    TIMESTAMPTZ '2024-01-01 00:00:00+00' + make_interval(secs => g * 13),
    c[1 + (g / 3) %% {nc}],
    g %% 3 <> 0
FROM generate_series(1::bigint, %(rows)s::bigint) AS g,
     (SELECT %(first)s::text[] AS f, %(last)s::text[] AS l, %(street)s::text[] AS s,
             %(city)s::text[] AS c) AS pools
"""


def generate_source(url: str, table: str, rows: int) -> None:
    """(Re)create `table` with `rows` rows; analyzed so planners and estimates are realistic."""
    ident = sql.Identifier(table)
    fill = sql.SQL(_FILL_SQL).format(
        table=ident,
        nf=sql.Literal(len(_FIRST)),
        nl=sql.Literal(len(_LAST)),
        ns=sql.Literal(len(_STREET)),
        nc=sql.Literal(len(_CITY)),
    )
    params = {"rows": rows, "first": _FIRST, "last": _LAST, "street": _STREET, "city": _CITY}
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        conn.execute(sql.SQL(_TABLE_SQL).format(table=ident))
        conn.execute(fill, params)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(ident))
