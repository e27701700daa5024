"""Rule trees compiled to SQL (sqlglot), three-valued: SQL NULL = unknown."""
