"""Reading an environment as pip and uv read it: egg-info, legacy editables, duplicates.

Every environment here is built by hand in ``tmp_path``, as the tools that leave such
installs (``setup.py install``, distribution packages, ``setup.py develop``, a copy of a
second ``.dist-info``) would leave them; what is expected is what ``uv pip`` (list,
show, check, uninstall) and pip's ``importlib`` backend (``requires.txt``,
``installed-files.txt``) report for the same folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.version import Version

from resolvent.errors import InstallError
from resolvent.installer.destination import Scheme
from resolvent.installer.site import (
    LegacyEditableFiles,
    SitePackages,
    check_requirements,
    removal_files,
    remove_files,
    removed_before_install,
    verify_environment,
)

MARKERS = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "implementation_version": "3.11.7",
    "platform_release": "",
    "platform_version": "",
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pkg_info(name: str, version: str, *lines: str) -> str:
    return "".join(
        [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", *(f"{x}\n" for x in lines)]
    )


def dist_info(
    site: Path, name: str, version: str, *lines: str, files: tuple[str, ...] = ()
) -> Path:
    folder = site / f"{name}-{version}.dist-info"
    write(folder / "METADATA", pkg_info(name, version, *lines))
    rows = [*files, f"{folder.name}/METADATA", f"{folder.name}/RECORD"]
    write(folder / "RECORD", "".join(f"{row},,\n" for row in rows))
    for file in files:
        write(site / file, "x = 1\n")
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    folder.mkdir(parents=True)
    return folder


def scheme_of(site: Path) -> Scheme:
    root = site.parent.parent.parent
    return Scheme(site, site, root / "bin", root / "include", root, root)


# -- reading ------------------------------------------------------------------------------


def test_an_egg_info_folder_is_an_installed_distribution(site: Path) -> None:
    egg = site / "Foo_Bar-1.2-py3.11.egg-info"
    write(egg / "PKG-INFO", pkg_info("Foo-Bar", "1.2", "Requires-Python: >=3.8"))
    found = SitePackages.scan([site]).get("foo-bar")
    assert found is not None
    assert (found.name, found.version, found.kind) == ("foo-bar", Version("1.2"), "egg-info")
    assert found.display_name() == "Foo-Bar"
    assert found.location == site
    assert found.direct_url() is None
    assert found.editable_location() is None
    assert found.metadata().requires_python == ">=3.8"


def test_an_egg_info_file_is_an_installed_distribution(site: Path) -> None:
    write(site / "oldlib-0.9-py3.11.egg-info", pkg_info("oldlib", "0.9", "Requires-Dist: dep"))
    found = SitePackages.scan([site]).get("oldlib")
    assert found is not None
    assert (found.version, found.kind) == (Version("0.9"), "egg-info-file")
    assert [str(r) for r in found.metadata().requires_dist] == ["dep"]
    assert found.installer() is None
    assert not found.requested()


def test_the_version_comes_from_pkg_info_when_the_name_has_none(site: Path) -> None:
    write(site / "bare.egg-info" / "PKG-INFO", pkg_info("bare", "3.1"))
    write(site / "nothing.egg-info" / "other.txt", "")  # no version anywhere: skipped, as uv
    scanned = SitePackages.scan([site])
    assert [(d.name, str(d.version)) for d in scanned] == [("bare", "3.1")]
    assert scanned.broken == []  # not an incomplete install, which `sync` would delete


def test_requires_txt_gives_the_requirements_pkg_info_lacks(site: Path) -> None:
    """pip reads ``requires.txt`` (uv does not, and misses these requirements)."""
    egg = site / "egg-1.0.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0"))
    write(
        egg / "requires.txt",
        'dep>=2\n\n[Fast]\nspeedup\n\n[:python_version < "3"]\nold\n\n'
        '[tls:sys_platform == "linux"]\ncerts\n',
    )
    meta = SitePackages.scan([site]).get("egg").metadata()  # type: ignore[union-attr]
    assert [str(r) for r in meta.requires_dist] == [
        "dep>=2",
        'speedup; extra == "fast"',
        'old; python_version < "3"',
        'certs; sys_platform == "linux" and extra == "tls"',
    ]


def test_pkg_info_requirements_win_over_requires_txt(site: Path) -> None:
    egg = site / "egg-1.0.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0", "Requires-Dist: new"))
    write(egg / "requires.txt", "old\n")
    meta = SitePackages.scan([site]).get("egg").metadata()  # type: ignore[union-attr]
    assert [str(r) for r in meta.requires_dist] == ["new"]


def test_a_legacy_editable_is_found_through_its_egg_link(site: Path, tmp_path: Path) -> None:
    project = tmp_path / "project" / "src"
    write(
        project / "my_proj.egg-info" / "PKG-INFO", pkg_info("my-proj", "0.3", "Requires-Dist: dep")
    )
    write(site / "my-proj.egg-link", f"{project}\n../\n")
    write(site / "easy-install.pth", f"{project}\n")
    write(site / "gone.egg-link", f"{tmp_path / 'gone'}\n")  # a link to nothing is no install
    write(site / "empty.egg-link", "\n\n")
    scanned = SitePackages.scan([site])
    assert [dist.name for dist in scanned] == ["my-proj"]
    found = scanned.get("my-proj")
    assert found is not None
    assert (found.kind, found.version) == ("legacy-editable", Version("0.3"))
    assert found.location == project
    assert found.site_folder == site
    assert found.editable_location() == os.fspath(project)
    assert found.direct_url() == {"url": project.as_uri(), "dir_info": {"editable": True}}
    assert [str(r) for r in found.metadata().requires_dist] == ["dep"]


def test_installed_requirements_are_read_leniently(site: Path) -> None:
    """uv repairs installed metadata as it repairs an index's; a line was dropped before."""
    dist_info(site, "old", "1.0", "Requires-Dist: dep (>=1.0<2.0)", "Requires-Dist: bad (>=1 ;;")
    dist_info(site, "dep", "2.5")
    scanned = SitePackages.scan([site])
    meta = scanned.get("old").metadata()  # type: ignore[union-attr]
    assert [str(r) for r in meta.requires_dist] == ["dep<2.0,>=1.0"]
    assert [text for text, _ in meta.invalid] == ["bad (>=1 ;;"]
    lines = [str(problem) for problem in check_requirements(scanned, MARKERS)]
    assert (
        lines[0]
        == "old 1.0 has a requirement that cannot be parsed, `bad (>=1 ;;`: " + (meta.invalid[0][1])
    )
    assert lines[1:] == ["old 1.0 has requirement dep<2.0,>=1.0, but you have dep 2.5."]


