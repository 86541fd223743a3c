"""Package layout: the language lives in botlang/, its function library in stdlib/.

stdlib/ is installed as ``botlang.stdlib`` (never as a top-level ``stdlib`` package), which
needs a package-dir mapping that pyproject.toml's automatic discovery cannot express.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["botlang", "botlang.*"]), "botlang.stdlib"],
    package_dir={"botlang.stdlib": "stdlib"},
)
