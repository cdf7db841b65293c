"""Finding the configuration file and reading it into :class:`Settings`: every key known
and of the right type (the dataclasses' annotations say which), then :func:`validate`."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from actors.settings.sections import Settings
from actors.settings.validation import ConfigError, validate

T = TypeVar("T")


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The configuration file every command uses, in the documented order."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("COPUB_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("config.toml"), Path("config.example.toml")):
        if candidate.exists():
            return candidate
    raise ConfigError(
        "no configuration found: pass --config, set COPUB_CONFIG, "
        "or create ./config.toml (see config.example.toml)"
    )


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    file = find_config(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    return settings_from_dict(raw, source=str(file))


def settings_from_dict(raw: dict[str, Any], *, source: str = "<dict>") -> Settings:
    for reserved in ("source", "adapter_config"):
        if reserved in raw:
            raise ConfigError(f"{source}: unknown key '{reserved}'")
    raw, sections = _adapter_sections(raw, source)
    settings = _build(Settings, {**raw, "source": source}, source, "")
    settings = dataclasses.replace(settings, adapter_config=sections)
    validate(settings)
    return settings


def adapter_section_name(module: str) -> str:
    """The config section of an adapter module: its last dotted part."""
    return module.rsplit(".", 1)[-1]


def _adapter_sections(raw: dict[str, Any], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split off the sections of the listed adapters (kept raw for them to validate)."""
    modules = raw.get("adapters", [])
    if not isinstance(modules, list):
        return raw, {}  # _build reports the wrong type
    own = {f.name for f in dataclasses.fields(Settings)}
    names = [adapter_section_name(m) for m in modules if isinstance(m, str)]
    for name in names:
        if name in own:
            raise ConfigError(f"{source}: adapter section '{name}' collides with a copub section")
    rest = {k: v for k, v in raw.items() if k not in names}
    unknown = [k for k, v in rest.items() if k not in own and isinstance(v, dict | list)]
    if unknown:
        raise ConfigError(
            f"{source}: unknown key '{unknown[0]}' (an adapter's section is read only when "
            f'the adapter is listed, e.g. adapters = ["adapters.{unknown[0]}"])'
        )
    return rest, {k: v for k, v in raw.items() if k in names}


def _build(cls: type[T], data: Any, source: str, where: str) -> T:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [{where or 'top level'}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{path}'")
        kwargs[key] = _convert(hints[key], value, source, path)
    return cls(**kwargs)


def _convert(hint: Any, value: Any, source: str, path: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, path)  # type: ignore[arg-type]
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{source}: '{path}' must be a list")
        return tuple(
            _convert(item_hint, item, source, f"{path}[{i}]") for i, item in enumerate(value)
        )
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{source}: '{path}' has an unsupported type")  # pragma: no cover
    expected: tuple[type, ...] = (int, float) if hint is float else (hint,)
    if (hint is not bool and isinstance(value, bool)) or not isinstance(value, expected):
        raise ConfigError(f"{source}: '{path}' must be {hint.__name__}, got {type(value).__name__}")
    return float(value) if hint is float and isinstance(value, int | float) else value
