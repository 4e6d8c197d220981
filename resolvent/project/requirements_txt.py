r"""Requirements files: pip's ``requirements.txt`` format, read as pip and uv read it.

Supported: comments, blank lines, ``\\`` continuations, ``${VAR}`` expansion, nested
``-r``/``--requirement`` and ``-c``/``--constraint`` files (relative to the including
file), ``-e``/``--editable``, per-requirement ``--hash``, and the global options
``--index-url``/``-i``, ``--extra-index-url``, ``--find-links``/``-f``, ``--no-index``,
``--pre``, ``--no-binary`` and ``--only-binary`` (applied with the command line's, as
pip and uv do); ``--trusted-host`` and ``--prefer-binary`` are accepted. An unknown
option or an unparsable requirement is a one-line error that names the file and line.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import BinaryIO, Final

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidName, canonicalize_name

from resolvent.errors import BadInputError
from resolvent.hashes import parse_user_hash
from resolvent.index.config import shown_url, url_problem
from resolvent.markers import check_user_marker
from resolvent.project.source_tree_name import source_tree_name
from resolvent.requirement_parsing import parse_requirement
from resolvent.user_home import expand_user
from resolvent.value_class import MutableValue, Value

__all__ = [
    "ProjectInput",
    "RequirementLine",
    "RequirementsFile",
    "check_requirement_url",
    "parse_requirements_file",
    "parse_requirements_stream",
    "parse_requirements_text",
]

_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")
#: Where a comment starts: a ``#`` at the start of a line or after a blank. pip's own
#: ``(^|\s+)#.*$`` backtracks through every blank of a run at every start position: a
#: line with 200,000 blanks and no ``#`` took minutes. This looks at one character
#: before each ``#``; the blanks before the comment are stripped separately.
_COMMENT = re.compile(r"(?:^|(?<=\s))#")
_FLAG_ONLY = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}
_VALUED = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
    "--trusted-host": "--trusted-host",
    "--no-binary": "--no-binary",
    "--only-binary": "--only-binary",
    "-r": "-r",
    "--requirement": "-r",
    "-c": "-c",
    "--constraint": "-c",
    "-e": "-e",
    "--editable": "-e",
}


class RequirementLine(Value):
    """One requirement, where it came from and what came with it."""

    __slots__ = ("editable", "hashes", "line", "path", "requirement", "source")

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        requirement: Requirement,
        source: str,
        line: int,
        hashes: tuple[str, ...] = (),
        editable: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
        path: Path | None = None,
    ) -> None:
        self.requirement: Final = requirement
        self.source: Final = source
        self.line: Final = line
        self.hashes: Final = hashes
        self.editable: Final = editable
        self.path: Final = path


class ProjectInput(Value):
    """A project input whose requirements only its build backend knows.

    A ``setup.py``, or a ``pyproject.toml`` that declares its dependencies dynamic: uv
    asks the backend for the metadata (PEP 517 ``prepare_metadata_for_build_wheel``),
    and so does resolvent, once a builder is at hand (see
    :func:`resolvent.project.direct.project_requirements`).
    """

    __slots__ = ("all_extras", "extras", "folder", "source")

    def __init__(
        self,
        folder: Path,
        source: str,
        extras: tuple[str, ...] = (),
        all_extras: bool = False,  # noqa: FBT001, FBT002 - positional, as the dataclass took it
    ) -> None:
        self.folder: Final = folder
        self.source: Final = source
        self.extras: Final = extras
        self.all_extras: Final = all_extras


class RequirementsFile(MutableValue):
    """Everything a requirements file (and the files it includes) says.

    ``projects`` are the inputs whose requirements come from building their metadata;
    ``no_binary`` and ``only_binary`` the ``--no-binary`` and ``--only-binary`` values,
    as written (``:all:``, names, commas): pip and uv apply them together with the
    command line's. Lists left out are new empty ones. Mutable, hence unhashable.
    """

    __slots__ = (
        "constraints",
        "extra_index_urls",
        "find_links",
        "index_url",
        "no_binary",
        "no_index",
        "only_binary",
        "pre",
        "projects",
        "require_hashes",
        "requirements",
    )

    def __init__(  # noqa: PLR0917 - the fields in order, as the dataclass took them
        self,
        requirements: list[RequirementLine] | None = None,
        projects: list[ProjectInput] | None = None,
        constraints: list[RequirementLine] | None = None,
        index_url: str | None = None,
        extra_index_urls: list[str] | None = None,
        find_links: list[str] | None = None,
        no_index: bool = False,  # noqa: FBT001, FBT002
        pre: bool = False,  # noqa: FBT001, FBT002
        require_hashes: bool = False,  # noqa: FBT001, FBT002
        no_binary: list[str] | None = None,
        only_binary: list[str] | None = None,
    ) -> None:
        self.requirements: list[RequirementLine] = [] if requirements is None else requirements
        self.projects: list[ProjectInput] = [] if projects is None else projects
        self.constraints: list[RequirementLine] = [] if constraints is None else constraints
        self.index_url = index_url
        self.extra_index_urls: list[str] = [] if extra_index_urls is None else extra_index_urls
        self.find_links: list[str] = [] if find_links is None else find_links
        self.no_index = no_index
        self.pre = pre
        self.require_hashes = require_hashes
        self.no_binary: list[str] = [] if no_binary is None else no_binary
        self.only_binary: list[str] = [] if only_binary is None else only_binary

    def merge(self, part: RequirementsFile) -> None:
        """Add what another input says: its lines, its sources, its flags."""
        self.requirements.extend(part.requirements)
        self.projects.extend(part.projects)
        self.constraints.extend(part.constraints)
        self.index_url = self.index_url or part.index_url
        self.extra_index_urls.extend(part.extra_index_urls)
        self.find_links.extend(part.find_links)
        self.no_index |= part.no_index
        self.pre |= part.pre
        self.require_hashes |= part.require_hashes
        self.no_binary.extend(part.no_binary)
        self.only_binary.extend(part.only_binary)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join continuations, drop comments; keep the first physical line number."""
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        comment = _COMMENT.search(raw)
        stripped = raw if comment is None else raw[: comment.start()].rstrip()
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        buffer += stripped
        if buffer.strip():
            lines.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def _expand(text: str) -> str:
    return _ENV.sub(lambda m: os.environ.get(m.group(1), m.group(0)), text)


