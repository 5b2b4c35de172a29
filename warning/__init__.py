"""`warning`: Balikpapan's disaster early-warning daemon."""

__version__ = "0.1.0"
