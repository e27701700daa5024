"""The records service's store: patients as validated record documents with revisions, reviews,
users, teams and roles, sessions, API tokens and a hash-chained audit log.

SQLAlchemy 2 + Alembic (migrations ship in `imnm/store/migrations`). SQLite (WAL) by default,
PostgreSQL through `postgresql+psycopg://`. Nothing here is imported by `imnm --help`.

Layout
- `config`     settings from the environment (`IMNM_DATABASE_URL`, timeouts, limits)
- `db`         engine (SQLite pragmas, BEGIN IMMEDIATE), sessions, schema check and upgrade
- `models`     the tables
- `principal`  who is acting (user or token), roles, teams, scopes and permissions
- `users`      users, teams, passwords (argon2 via pwdlib), sessions, tokens, login throttling
- `patients`   patients, revisions, partial updates, diff, reviews, erasure
- `ops`        the partial-update operations (`add_lab`, `set_finding`, ...)
- `audit`      append (hash chain), query, verify
"""
