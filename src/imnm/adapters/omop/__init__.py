"""OMOP CDM 5.4 adapter: open a database, resolve concept sets, stage rows, build record documents, synthesise data."""
