"""ilrs: the International Lunar Research Station in software."""

# The one place the version is written: setuptools reads it for the package metadata (pyproject.toml,
# [tool.setuptools.dynamic]) and `ilrs --version` and the reports import it.
__version__ = "0.2.0"
