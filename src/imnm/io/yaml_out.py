"""Write a record document as readable YAML (block style, keys in record order, dates as ISO strings)."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Quote strings that YAML 1.1 would read back as something else (yes/no, numbers, dates).
    style = None
    if yaml.safe_load(value) != value if value.strip() else True:
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_record_yaml(doc: dict[str, Any], *, header: str | None = None) -> str:
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    lines = [f"# {header}", "# Synthetic or pseudonymous data only; check it before use."] if header else []
    return "\n".join([*lines, text])
