"""An argparse parser whose errors are one ``llmbench: ...`` line (no usage dump)."""

from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        name = self.prog.removeprefix("llmbench ")
        print(f"llmbench: {name}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)