def test_check_reads_egg_info_requirements_and_requires_python(site: Path) -> None:
    egg = site / "egg-1.0-py3.11.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0", "Requires-Python: >=3.12"))
    write(egg / "requires.txt", "dep>=2\nmissing\n[extra]\nnever\n")
    dist_info(site, "dep", "1.5")
    lines = [str(problem) for problem in check_requirements(SitePackages.scan([site]), MARKERS)]
    assert lines == [
        "egg 1.0 requires Python >=3.12, but you have Python 3.11.7.",
        "egg 1.0 has requirement dep>=2, but you have dep 1.5.",
        "egg 1.0 requires missing, which is not installed.",
    ]


# -- duplicates ---------------------------------------------------------------------------


def test_two_distributions_of_a_project_are_both_kept_in_a_fixed_order(site: Path) -> None:
    dist_info(site, "dup", "10.0")
    dist_info(site, "dup", "9.0")
    write(site / "dup-0.5-py3.11.egg-info", pkg_info("dup", "0.5"))
    scanned = SitePackages.scan([site])
    # In the order of their names in the folder, as uv reads them (not the file system's).
    assert [str(d.version) for d in scanned.all("DUP")] == ["0.5", "10.0", "9.0"]
    assert scanned.get("dup") == scanned.all("dup")[0]
    assert [str(d.version) for d in scanned.all_dists()] == ["0.5", "9.0", "10.0"]
    assert list(scanned.duplicated()) == ["dup"]
    assert len(scanned) == 1


