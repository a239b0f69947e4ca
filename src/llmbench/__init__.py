"""llmbench: does this model find real bugs, and how fast does it serve?"""

__version__ = "0.1.0"
