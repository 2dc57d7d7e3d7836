"""Configs are dataclasses; every field can be set from a YAML/JSON file and overridden on the command line.

Precedence: dataclass default < config file < command-line flag. Flag names are the field names with
dashes (`actor_lr` -> `--actor-lr`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

import yaml


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {text!r}")


def _parser_for(hint):
    """int, float, str, bool and their optional forms (X | None) -> a string parser."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args:
        hint = args[0]
    return _parse_bool if hint is bool else hint


def add_config_arguments(parser: argparse.ArgumentParser, cls) -> None:
    parser.add_argument("--config", type=Path, help="YAML or JSON file with field values")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=_parser_for(hints[f.name]),
                            default=None, help=f"default: {f.default!r}")


def load_config_file(path: Path) -> dict[str, Any]:
    text = Path(path).read_text()
    data = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of config fields")
    return data


def build_config(cls, args: argparse.Namespace | None = None, file_values: dict | None = None, **overrides):
    """Defaults, then the file (args.config or file_values), then flags that were given, then overrides."""
    names = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    if args is not None and getattr(args, "config", None):
        file_values = load_config_file(args.config)
    flags = {k: v for k, v in vars(args or argparse.Namespace()).items() if k in names and v is not None}
    for source in (file_values or {}, flags, overrides):
        for key, value in source.items():
            if key not in names:
                raise ValueError(f"unknown config field {key!r} for {cls.__name__}")
            values[key] = value
    return cls(**values)
