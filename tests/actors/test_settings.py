"""Configuration: the example loads, mistakes name the key and the file, lookup order."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.settings import ConfigError, find_config, load_settings, settings_from_dict

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.source == str(EXAMPLE)
    assert settings.server.base_url == "http://127.0.0.1:8080"
    assert settings.server.domain == "127.0.0.1:8080"
    assert settings.database.url.startswith("sqlite+aiosqlite:///")
    assert settings.federation.fetch_timeout_seconds == 10.0
    [seed] = settings.communities
    assert seed.slug == "nightshift"
    assert seed.name == "Night Shift Nursing"
    assert seed.summary.startswith("Safe medication at night shifts")
    assert [(f.name, f.value) for f in seed.fields] == [("Meets", "First Tuesday of the month")]


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[server]\nbase_url = "https://cop.test"\nbsae_url = "x"\n', "server.bsae_url"),
        ("[serverz]\nport = 1\n", "serverz"),
        ('[[communities]]\nslug = "a"\nname = "A"\ncolour = "red"\n', "communities[0].colour"),
        (
            '[[communities]]\nslug = "a"\nname = "A"\n[[communities.fields]]\nname = "n"\n'
            'value = "v"\nurl = "u"\n',
            "communities[0].fields[0].url",
        ),
        ('source = "elsewhere"\n', "source"),
    ],
)
def test_unknown_key_names_key_and_file(tmp_path: Path, toml: str, key: str) -> None:
    file = write(tmp_path / "copub.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_settings(file)
    message = str(info.value)
    assert "unknown key" in message
    assert f"'{key}'" in message
    assert str(file) in message


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ('[server]\nport = "8080"\n', "server.port", "int"),
        ("[server]\nport = true\n", "server.port", "int"),
        ("[server]\nsecure_mode = 1\n", "server.secure_mode", "bool"),
        (
            '[federation]\nfetch_timeout_seconds = "10"\n',
            "federation.fetch_timeout_seconds",
            "float",
        ),
        ("server = 3\n", "server", "table"),
        ('adapters = "adapters.discourse"\n', "adapters", "list"),
        ('[[communities]]\nslug = "a"\nname = 7\n', "communities[0].name", "str"),
    ],
)
def test_wrong_type_names_key_and_file(tmp_path: Path, toml: str, key: str, expected: str) -> None:
    file = write(tmp_path / "copub.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_settings(file)
    message = str(info.value)
    assert key in message
    assert expected in message
    assert str(file) in message


def test_integer_is_accepted_for_a_float(tmp_path: Path) -> None:
    file = write(tmp_path / "copub.toml", "[federation]\ndelivery_timeout_seconds = 5\n")
    value = load_settings(file).federation.delivery_timeout_seconds
    assert value == 5.0
    assert isinstance(value, float)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    file = write(tmp_path / "copub.toml", "[server\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load_settings(file)
    assert str(file) in str(info.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "base_url",
    [
        "cop.example",
        "ftp://cop.example",
        "https://cop.example/sub",
        "https://",
        "",
        "https://:8080",
        "https://cop.example?x=1",
        "https://cop.example/#top",
        "https://admin@cop.example",
    ],
)
def test_bad_base_url(tmp_path: Path, base_url: str) -> None:
    file = write(tmp_path / "copub.toml", f'[server]\nbase_url = "{base_url}"\n')
    with pytest.raises(ConfigError, match=r"server\.base_url") as info:
        load_settings(file)
    assert str(file) in str(info.value)


@pytest.mark.parametrize(
    "base_url", ["https://cop.example", "https://cop.example/", "http://h:8080"]
)
def test_good_base_url(base_url: str) -> None:
    settings = settings_from_dict({"server": {"base_url": base_url}})
    assert settings.server.base_url == base_url


def test_port_out_of_range() -> None:
    with pytest.raises(ConfigError, match=r"server\.port"):
        settings_from_dict({"server": {"port": 70000}})


def test_duplicate_slugs(tmp_path: Path) -> None:
    file = write(
        tmp_path / "copub.toml",
        '[[communities]]\nslug = "nightshift"\nname = "A"\n'
        '[[communities]]\nslug = "dayshift"\nname = "B"\n'
        '[[communities]]\nslug = "nightshift"\nname = "C"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_settings(file)
    message = str(info.value)
    assert "communities[2].slug" in message
    assert "nightshift" in message
    assert str(file) in message


@pytest.mark.parametrize("slug", ["Night", "night-shift", "_night", "", "a" * 64, "nuit é"])
def test_invalid_seed_slug(slug: str) -> None:
    with pytest.raises(ConfigError, match=r"communities\[0\]\.slug"):
        settings_from_dict({"communities": [{"slug": slug, "name": "N"}]})


class TestLookupOrder:
    """--config > $COPUB_CONFIG > ./config.toml > ./config.example.toml."""

    @pytest.fixture
    def cwd(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("COPUB_CONFIG", raising=False)
        for name in ("config.toml", "config.example.toml", "env.toml", "explicit.toml"):
            host = name.removesuffix(".toml").replace(".", "-")
            write(tmp_path / name, f'[server]\nbase_url = "https://{host}.test"\n')
        return tmp_path

    @staticmethod
    def host() -> str:
        return load_settings().server.domain

    def test_explicit_beats_everything(self, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("COPUB_CONFIG", str(cwd / "env.toml"))
        assert load_settings(cwd / "explicit.toml").server.domain == "explicit.test"

    def test_env_beats_files_in_cwd(self, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("COPUB_CONFIG", str(cwd / "env.toml"))
        assert self.host() == "env.test"

    def test_config_toml_beats_example(self, cwd: Path) -> None:
        assert self.host() == "config.test"
        assert find_config() == Path("config.toml")

    def test_example_is_the_last_resort(self, cwd: Path) -> None:
        (cwd / "config.toml").unlink()
        assert self.host() == "config-example.test"

    def test_nothing_found(self, cwd: Path) -> None:
        (cwd / "config.toml").unlink()
        (cwd / "config.example.toml").unlink()
        with pytest.raises(ConfigError, match="no configuration found"):
            load_settings()

    def test_env_pointing_nowhere_is_an_error(
        self, cwd: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("COPUB_CONFIG", str(cwd / "missing.toml"))
        with pytest.raises(ConfigError, match=r"missing\.toml: file not found"):
            load_settings()


def test_limits_are_read_and_checked(tmp_path: Path) -> None:
    # The commented [limits] of the example are the defaults; a section changes them
    assert load_settings(EXAMPLE).limits.max_audience == 200
    raw = {"limits": {"max_audience": 20, "min_year": 1970}}
    limits = settings_from_dict(raw).limits
    assert (limits.max_audience, limits.min_year, limits.max_tags) == (20, 1970, 64)
    with pytest.raises(ConfigError, match=r"'limits\.max_tags' must be at least 1"):
        settings_from_dict({"limits": {"max_tags": 0}})
    with pytest.raises(ConfigError, match=r"'limits\.max_audience' must be int"):
        settings_from_dict({"limits": {"max_audience": "many"}})
