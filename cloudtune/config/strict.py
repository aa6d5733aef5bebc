"""Strict YAML -> dataclass loading: unknown keys are rejected with the file, the key and the allowed keys.

Dataclasses describe the shape; this module only walks them. Supported field types: the scalars
(str, int, float, bool), Optional[X], list[X], dict[str, X], tuple[X, ...] and nested dataclasses.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from cloudtune.errors import ConfigError, shorten

T = TypeVar("T")


def load_yaml(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        with path.open() as fh:
            return yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_file(cls: type[T], path: str | Path) -> T:
    """Parse the YAML file at `path` into the dataclass `cls`."""
    return from_dict(cls, load_yaml(path), source=str(path))


def from_dict(cls: type[T], data: Any, source: str = "<config>", where: str = "") -> T:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {where or 'top level'} must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), list(fields), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"{source}: unknown key '{_join(where, key)}'.{hint} Allowed keys here: {shorten(sorted(fields), 40)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _convert(hints[name], value, source, _join(where, name))
    missing = [
        n for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{source}: missing required key(s) {shorten([_join(where, m) for m in missing])}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: {where or 'top level'}: {exc}") from None


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _convert(tp: Any, value: Any, source: str, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, source, where)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, source, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: '{where}' must be a list, got {value!r}")
        items = [_convert(args[0], v, source, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: '{where}' must be a mapping, got {value!r}")
        return {str(k): _convert(args[1], v, source, _join(where, k)) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: '{where}' must be true or false, got {value!r}")
        return value
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (tp is int and not float(value).is_integer()):
            raise ConfigError(f"{source}: '{where}' must be a {'whole number' if tp is int else 'number'}, got {value!r}")
        return tp(value)
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{source}: '{where}' must be text, got {value!r}")
        return str(value)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{source}: '{where}' must be {tp.__name__}, got {value!r}")
    return value
