"""Exit 0 when a PostgreSQL server answers at the URL given, 1 otherwise (used by make test)."""

import sys

import psycopg

try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except psycopg.OperationalError as error:
    print(f"PostgreSQL: {error}".strip(), file=sys.stderr)
    sys.exit(1)
