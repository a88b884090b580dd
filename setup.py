# Shim for tools that still call setup.py; the build is defined in pyproject.toml (flit).
from setuptools import setup

setup()
