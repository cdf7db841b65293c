"""Configuration: one TOML file loaded into frozen dataclasses.

The file is found by ``--config``, else ``$COPUB_CONFIG``, else ``./config.toml``,
else ``./config.example.toml``. Unknown keys and wrong types are errors that name
the key and the file, raised before anything starts.

``sections.py`` holds what each section may say and its defaults, ``loader.py`` finds
and reads the file, ``validation.py`` checks what the types cannot. Callers import from
here.
"""

from __future__ import annotations

from actors.settings.loader import (
    find_config,
    load_settings,
    settings_from_dict,
)
from actors.settings.sections import (
    CommunitySeed,
    ContentSettings,
    DatabaseSettings,
    DeliverySettings,
    FederationSettings,
    InboxSettings,
    LogSettings,
    MetricsSettings,
    PagesSettings,
    ParticipationSettings,
    ProfileField,
    ServerSettings,
    Settings,
)
from actors.settings.validation import SLUG_RE, ConfigError

__all__ = [
    "SLUG_RE",
    "CommunitySeed",
    "ConfigError",
    "ContentSettings",
    "DatabaseSettings",
    "DeliverySettings",
    "FederationSettings",
    "InboxSettings",
    "LogSettings",
    "MetricsSettings",
    "PagesSettings",
    "ParticipationSettings",
    "ProfileField",
    "ServerSettings",
    "Settings",
    "find_config",
    "load_settings",
    "settings_from_dict",
]
