from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from resolvent.errors import BadInputError
from resolvent.index import config
from resolvent.index.config import IndexConfig, pip_default_index_url, resolve_index_config

MIRROR = "http://127.0.0.1:1/simple/"


class PipFiles:
    """Stands in for pip's configuration file locations, in a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.global_file = root / "global" / "pip.conf"
        self.user_file = root / "user" / "pip.conf"
        self.site_file = root / "site" / "pip.conf"

    def write(self, which: str, text: str) -> None:
        path: Path = getattr(self, f"{which}_file")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def locations(self) -> dict[Any, list[str]]:
        from pip._internal.configuration import Kind  # noqa: PLC0415

        return {
            Kind.GLOBAL: [str(self.global_file)],
            Kind.USER: [str(self.user_file)],
            Kind.SITE: [str(self.site_file)],
        }

    def ordered(self) -> list[Path]:
        return [self.global_file, self.user_file, self.site_file]


@pytest.fixture
def pip_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PipFiles:
    """Isolate from this machine's environment and pip configuration."""
    for name in list(os.environ):
        if name.startswith(("PIP_", "RESOLVENT_")):
            monkeypatch.delenv(name)
    files = PipFiles(tmp_path)
    import pip._internal.configuration as pip_configuration  # noqa: PLC0415

    monkeypatch.setattr(pip_configuration, "get_configuration_files", files.locations)
    monkeypatch.setattr(config, "_config_files", files.ordered)
    return files


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def without_pip(pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch) -> PipFiles:
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "pip._internal.models.index", None)
    monkeypatch.setitem(sys.modules, "pip._internal.configuration", None)
    return pip_files


@pytest.mark.usefixtures("no_network")
def test_default_comes_from_pip_without_network(pip_files: PipFiles) -> None:
    from pip._internal.models.index import PyPI  # noqa: PLC0415

    resolved = resolve_index_config()
    assert resolved == IndexConfig(PyPI.simple_url)
    assert pip_default_index_url() == PyPI.simple_url
    assert resolved.index_urls == (PyPI.simple_url,)
    assert pip_files.global_file.exists() is False


