from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import resolvent
from resolvent.errors import BadInputError, VenvError
from resolvent.installer import venv as venv_module
from resolvent.installer.venv import Venv, create_venv, query_interpreter

PYTHON = Path(sys.executable)


def run(python: Path, code: str) -> str:
    completed = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, env={}
    )
    return completed.stdout.strip()


def config(root: Path) -> dict[str, str]:
    lines = (root / "pyvenv.cfg").read_text().splitlines()
    return {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in lines)}


def test_layout_and_python_recognizes_the_venv(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "env", python=PYTHON)
    root = tmp_path / "env"
    short = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert venv.root == root
    assert venv.python == root / "bin" / "python"
    assert venv.site_packages == root / "lib" / f"python{short}" / "site-packages"
    assert venv.site_packages.is_dir()
    assert venv.version == tuple(sys.version_info[:3])
    for name in ("python", "python3", f"python{short}"):
        assert (root / "bin" / name).is_symlink()
    cfg = config(root)
    assert cfg["home"] == str(Path(sys._base_executable).parent)  # type: ignore[attr-defined]
    assert cfg["include-system-site-packages"] == "false"
    assert cfg["version"].startswith(short)
    assert cfg["version_info"] == cfg["version"]
    assert "executable" in cfg
    assert "command" in cfg
    assert "resolvent" in cfg
    assert "prompt" not in cfg
    if sys.platform.startswith("linux"):
        assert (root / "lib64").readlink() == Path("lib")
    out = run(venv.python, "import sys, site; print(sys.prefix); print(sys.base_prefix)")
    prefix, base_prefix = out.splitlines()
    assert prefix == str(root)
    assert base_prefix != prefix
    paths = run(venv.python, "import sys; print('\\n'.join(sys.path))").splitlines()
    assert str(venv.site_packages) in paths


def test_activate_script(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "my env", python=PYTHON, prompt="demo")
    script = (
        f'. "{venv.scripts / "activate"}"; echo "$VIRTUAL_ENV"; echo "$VIRTUAL_ENV_PROMPT"; '
        'command -v python; deactivate; echo "${VIRTUAL_ENV:-gone}"'
    )
    out = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    assert out == [str(venv.root), "(demo) ", str(venv.python), "gone"]
    assert config(venv.root)["prompt"] == "demo"


def test_system_site_packages_flag(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "env", python=PYTHON, system_site_packages=True)
    assert config(venv.root)["include-system-site-packages"] == "true"


def test_from_a_venv_python_links_the_base(tmp_path: Path) -> None:
    first = create_venv(tmp_path / "one", python=PYTHON)
    second = create_venv(tmp_path / "two", python=first.python)
    assert (second.root / "bin" / "python").readlink() == (first.root / "bin" / "python").readlink()


def test_refuses_a_folder_that_is_not_a_venv(tmp_path: Path) -> None:
    target = tmp_path / "project"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    for clear in (False, True):
        with pytest.raises(VenvError, match="is not a virtual environment") as raised:
            create_venv(target, python=PYTHON, clear=clear)
        assert isinstance(raised.value, BadInputError)
        assert isinstance(raised.value, ValueError)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(VenvError, match="not a folder"):
        create_venv(tmp_path / "file", python=PYTHON)


def test_empty_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    venv = create_venv(tmp_path / "env", python=PYTHON)
    assert (venv.root / "pyvenv.cfg").is_file()


def test_existing_venv_needs_clear(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "env", python=PYTHON)
    (venv.site_packages / "old.py").write_text("")
    with pytest.raises(VenvError, match="already a virtual environment") as raised:
        create_venv(tmp_path / "env", python=PYTHON)
    assert "hint:" in str(raised.value)
    assert (venv.site_packages / "old.py").exists()
    again = create_venv(tmp_path / "env", python=PYTHON, clear=True)
    assert not (again.site_packages / "old.py").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["env"]


