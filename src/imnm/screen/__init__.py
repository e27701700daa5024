"""The patient-facing screener: who should talk to a doctor about testing for necrotizing myositis.

- `answers`: the strict `Answers` model and the answers file (YAML/JSON).
- `screener`: the rules (data in `knowledge/data/screener.yaml`), evaluated three-valued.
- `interview`: the question-by-question flow used by `imnm screen` without a file.
- `cli`: the `imnm screen` command.
"""
