"""The wheel a user installs: built from the source tree, it holds the package and works alone.

The rest of the suite runs on the editable install, which reads ``lua/*.lua`` and
``py.typed`` straight from the working tree, so a file missing from the
distribution would go unnoticed there.
"""
from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "redis_checkpoint"

# Run from an empty directory with only the unpacked wheel on the path: saves,
# loads and lists on fakeredis (with Lua), which runs every core script.
USE_INSTALLED = """
import sys
from importlib import resources
import fakeredis
import redis_checkpoint
from redis_checkpoint import RedisCheckpointer
assert redis_checkpoint.__file__.startswith(sys.argv[1]), redis_checkpoint.__file__
assert resources.files("redis_checkpoint").joinpath("py.typed").is_file()
with RedisCheckpointer(fakeredis.FakeRedis(), max_checkpoints=2) as cp:
    first = cp.save("t", {"step": 1, "text": "x" * 5000})
    second = cp.save("t", {"step": 2}, expected_id=first.id)
    cp.save("t", {"step": 3})
    assert cp.load("t", second.id).state == {"step": 2}
    assert [m.parent_id for m in cp.list("t")] == [second.id, first.id]
print("ok")
"""


def _shipped() -> set[str]:
    """Files of the package the wheel must hold: every source, script and marker file."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the tree (the working tree stays clean)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("setup.cfg", "setup.py", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", str(out), str(src)],
        capture_output=True, text=True, timeout=240,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    # setuptools warns when a directory of the package would not be shipped
    assert "would be ignored" not in build.stdout + build.stderr
    (found,) = out.glob("redis_checkpoint-*.whl")
    return found


def test_the_wheel_holds_every_file_of_the_package_and_nothing_else(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        package = {n for n in names if ".dist-info/" not in n}
        assert package == _shipped()
        assert {"redis_checkpoint/py.typed", "redis_checkpoint/lua/save.lua"} <= package
        assert not any(n.startswith(("tests/", "benchmarks/", "examples/")) for n in names)
        # setup.cfg declares MIT, whose terms ask for the notice in every copy
        (notice,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(notice) == (ROOT / "LICENSE").read_bytes()


def _optional(node: ast.AST) -> bool:
    """A ``try`` whose imports may fail (``except ImportError``): an extra's, such as ``otel``."""
    return isinstance(node, ast.Try) and any(
        isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers)


def _core_imports(optional: bool = False) -> set[str]:
    """Third-party modules the package imports at module level, outside the extras'
    subpackages (``contrib/`` and ``langgraph/`` check theirs with ``contrib.require``);
    with ``optional``, those imported where an ``ImportError`` is expected instead."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if {"contrib", "langgraph"} & set(path.relative_to(PACKAGE).parts):
            continue
        for node in ast.parse(path.read_text()).body:
            if _optional(node) != optional:
                continue
            for sub in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else [node]:
                if isinstance(sub, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in sub.names}
                elif isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
                    found.add(sub.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {PACKAGE.name}


def _providers() -> dict[str, set[str]]:
    """Top-level module -> distributions that install it. Python 3.10's
    ``packages_distributions`` reads only ``top_level.txt``, which wheels built by
    hatchling (redis-py's) lack; the files each distribution installed tell as well."""
    found = {name: set(dists) for name, dists in importlib.metadata.packages_distributions().items()}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            top = file.parts[0] if len(file.parts) > 1 else file.name.removesuffix(".py")
            if top.isidentifier():
                found.setdefault(top, set()).add(dist.metadata["Name"])
    return found


def test_the_wheel_requires_every_distribution_the_core_imports(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(meta).decode()
    required = {
        re.split(r"[\s\[<>=!~;]", line.split(":", 1)[1].strip())[0].lower()
        for line in text.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    providers = _providers()
    imported = _core_imports()
    assert {"redis", "cbor2", "snappy", "cramjam"} <= imported
    for module in imported:
        assert {d.lower() for d in providers[module]} & required, f"{module} is imported but not required"
    assert "hiredis" in text  # redis[hiredis]
    # what is imported only if installed comes with an extra: opentelemetry with "otel"
    extras = {line.split(":", 1)[1].split(";")[0].strip().split(">")[0].lower()
              for line in text.splitlines() if line.startswith("Requires-Dist:") and "extra ==" in line}
    assert _core_imports(optional=True) == {"opentelemetry"}
    assert "opentelemetry-api" in extras and 'extra == "otel"' in text


def test_the_unpacked_wheel_saves_loads_and_lists(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    run = subprocess.run(
        [sys.executable, "-c", USE_INSTALLED, str(site)],
        cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok"
