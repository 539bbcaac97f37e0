"""Atende shared layer: code every domain needs, shipped to each Lambda as a layer.

Nothing here reads the environment or touches AWS at import time; settings are
validated when a handler first asks for them (cold start), clients are built lazily.
"""

__version__ = "0.1.0"
