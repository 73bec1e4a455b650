"""Setuptools shim: the configuration lives in setup.cfg and pyproject.toml."""

from setuptools import setup

setup()
