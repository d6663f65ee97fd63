"""ilrs: the International Lunar Research Station in software."""

__version__ = "0.1.0"