def _count_subprocess_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Wrap ``subprocess.Popen`` so a test can see how many interpreters were started.

    ``Popen``, not ``run``: the interpreter query reads its answer from a ``Popen`` (to
    bound its length), and ``run`` starts its process through ``Popen`` too.
    """
    calls: list[object] = []
    real_popen = subprocess.Popen

    def counting_popen(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real_popen(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    return calls


def test_interpreter_is_queried_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv_module._query.cache_clear()
    calls = _count_subprocess_runs(monkeypatch)
    create_venv(tmp_path / "a", python=PYTHON)
    create_venv(tmp_path / "b", python=PYTHON)
    info = query_interpreter(PYTHON)
    assert len(calls) == 1
    assert info.version == tuple(sys.version_info[:3])


def test_not_an_interpreter(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho nope\n")
    fake.chmod(0o755)
    with pytest.raises(VenvError, match="did not answer as a Python"):
        create_venv(tmp_path / "env", python=fake)
    with pytest.raises(VenvError, match="no interpreter"):
        create_venv(tmp_path / "env", python=tmp_path / "missing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["python"]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ('{"version": 5}', "has an unexpected `version`"),
        ("{}", "has no `version`"),
        ("[1, 2]", "is not what the query prints"),
        ('{"version": [3, 11, 7, "final", 0], "paths": {}}', "has no `executable`"),
        (
            '{"version": [3, 11, 7, "final", 0], "paths": {}, "bundled": [1]}',
            "unexpected `bundled`",
        ),
        ("[" * 100_000 + "]" * 100_000, "no output"),  # nested too deeply: not JSON
    ],
)
def test_an_answer_of_another_shape_is_not_an_interpreter(
    tmp_path: Path, answer: str, problem: str
) -> None:
    fake = tmp_path / "python"
    (tmp_path / "answer.json").write_text(answer)
    fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'answer.json'}'\n")
    fake.chmod(0o755)
    with pytest.raises(VenvError, match="did not answer as a Python interpreter") as raised:
        query_interpreter(fake)
    assert str(raised.value).endswith(problem)
    assert "\n" not in str(raised.value)


def test_an_answer_with_a_path_outside_its_prefix_says_so(tmp_path: Path) -> None:
    # The path check's own error is a ValueError too: it is not taken for a bad shape.
    answer = {
        "version": [3, 11, 7, "final", 0],
        "paths": {"purelib": "/elsewhere/site-packages", "platlib": "/x", "scripts": "/x"},
        **dict.fromkeys(["executable", "base_executable", "prefix", "base_prefix"], "/x"),
        "implementation": "cpython",
        "platform": "linux",
        "is_64bit": True,
    }
    fake = tmp_path / "python"
    (tmp_path / "answer.json").write_text(json.dumps(answer))
    fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'answer.json'}'\n")
    fake.chmod(0o755)
    with pytest.raises(VenvError) as raised:
        query_interpreter(fake)
    assert str(raised.value) == (
        "the interpreter reports a path outside its prefix: `/elsewhere/site-packages`"
    )


def test_open_reads_an_existing_venv(tmp_path: Path) -> None:
    created = create_venv(tmp_path / "env", python=PYTHON)
    assert Venv.open(tmp_path / "env") == created
    with pytest.raises(VenvError, match="not a virtual environment"):
        Venv.open(tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("ensurepip") is None, reason="no ensurepip")
def test_seed_installs_pip(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "env", python=PYTHON, seed=True)
    assert run(venv.python, "import pip, sys; print(pip.__file__.startswith(sys.prefix))") == "True"
    assert (venv.scripts / "pip").is_file()
    version = subprocess.run(
        [venv.scripts / "pip", "--version"], capture_output=True, text=True, check=True
    )
    assert str(venv.site_packages) in version.stdout


def test_interpreter_answer_is_kept_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = create_venv(tmp_path / "env", python=PYTHON)
    cache = tmp_path / "cache"
    first = query_interpreter(venv.python, cache_root=cache)
    venv_module._query.cache_clear()
    calls = _count_subprocess_runs(monkeypatch)
    assert query_interpreter(venv.python, cache_root=cache) == first
    assert calls == []  # answered from the cache: no interpreter started
    # A changed environment (here its pyvenv.cfg) is asked again.
    (venv.root / "pyvenv.cfg").write_text(
        (venv.root / "pyvenv.cfg").read_text() + "# edited\n", encoding="utf-8"
    )
    assert query_interpreter(venv.python, cache_root=cache) == first
    assert len(calls) == 1


def test_a_fresh_venv_of_the_same_shape_is_answered_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh venv per CI job or benchmark run: another path, the same interpreter.
    cache = tmp_path / "cache"
    first = create_venv(tmp_path / "a", python=PYTHON)
    query_interpreter(first.python, cache_root=cache)
    second = create_venv(tmp_path / "b", python=PYTHON)
    venv_module._query.cache_clear()
    calls = _count_subprocess_runs(monkeypatch)
    answer = query_interpreter(second.python, cache_root=cache)
    assert calls == []
    assert answer.executable == str(second.python)
    # What the interpreter itself says, asked directly.
    stat = second.python.stat()
    asked = venv_module._query(str(second.python), (stat.st_ino, stat.st_size, stat.st_mtime_ns))
    assert len(calls) == 1
    assert answer == asked
    # Another configuration (the base's packages visible) is another shape: asked again.
    third = create_venv(tmp_path / "c", python=PYTHON, system_site_packages=True)
    before = len(calls)
    query_interpreter(third.python, cache_root=cache)
    assert len(calls) == before + 1


def test_only_an_answer_naming_the_venv_where_it_is_moved_is_relocatable(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "env", python=PYTHON)
    answer = query_interpreter(venv.python)
    executable = str(venv.python)
    root = str(venv.root)
    assert venv_module._relocatable(answer, executable)
    moved = venv_module._moved(answer, str(tmp_path / "other" / "bin" / "python"))
    assert moved.executable == str(tmp_path / "other" / "bin" / "python")
    assert moved.prefix == answer.prefix  # the base's prefix stays
    rooted = dataclasses.replace(answer, prefix=root)
    assert venv_module._relocatable(rooted, executable)
    assert venv_module._moved(rooted, str(tmp_path / "o" / "bin" / "python")).prefix == str(
        tmp_path / "o"
    )
    for changed in (
        dataclasses.replace(answer, executable=executable + "3"),
        dataclasses.replace(answer, prefix=root + "/sub"),
        dataclasses.replace(answer, base_prefix=root),
        dataclasses.replace(answer, base_executable=root + "/bin/python3"),
        dataclasses.replace(answer, bundled_wheels=(root + "/pip.whl",)),
    ):
        assert not venv_module._relocatable(changed, executable)


def test_create_venv_reads_the_interpreter_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As `resolvent venv` runs: a fresh process (no in-memory answer) with the cache.
    cache = tmp_path / "cache"
    create_venv(tmp_path / "a", python=PYTHON, cache_root=cache)
    venv_module._query.cache_clear()
    calls = _count_subprocess_runs(monkeypatch)
    made = create_venv(tmp_path / "b", python=PYTHON, cache_root=cache)
    assert calls == []
    assert made.version == tuple(sys.version_info[:3])
    config = (made.root / "pyvenv.cfg").read_text(encoding="utf-8")
    assert f"resolvent = {resolvent.__version__}\n" in config