def test_check_reports_a_project_installed_twice_as_uv_does(site: Path) -> None:
    first = dist_info(site, "dup", "1.0")
    second = dist_info(site, "dup", "2.0")
    dist_info(site, "user", "1.0", "Requires-Dist: dup>=5")  # which copy? not checked
    lines = [str(problem) for problem in check_requirements(SitePackages.scan([site]), MARKERS)]
    assert lines == [f"dup has multiple installed distributions: `{first}`, `{second}`"]


def test_a_folder_seen_twice_through_a_link_is_read_once(site: Path) -> None:
    dist_info(site, "one", "1.0")
    link = site.parent.parent.parent / "lib64"
    link.symlink_to(site.parent.parent)
    scanned = SitePackages.scan([site, link / "python3.11" / "site-packages"])
    assert scanned.duplicates == []
    assert len(scanned.folders) == 1


def test_an_install_replaces_every_copy_and_every_egg_before_linking(site: Path) -> None:
    dist_info(site, "dup", "1.0")
    dist_info(site, "dup", "2.0")
    dist_info(site, "plain", "1.0")
    write(site / "egg-1.0-py3.11.egg-info", pkg_info("egg", "1.0"))
    scanned = SitePackages.scan([site])
    reinstalls = [*scanned.all("dup"), *scanned.all("plain"), *scanned.all("egg")]
    first = removed_before_install(reinstalls)
    assert [(d.name, str(d.version)) for d in first] == [
        ("dup", "1.0"),
        ("dup", "2.0"),
        ("egg", "1.0"),
    ]


# -- removing -----------------------------------------------------------------------------


def test_an_egg_info_folder_is_removed_by_its_top_level_names(site: Path) -> None:
    egg = site / "egg-1.0-py3.11.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0"))
    write(egg / "top_level.txt", "eggpkg\neggmod\nnspkg\nlinked\n\n../outside\n")
    elsewhere = write(site.parent.parent.parent.parent / "elsewhere" / "mine.py", "")
    (site / "linked").symlink_to(elsewhere.parent)  # the link goes, not what it points at
    write(egg / "namespace_packages.txt", "nspkg\n")
    write(site / "eggpkg" / "__init__.py", "")
    write(site / "eggpkg" / "sub" / "a.py", "")
    write(site / "eggmod.py", "")
    write(site / "__pycache__" / "eggmod.cpython-311.pyc", "")
    write(site / "nspkg" / "__init__.py", "")  # shared with other projects: stays
    outside = write(site.parent / "outside" / "keep.txt", "")
    keep = dist_info(site, "other", "1.0", files=("other.py",))
    scanned = SitePackages.scan([site])
    files = removal_files(scanned.get("egg"), site.parent.parent.parent)  # type: ignore[arg-type]
    remove_files(files, scheme_of(site))
    # The emptied `__pycache__` goes too.
    assert sorted(p.name for p in site.iterdir()) == ["nspkg", keep.name, "other.py"]
    assert outside.exists()
    assert elsewhere.exists()


def test_installed_files_txt_lists_what_an_egg_info_folder_removes(site: Path) -> None:
    egg = site / "egg-1.0-py3.11.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0"))
    write(
        egg / "installed-files.txt", "../eggpkg/__init__.py\n../../../../bin/egg-tool\nPKG-INFO\n"
    )
    write(egg / "top_level.txt", "everything\n")  # not used: the list is exact
    write(site / "eggpkg" / "__init__.py", "")
    write(site / "everything" / "keep.py", "")
    root = site.parent.parent.parent
    write(root / "bin" / "egg-tool", "")
    dist = SitePackages.scan([site]).get("egg")
    assert dist is not None
    assert dist.listed_files() == (
        ["eggpkg/__init__.py", "../../../bin/egg-tool", "egg-1.0-py3.11.egg-info/PKG-INFO"],
        None,
    )
    remove_files(removal_files(dist, root), scheme_of(site))
    assert sorted(p.name for p in site.iterdir()) == ["everything"]
    assert not (root / "bin" / "egg-tool").exists()