def test_order_of_index_url_sources(pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    pip_files.write("user", "[global]\nindex-url = http://127.0.0.1:4/conf/\n")
    assert resolve_index_config().index_url == "http://127.0.0.1:4/conf/"
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:3/pip-env/")
    assert resolve_index_config().index_url == "http://127.0.0.1:3/pip-env/"
    monkeypatch.setenv("RESOLVENT_INDEX_URL", "  http://127.0.0.1:2/ours/  ")
    assert resolve_index_config().index_url == "http://127.0.0.1:2/ours/"
    assert resolve_index_config(index_url=MIRROR).index_url == MIRROR
    monkeypatch.setenv("RESOLVENT_INDEX_URL", "   ")
    assert resolve_index_config().index_url == "http://127.0.0.1:3/pip-env/"


def test_pip_files_install_section_and_file_priority(pip_files: PipFiles) -> None:
    pip_files.write("global", "[global]\nindex-url = http://127.0.0.1:1/global/\n")
    pip_files.write("site", "[global]\nindex-url = http://127.0.0.1:1/site/\n")
    assert resolve_index_config().index_url == "http://127.0.0.1:1/site/"
    # The install section beats global, even from a file of lower priority.
    pip_files.write(
        "user",
        "[install]\nindex_url = http://127.0.0.1:1/user-install/\n"
        "extra-index-url =\n    http://127.0.0.1:1/x1/\n    http://127.0.0.1:1/x2/\n"
        "find-links = /opt/wheels /srv/more\n",
    )
    resolved = resolve_index_config()
    assert resolved.index_url == "http://127.0.0.1:1/user-install/"
    assert resolved.all_extra_index_urls == ("http://127.0.0.1:1/x1/", "http://127.0.0.1:1/x2/")
    assert resolved.find_links == ("/opt/wheels", "/srv/more")


def test_fallback_parser_when_pip_is_missing(without_pip: PipFiles) -> None:
    pip_files = without_pip
    pip_files.write("global", "[global]\nindex-url = http://127.0.0.1:1/global/\n")
    pip_files.write("user", "[install]\nindex-url = http://127.0.0.1:1/user/\n[bad\n")
    pip_files.write("site", "[install]\nextra-index-url = http://127.0.0.1:1/extra/\n")
    resolved = resolve_index_config()
    assert resolved.index_url == "http://127.0.0.1:1/global/"
    assert resolved.all_extra_index_urls == ("http://127.0.0.1:1/extra/",)
    pip_files.write("user", "[install]\nindex-url = http://127.0.0.1:1/user/\n")
    assert resolve_index_config().index_url == "http://127.0.0.1:1/user/"


@pytest.mark.usefixtures("without_pip")
def test_nothing_configured_and_no_pip() -> None:
    with pytest.raises(BadInputError) as caught:
        resolve_index_config()
    assert "`--index-url" in str(caught.value)
    assert pip_default_index_url() is None
    assert resolve_index_config(index_url=MIRROR).index_url == MIRROR


def test_extra_index_urls_order(pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    pip_files.write("user", "[global]\nextra-index-url = http://127.0.0.1:1/conf/\n")
    assert resolve_index_config(index_url=MIRROR).all_extra_index_urls == (
        "http://127.0.0.1:1/conf/",
    )
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:1/pip/")
    assert resolve_index_config(index_url=MIRROR).all_extra_index_urls == (
        "http://127.0.0.1:1/pip/",
    )
    monkeypatch.setenv(
        "RESOLVENT_EXTRA_INDEX_URL", f"http://127.0.0.1:1/a/  http://127.0.0.1:1/b/ {MIRROR}"
    )
    resolved = resolve_index_config(index_url=MIRROR)
    # The main index is not repeated among the extras.
    assert resolved.all_extra_index_urls == ("http://127.0.0.1:1/a/", "http://127.0.0.1:1/b/")
    # Searched in uv's order: the extras first, as given, then the main index.
    assert resolved.index_urls == ("http://127.0.0.1:1/a/", "http://127.0.0.1:1/b/", MIRROR)
    flagged = resolve_index_config(
        index_url=MIRROR, extra_index_urls=["http://127.0.0.1:1/f/", "http://127.0.0.1:1/f/"]
    )
    assert flagged.all_extra_index_urls == ("http://127.0.0.1:1/f/",)
    assert resolve_index_config(index_url=MIRROR, extra_index_urls=[]).all_extra_index_urls == ()


def test_find_links_order(pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    pip_files.write("user", "[global]\nfind-links = /conf/wheels\n")
    assert resolve_index_config(index_url=MIRROR).find_links == ("/conf/wheels",)
    monkeypatch.setenv("PIP_FIND_LINKS", "/pip/wheels")
    assert resolve_index_config(index_url=MIRROR).find_links == ("/pip/wheels",)
    monkeypatch.setenv("RESOLVENT_FIND_LINKS", "/ours/a /ours/b")
    assert resolve_index_config(index_url=MIRROR).find_links == ("/ours/a", "/ours/b")
    flagged = resolve_index_config(index_url=MIRROR, find_links=["./wheels"])
    assert flagged.find_links == ("./wheels",)


def test_pip_environment_variables_are_not_read_twice(
    pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip's loader also reports PIP_* variables; they must not outrank our own order.
    pip_files.write("user", "[global]\nfind-links = /conf/wheels\n")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:1/env/")
    monkeypatch.setenv("RESOLVENT_INDEX_URL", MIRROR)
    resolved = resolve_index_config()
    assert resolved.index_url == MIRROR
    assert resolved.find_links == ("/conf/wheels",)


@pytest.mark.usefixtures("pip_files")
def test_strategy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_index_config(index_url=MIRROR).strategy == "first-index"
    monkeypatch.setenv("RESOLVENT_INDEX_STRATEGY", "unsafe-best-match")
    assert resolve_index_config(index_url=MIRROR).strategy == "unsafe-best-match"
    assert resolve_index_config(index_url=MIRROR, strategy="first-index").strategy == "first-index"
    with pytest.raises(BadInputError, match="unknown index strategy `best`"):
        resolve_index_config(index_url=MIRROR, strategy="best")


def test_extra_indexes_only_pip_names_come_after_the_main_index(
    pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv never reads pip's settings: with them last, a pip.conf of mirrors cannot outrank."""
    pip_files.write("user", "[global]\nextra-index-url = http://127.0.0.1:1/conf/\n")
    resolved = resolve_index_config(index_url=MIRROR)
    assert resolved.index_urls == (MIRROR, "http://127.0.0.1:1/conf/")
    assert resolved.all_extra_index_urls == ("http://127.0.0.1:1/conf/",)
    assert resolved.strategy == "first-index"
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:1/pip/")
    assert resolve_index_config(index_url=MIRROR).index_urls == (MIRROR, "http://127.0.0.1:1/pip/")
    flagged = resolve_index_config(index_url=MIRROR, extra_index_urls=["http://127.0.0.1:1/f/"])
    assert flagged.index_urls == ("http://127.0.0.1:1/f/", MIRROR)
    monkeypatch.setenv("RESOLVENT_EXTRA_INDEX_URL", "http://127.0.0.1:1/ours/")
    assert resolve_index_config(index_url=MIRROR).index_urls == ("http://127.0.0.1:1/ours/", MIRROR)


@pytest.mark.skipif(sys.platform != "linux", reason="pip's Linux file locations")
def test_fallback_locations_follow_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{tmp_path}/a{os.pathsep}{tmp_path}/b")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PIP_CONFIG_FILE", raising=False)
    files = config._config_files()
    assert files == [
        tmp_path / "a" / "pip" / "pip.conf",
        tmp_path / "b" / "pip" / "pip.conf",
        Path("/etc/pip.conf"),
        tmp_path / "home" / ".pip" / "pip.conf",
        tmp_path / "xdg" / "pip" / "pip.conf",
        Path(sys.prefix) / "pip.conf",
    ]
    env_file = tmp_path / "env.conf"
    env_file.write_text("")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(env_file))
    files = config._config_files()
    assert files[-1] == env_file
    assert tmp_path / "xdg" / "pip" / "pip.conf" not in files


def test_pip_configuration_is_remembered_while_its_files_are_unchanged(
    pip_files: PipFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    pip_files.write("user", "[global]\nindex-url = http://127.0.0.1:1/first/\n")
    assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:1/first/"
    assert (cache / config.PIP_CONFIG_CACHE).is_file()

    def refuse() -> dict[str, str]:
        raise AssertionError("pip's configuration was loaded again")

    with monkeypatch.context() as patch:
        patch.setattr(config, "_pip_configuration", refuse)
        assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:1/first/"
    # A changed file (new size) or a new file invalidates what was remembered.
    pip_files.write("user", "[global]\nindex-url = http://127.0.0.1:1/second-url/\n")
    assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:1/second-url/"
    pip_files.write("site", "[global]\nindex-url = http://127.0.0.1:1/site/\n")
    assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:1/site/"
    # Flags and the environment still win over what was remembered.
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:3/pip-env/")
    assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:3/pip-env/"


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"stamp": 1}', b"[]"])
def test_corrupt_pip_configuration_cache_is_ignored(
    pip_files: PipFiles, tmp_path: Path, content: bytes
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / config.PIP_CONFIG_CACHE).write_bytes(content)
    pip_files.write("global", "[global]\nindex-url = http://127.0.0.1:1/global/\n")
    assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:1/global/"
    assert resolve_index_config(cache_dir=cache).index_url == "http://127.0.0.1:1/global/"


def test_null_config_file_means_no_file_and_no_pip_import(
    pip_files: PipFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip_files.write("user", "[global]\nindex-url = http://127.0.0.1:1/user/\n")
    loaded: list[bool] = []

    class Configuration:  # stands in for pip's: records that it was used
        def __init__(self, **_: object) -> None:
            loaded.append(True)

    fake = type(sys)("pip._internal.configuration")
    fake.Configuration = Configuration  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pip._internal.configuration", fake)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert config._pip_configuration() == {}
    assert loaded == []