def _looks_like_path(text: str) -> bool:
    return (
        text.startswith((".", "/", "~"))
        or text.endswith((".whl", ".tar.gz", ".zip"))
        or os.sep in text.split(";", 1)[0].split("[", 1)[0]
    )


def _path_requirement(text: str, base: Path, where: str) -> tuple[Requirement, Path]:
    """Turn a local path (a wheel, an sdist or a project folder) into ``name @ file://``."""
    spec, _, marker = text.partition(";")
    spec = spec.strip()
    extras = ""
    if spec.endswith("]") and "[" in spec:
        spec, extras = spec[: spec.index("[")], spec[spec.index("[") :]
    path = (base / expand_user(spec, where)).absolute()
    name = _name_of_path(path)
    if name is None:
        raise BadInputError(f"{where}: cannot tell the project name of `{spec}`")
    try:
        canonicalize_name(name, validate=True)  # a pyproject's `name` is any string
    except InvalidName:
        raise BadInputError(f"{where}: `{spec}` has an invalid project name `{name}`") from None
    marker = marker.strip()
    if marker:
        try:
            Marker(marker)
        except InvalidMarker as error:
            first = str(error).splitlines()[0]
            raise BadInputError(f"{where}: invalid marker `{marker}`: {first}") from None
    # PEP 508 needs a space between a URL and `;`, else the `;` would end the URL.
    suffix = f" ; {marker}" if marker else ""
    try:
        return Requirement(f"{name}{extras} @ {path.as_uri()}{suffix}"), path
    except InvalidRequirement as error:  # the extras: the name and marker are checked
        first = str(error).splitlines()[0]
        raise BadInputError(f"{where}: invalid requirement `{text.strip()}`: {first}") from None


