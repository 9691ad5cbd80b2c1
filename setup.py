"""Builds the slid Python package (python/slid + the _slid extension) with CMake.

setuptools is only the glue: CMake configures this checkout with the library, tools and tests off
and builds the one target _slid, for the interpreter running pip. Extra CMake arguments can be
given in the environment variable CMAKE_ARGS (e.g. CMAKE_ARGS="-DSLID_NATIVE=OFF" for a module
that runs on other x86-64 machines; the default optimises for this one).
"""
import os
import pathlib
import re
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(slid VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        out = pathlib.Path(self.get_ext_fullpath(ext.name)).resolve()
        tree = pathlib.Path(self.build_temp).resolve() / "cmake"
        args = ["-DCMAKE_BUILD_TYPE=Release", f"-DPython_EXECUTABLE={sys.executable}",
                "-DSLID_BUILD_PYTHON=ON", "-DSLID_BUILD_TOOLS=OFF", "-DSLID_BUILD_TESTS=OFF",
                "-DSLID_BUILD_BENCH=OFF", "-DSLID_INSTALL=OFF"]
        args += shlex.split(os.environ.get("CMAKE_ARGS", ""))
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tree), *args], check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(["cmake", "--build", str(tree), "--target", "_slid", "-j", jobs], check=True)
        built = next((tree / "python" / "slid").glob("_slid*.so"))
        out.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built), str(out))


setup(
    version=project_version(),
    packages=["slid"],
    package_dir={"": "python"},
    ext_modules=[Extension("slid._slid", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
