"""Build steps that pyproject.toml cannot express: compile the Rust engine and ship it in a platform wheel.

`pip install ./bindings/python` runs `cargo build --release --lib` on the crate at the repository root (two
levels up), finds the cdylib cargo reports, and copies it into the package next to the Python modules, where
cimd_engine._native loads it. The library is loaded with ctypes, so it does not depend on the Python version:
the wheel is tagged py3-none-<platform>.

Environment:
- CIMD_CARGO_MANIFEST: another Cargo.toml to build (default: the repository's).
- CIMD_PREBUILT_LIBRARY: ship this already built libcimd instead of running cargo.
- CARGO, CARGO_TARGET_DIR and the other cargo variables are honoured as usual.

Cargo is tried with --offline first, so that a machine whose cargo cache already holds the crates builds without
any network; only if that fails is it run again with network access to crates.io.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
LIBRARY_SUFFIXES = (".so", ".dylib", ".dll")


def library_name():
    if sys.platform == "darwin":
        return "libcimd.dylib"
    if sys.platform == "win32":
        return "cimd.dll"
    return "libcimd.so"


def cargo_build(manifest):
    """Runs cargo and returns the path of the cdylib it built."""
    cargo = os.environ.get("CARGO", "cargo")
    base = [cargo, "build", "--release", "--lib", "--manifest-path", str(manifest),
            "--message-format=json-render-diagnostics"]
    for extra in (["--offline"], []):
        try:
            proc = subprocess.run(base + extra, stdout=subprocess.PIPE, check=False)
        except FileNotFoundError:
            raise SystemExit(
                "cimd-engine: cargo was not found; install Rust (https://rustup.rs) or set CIMD_PREBUILT_LIBRARY"
            )
        if proc.returncode == 0:
            break
        if extra:
            print("cimd-engine: offline cargo build failed; retrying with network access", file=sys.stderr)
    else:
        raise SystemExit(f"cimd-engine: cargo build failed (exit {proc.returncode})")
    for line in proc.stdout.decode().splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("reason") != "compiler-artifact" or "cdylib" not in message["target"]["kind"]:
            continue
        for filename in message["filenames"]:
            if filename.endswith(LIBRARY_SUFFIXES):
                return Path(filename)
    raise SystemExit("cimd-engine: cargo built no cdylib (is crate-type = [\"cdylib\"] set in Cargo.toml?)")


def strip_debug_info(library):
    """Drops the debug sections (the release profile keeps line tables for the Rust side's own profiling):
    the wheel shrinks several times over, and symbols stay for backtraces."""
    strip = shutil.which("strip")
    if strip and sys.platform.startswith("linux"):
        subprocess.run([strip, "--strip-debug", str(library)], check=False)


class BuildPyWithEngine(build_py):
    """build_py that also puts the compiled engine into the package."""

    def run(self):
        super().run()
        prebuilt = os.environ.get("CIMD_PREBUILT_LIBRARY")
        if prebuilt:
            library = Path(prebuilt)
        else:
            manifest = Path(os.environ.get("CIMD_CARGO_MANIFEST", HERE.parent.parent / "Cargo.toml"))
            if not manifest.is_file():
                raise SystemExit(
                    f"cimd-engine: no Cargo.toml at {manifest}; build from a cimd checkout "
                    "(pip install ./bindings/python) or set CIMD_PREBUILT_LIBRARY"
                )
            library = cargo_build(manifest)
        destination = Path(self.build_lib) / "cimd_engine" / library_name()
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(library, destination)
        strip_debug_info(destination)


class PlatformWheel(bdist_wheel):
    """A wheel for this platform (it carries a native library) that any Python 3 can use (ctypes, no C API)."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(cmdclass={"build_py": BuildPyWithEngine, "bdist_wheel": PlatformWheel})