def _name_of_path(path: Path) -> str | None:
    from packaging.utils import (  # noqa: PLC0415 - only for path requirements
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if path.name.endswith(".whl"):
            return parse_wheel_filename(path.name)[0]
        if path.name.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(path.name)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return source_tree_name(path)


def parse_requirements_text(
    text: str, source: str, *, base: Path | None = None, _seen: frozenset[Path] = frozenset()
) -> RequirementsFile:
    r"""Parse requirements text; ``base`` resolves relative paths and includes.

    >>> parse_requirements_text("a>=1  # why\n--pre\n", "x").requirements[0].requirement.name
    'a'
    """
    base = base or Path.cwd()
    result = RequirementsFile()
    for number, line in _logical_lines(_expand(text)):
        where = f"`{source}` line {number}"
        _parse_line(line, where, source, number, base, result, _seen)
    return result


def _parse_line(  # noqa: PLR0917 - one private step of the parser, called once
    line: str,
    where: str,
    source: str,
    number: int,
    base: Path,
    result: RequirementsFile,
    seen: frozenset[Path],
) -> None:
    if line.startswith("-"):
        import shlex  # noqa: PLC0415 - option lines only: a file of pins has none

        try:
            parts = shlex.split(line)
        except ValueError as error:
            raise BadInputError(f"{where}: {error}") from None
        option, _, inline = parts[0].partition("=")
        values = [inline] if inline else parts[1:]
        if option in _FLAG_ONLY:
            result.no_index |= option == "--no-index"
            result.pre |= option == "--pre"
            result.require_hashes |= option == "--require-hashes"
            return
        canonical = _VALUED.get(option)
        if canonical is None:
            raise BadInputError(f"{where}: unknown option `{option}`")
        if not values or not values[0].strip():
            # An empty value (`-i ""`) would otherwise read as "not given" further on.
            raise BadInputError(f"{where}: `{option}` needs a value")
        value = values[0]
        if canonical in ("-r", "-c"):
            included = _include(base / value, where, seen)
            if canonical == "-r":
                result.requirements.extend(included.requirements)
                result.constraints.extend(included.constraints)
            else:
                result.constraints.extend(included.requirements)
            result.index_url = result.index_url or included.index_url
            result.extra_index_urls.extend(included.extra_index_urls)
            result.find_links.extend(included.find_links)
            result.no_binary.extend(included.no_binary)
            result.only_binary.extend(included.only_binary)
        elif canonical == "-e":
            editable, folder = _path_requirement(_editable_text(line, option, where), base, where)
            _check_marker(editable, where)
            result.requirements.append(
                RequirementLine(editable, source, number, editable=True, path=folder)
            )
        elif canonical == "--index-url":
            result.index_url = value
        elif canonical == "--extra-index-url":
            result.extra_index_urls.append(value)
        elif canonical == "--find-links":
            result.find_links.append(value)
        elif canonical == "--no-binary":
            result.no_binary.append(value)
        elif canonical == "--only-binary":
            result.only_binary.append(value)
        return
    hashes: list[str] = []
    spec = line
    if " --" in line:
        spec, _, options = line.partition(" --")
        import shlex  # noqa: PLC0415 - see above

        try:
            words = shlex.split("--" + options)
        except ValueError as error:  # an unbalanced quote
            raise BadInputError(f"{where}: {error}") from None
        for option in words:
            name, _, value = option.partition("=")
            if name != "--hash":
                raise BadInputError(f"{where}: unknown per-requirement option `{name}`")
            try:
                hashes.append(parse_user_hash(value))
            except BadInputError as error:
                raise BadInputError(f"{where}: {error.message}") from None
    spec = spec.strip()
    path: Path | None = None
    try:
        if _looks_like_path(spec) and " @ " not in spec:
            requirement, path = _path_requirement(spec, base, where)
        else:
            requirement = parse_requirement(spec)
    except InvalidRequirement as error:
        first = str(error).splitlines()[0]
        raise BadInputError(f"{where}: invalid requirement `{spec}`: {first}") from None
    _check_marker(requirement, where)
    parsed = RequirementLine(requirement, source, number, tuple(hashes), path=path)
    check_requirement_url(parsed)
    result.requirements.append(parsed)


def _check_marker(requirement: Requirement, where: str) -> None:
    """Refuse a requirement whose marker no environment can evaluate (:mod:`resolvent.markers`).

    Checked as the line is read, so that no later evaluation of the user's markers
    fails, and the error names the line.
    """
    if requirement.marker is not None:
        check_user_marker(requirement.marker, where)


def check_requirement_url(line: RequirementLine) -> None:
    """Raise a clear error when the requirement's ``name @ URL`` can never be fetched.

    packaging accepts any text after ``@``; without this, ``urlsplit`` (``Invalid IPv6
    URL``), httpx (``InvalidURL``) or the socket layer (``OverflowError`` for a port above
    65535) raised deep inside. Requirements files check their lines as they are read;
    direct requirements from other inputs are checked before they are used.

    :raises BadInputError: the URL is malformed (see :func:`url_problem`).
    """
    url = line.requirement.url
    problem = url_problem(url) if url else None
    if url and problem is not None:
        where = f"`{line.source}` line {line.line}: " if line.line else ""
        raise BadInputError(
            f"{where}invalid URL `{shown_url(url)}` for `{line.requirement.name}`: {problem}"
        )


def _editable_text(line: str, option: str, where: str) -> str:
    """Return what follows ``-e``/``--editable``: a path, maybe extras, maybe ``; marker``.

    The raw text is used, not shlex's words: those split ``./proj; python_version >= "3"``
    apart and lose the marker's quotes, so the marker was silently dropped. pip's quoted
    form, ``-e './proj ; marker'``, is unquoted first. Like uv (and unlike pip, which
    rejects markers on local editables), the marker is kept and evaluated.
    """
    rest = line[len(option) :].lstrip()
    rest = rest.removeprefix("=").strip()
    if rest[:1] in {"'", '"'}:
        import shlex  # noqa: PLC0415 - see _parse_line

        try:
            words = shlex.split(rest)
        except ValueError as error:  # an unbalanced quote
            raise BadInputError(f"{where}: {error}") from None
        if len(words) != 1:
            raise BadInputError(f"{where}: unexpected text after `{words[0]}`")
        rest = words[0]
    if " --" in rest or rest.startswith("--"):
        start = 0 if rest.startswith("--") else rest.index(" --") + 1
        extra = rest[start:].split()[0].partition("=")[0]
        raise BadInputError(f"{where}: unknown per-requirement option `{extra}`")
    return rest


def _include(path: Path, where: str, seen: frozenset[Path]) -> RequirementsFile:
    key = path.absolute()
    if key in seen:
        raise BadInputError(f"{where}: `{path}` includes itself")
    text = _read_text(path, where)
    return parse_requirements_text(text, str(path), base=path.parent, _seen=seen | {key})


#: Larger than any requirements file; ``-r /dev/zero`` would otherwise read forever.
_MAX_FILE_SIZE = 64 << 20
#: Byte order marks, UTF-32 first: its little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _read_text(path: Path, where: str) -> str:
    """Read a requirements file: UTF-8, or the encoding its byte order mark names.

    pip reads files with a BOM in their encoding (Windows tools write UTF-16 with one,
    and UTF-8 with one, whose invisible first character made the first requirement
    invalid). The size is bounded, so a device or an endless pipe is an error, not a hang.
    """
    try:
        with path.open("rb") as stream:
            data = stream.read(_MAX_FILE_SIZE + 1)
    except OSError as error:
        raise BadInputError(f"{where}: cannot read `{path}` ({error.__class__.__name__})") from None
    except ValueError:  # `-r a<NUL>b`: no file name holds a NUL, and open() says so thus
        shown = os.fspath(path).replace("\0", "\\0")
        raise BadInputError(
            f"{where}: cannot read `{shown}`: the path contains a NUL byte"
        ) from None
    return _decode(data, f"{where}: `{path}`")


def _decode(data: bytes, what: str) -> str:
    """Return the text of a requirements file read as ``data[:_MAX_FILE_SIZE + 1]``.

    :param what: the input, to begin a message: ``` `r.txt` line 2: `sub.txt` ```.
    :raises BadInputError: the input is too long, or not text in its encoding.
    """
    if len(data) > _MAX_FILE_SIZE:
        raise BadInputError(f"{what} is over {_MAX_FILE_SIZE >> 20} MiB long")
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise BadInputError(
            f"{what} is not {encoding.upper().removesuffix('-SIG')} text (byte {error.start})"
        ) from None


def parse_requirements_stream(stream: BinaryIO | None, source: str) -> RequirementsFile:
    """Read and parse requirements from ``stream`` (``pip compile -`` reads the standard input).

    Read as a file is: bounded in size (``- < /dev/zero`` took all of memory), in the
    encoding a byte order mark names, and refused when not text (undecodable bytes
    became surrogates, reported as an invalid requirement). uv refuses such input too.

    :param stream: ``sys.stdin.buffer``; ``None`` when the process has no standard input.
    :raises BadInputError: the stream cannot be read, is too long, or is not text.
    """
    what = f"`{source}` (the standard input)"
    if stream is None:
        raise BadInputError(f"cannot read {what}: it is closed")
    try:
        data = stream.read(_MAX_FILE_SIZE + 1)
    except (OSError, ValueError) as error:  # ValueError: a closed file
        raise BadInputError(f"cannot read {what} ({error.__class__.__name__})") from None
    return parse_requirements_text(_decode(data, what), source)


def parse_requirements_file(path: Path) -> RequirementsFile:
    """Read and parse a requirements file and everything it includes."""
    return _include(path, f"`{path}`", frozenset())
