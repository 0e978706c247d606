"""Package list for setuptools (everything else is in pyproject.toml).

`bench` and `bench.*` as found on disk, plus the two folders that pyproject's package-dir maps into
the package (configs/ -> bench.configs, tasks/ -> bench.tasks): a `packages.find` table in
pyproject.toml cannot list mapped packages, and it would override this list.
"""
from setuptools import find_namespace_packages, setup

MAPPED = ["bench.configs", "bench.tasks"]

setup(packages=find_namespace_packages(include=["bench", "bench.*"]) + MAPPED)