def test_an_installed_files_txt_reaching_outside_the_environment_is_refused(
    site: Path, tmp_path: Path
) -> None:
    egg = site / "egg-1.0.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0"))
    victim = write(tmp_path / "victim.txt", "")
    write(egg / "installed-files.txt", os.path.relpath(victim, egg) + "\n")
    dist = SitePackages.scan([site]).get("egg")
    with pytest.raises(InstallError, match=r"^refusing to remove `.*victim.txt`"):
        removal_files(dist, site.parent.parent.parent)  # type: ignore[arg-type]
    assert victim.exists()


def test_an_egg_info_file_cannot_be_uninstalled_as_in_uv(site: Path) -> None:
    write(site / "oldlib-0.9-py3.11.egg-info", pkg_info("oldlib", "0.9"))
    dist = SitePackages.scan([site]).get("oldlib")
    with pytest.raises(InstallError) as raised:
        removal_files(dist, site.parent.parent.parent)  # type: ignore[arg-type]
    assert str(raised.value) == (
        "cannot uninstall `oldlib==0.9`: distutils-installed distributions do not include "
        "the metadata required to uninstall safely"
    )


def test_an_egg_info_folder_without_a_file_list_cannot_be_uninstalled(site: Path) -> None:
    write(site / "bare-1.0.egg-info" / "PKG-INFO", pkg_info("bare", "1.0"))
    dist = SitePackages.scan([site]).get("bare")
    with pytest.raises(InstallError, match=r"^cannot uninstall `bare==1.0`: `top_level.txt` "):
        removal_files(dist, site.parent.parent.parent)  # type: ignore[arg-type]


def test_a_legacy_editable_loses_its_link_and_its_pth_line(site: Path, tmp_path: Path) -> None:
    projects = []
    for name in ("one", "two"):
        project = tmp_path / name
        write(project / f"{name}.egg-info" / "PKG-INFO", pkg_info(name, "1.0"))
        write(site / f"{name}.egg-link", f"{project}\n.")
        projects.append(project)
    write(site / "easy-install.pth", f"import sys\n{projects[0]}\n{projects[1]}\n/else\n")
    scanned = SitePackages.scan([site])
    root = site.parent.parent.parent
    removals = [removal_files(scanned.get(n), root) for n in ("one", "two")]  # type: ignore[arg-type]
    assert all(isinstance(files, LegacyEditableFiles) for files in removals)
    for files in removals:  # as a run does: both read first, then removed in turn
        remove_files(files, scheme_of(site))
    assert sorted(p.name for p in site.iterdir()) == ["easy-install.pth"]
    assert (site / "easy-install.pth").read_text() == "import sys\n/else\n"
    assert all((project / f"{project.name}.egg-info" / "PKG-INFO").exists() for project in projects)


# -- verify -------------------------------------------------------------------------------


def test_verify_counts_egg_files_as_recorded(site: Path, tmp_path: Path) -> None:
    egg = site / "egg-1.0-py3.11.egg-info"
    write(egg / "PKG-INFO", pkg_info("egg", "1.0"))
    write(egg / "top_level.txt", "eggpkg\n")
    write(site / "eggpkg" / "__init__.py", "")
    listed = site / "listed-1.0.egg-info"
    write(listed / "PKG-INFO", pkg_info("listed", "1.0"))
    write(listed / "installed-files.txt", "../listed.py\n../gone.py\n")
    write(site / "listed.py", "")
    write(site / "lonely-1.0-py3.11.egg-info", pkg_info("lonely", "1.0"))
    project = tmp_path / "project"
    write(project / "ed.egg-info" / "PKG-INFO", pkg_info("ed", "1.0"))
    write(site / "ed.egg-link", f"{project}\n")
    write(site / "easy-install.pth", f"{project}\n")
    write(site / "stray.py", "")
    report = verify_environment(SitePackages.scan([site]))
    assert report.distributions == 4
    assert sorted((p.kind, Path(p.path).name) for p in report.problems) == [
        ("missing", "gone.py"),
        ("unrecorded", "stray.py"),
    ]
