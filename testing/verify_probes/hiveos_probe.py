"""Test probe (contract-following): run answer.sh with a scratch HOME, judge the files made."""

import os
import subprocess

from _probe_kit import main


def probes(candidate):
    home = os.environ["HOME"]
    folder = os.path.join(home, "Downloads", "ethminer")
    ran = {}

    def run_answer():
        if "rc" not in ran:
            proc = subprocess.run(["bash", os.path.join(candidate, "answer.sh")], cwd=home,
                                  capture_output=True, text=True, timeout=5)
            ran["rc"] = proc.returncode
        return ran["rc"]

    def manifest_exists():
        run_answer()
        path = os.path.join(folder, "h-manifest.conf")
        assert os.path.isfile(path), f"no file {path} after running the answer"
        text = open(path).read()
        assert 'CUSTOM_NAME="ethminer"' in text or "CUSTOM_NAME=ethminer" in text, "CUSTOM_NAME is not ethminer"
        return "h-manifest.conf written in ~/Downloads/ethminer"

    def folder_made():
        run_answer()
        assert os.path.isdir(folder), "~/Downloads/ethminer does not exist after running the answer"
        return "folder made"

    yield "hiveos.manifest", "manifest_exists", manifest_exists
    yield "hiveos.directory", "folder_made", folder_made


if __name__ == "__main__":
    main("hiveos", probes)
