"""hiveos — HiveOS custom miner wrapper (practical, 8 checks).

Graded on the files the answer creates (parsed by grading.filetree), never on prose:
an answer that *says* "h-run.sh uses exec" earns nothing unless the h-run.sh it writes
does. Created scripts are only parsed (``bash -n``), never run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Callable

from llmbench.grading.check import Check, Verdict
from llmbench.grading.filetree import HEREDOC, CreatedFile, FileTree, bash_syntax_error, parse_file_tree
from llmbench.tasks.base import Task

TARGET_DIR = "~/Downloads/ethminer"
MANIFEST, CONFIG, RUN, STATS = "h-manifest.conf", "h-config.sh", "h-run.sh", "h-stats.sh"
REQUIRED = (MANIFEST, CONFIG, RUN, STATS)
API_PORT = "3333"

def build_prompt() -> str:
    return (
        "I run HiveOS on my GPU rigs and want to add ethminer as a custom miner. The ethminer "
        "release is already unpacked in `~/Downloads/ethminer/` (the `ethminer` binary is in that "
        "directory). Write the HiveOS custom-miner wrapper for it as shell commands I can paste "
        "into a terminal on the rig:\n\n"
        "1. Create the four files `h-manifest.conf`, `h-config.sh`, `h-run.sh` and `h-stats.sh` "
        "in `~/Downloads/ethminer/` (create the directory with `mkdir -p` first).\n"
        "2. Write every file with a shell heredoc (`cat` into the file with a quoted `EOF` "
        "delimiter), complete, no placeholders left to fill in.\n"
        "3. `h-manifest.conf` sets `CUSTOM_NAME` to ethminer and a `CUSTOM_VERSION`.\n"
        "4. Use only the flight-sheet `CUSTOM_*` variables (`CUSTOM_URL`, `CUSTOM_TEMPLATE`, "
        "`CUSTOM_PASS`, `CUSTOM_USER_CONFIG`), never the `MINER_*` variables of the built-in "
        "miners. `h-config.sh` reads the flight-sheet values and exports the settings that "
        "`h-run.sh` needs.\n"
        "5. `h-run.sh` starts ethminer with `exec` (no `screen`, no `nohup`: HiveOS supervises "
        "the process), honours `CUDA_VISIBLE_DEVICES`, and enables ethminer's API on port 3333.\n"
        "6. `h-stats.sh` queries the ethminer API on port 3333 and prints one line of JSON with "
        "`hs` (array of per-GPU hashrates), `temp` (array), `fan` (array), `uptime` (seconds) "
        "and `ver` (miner version), for example "
        "`{\"hs\":[31.2,30.9],\"temp\":[61,58],\"fan\":[70,65],\"uptime\":3600,\"ver\":\"0.19.0\"}`.\n"
    )


# -- reading the created files ----------------------------------------------------

_HOME = re.compile(r"^(?:/root|/home/[^/]+|\$HOME|\$\{HOME\})(?=/|$)")


def _canonical(path: str) -> str:
    return _HOME.sub("~", path)


def _find(tree: FileTree, name: str) -> CreatedFile | None:
    """The file of this name in the target directory, else wherever the answer put it."""
    for path, record in reversed(list(tree.files.items())):
        if _canonical(path) == f"{TARGET_DIR}/{name}":
            return record
    return tree.by_name(name)


def _code(content: str) -> str:
    """Shell text without comment lines and trailing comments (the shebang goes too)."""
    out = []
    for line in content.splitlines():
        if line.lstrip().startswith("#"):
            continue
        out.append(re.sub(r"\s+#\s[^'\"]*$", "", line))
    return "\n".join(out)


_ASSIGNMENT = re.compile(r"^\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?([A-Za-z_]\w*)=(.*)$", re.M)


def _assignments(tree: FileTree) -> dict[str, list[str]]:
    """Every NAME=value in the created files and the answer's own commands."""
    found: dict[str, list[str]] = {}
    for record in tree.files.values():
        for name, value in _ASSIGNMENT.findall(_code(record.content)):
            found.setdefault(name, []).append(value.strip())
    for name, value in tree.variables.items():
        found.setdefault(name, []).append(value)
    return found


# $NAME, ${NAME}, ${NAME:-default}, ${NAME#prefix}, ${#NAME}: group "name" or "bare"; "default" for :- / :=
_REF = re.compile(r"\$\{#?(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-=])(?P<default>[^}]*)|[^}]*)\}|\$(?P<bare>[A-Za-z_]\w*)")


def _resolve(text: str, env: dict[str, list[str]], depth: int = 3) -> set[str]:
    """The values a shell word may take, given the assignments seen (one per assignment)."""
    text = text.strip().strip("'\"")
    values = {text}
    for _ in range(depth):
        expanded: set[str] = set()
        for value in values:
            match = _REF.search(value)
            if not match:
                expanded.add(value)
                continue
            name, default = match.group("name") or match.group("bare"), match.group("default")
            options = [v.strip().strip("'\"") for v in env.get(name, [])]
            if default is not None:
                options.append(default.strip("'\""))
            for option in options or [""]:
                expanded.add(value[: match.start()] + option + value[match.end():])
        values = expanded
    return values


def _refs(code: str) -> set[str]:
    return {m.group("name") or m.group("bare") for m in _REF.finditer(code)}


def _missing(name: str) -> Verdict:
    return Verdict(False, f"no {name} created (as a heredoc, redirect or labelled block)")


def _syntax(record: CreatedFile) -> str | None:
    """Parse errors of a created script, by its own interpreter (never run)."""
    shebang = record.content.lstrip().splitlines()[0] if record.content.strip() else ""
    if re.match(r"#!.*\bpython[\d.]*\b", shebang):
        try:
            compile(record.content, record.name, "exec")   # parse + compile only, nothing executes
        except (SyntaxError, ValueError) as exc:
            return f"{record.name} does not parse (python: {exc.msg if isinstance(exc, SyntaxError) else exc})"
        return None
    if re.match(r"#!.*\b(?:node|perl|ruby|php)\b", shebang):
        return None   # another interpreter: its syntax is not judged
    error = bash_syntax_error(record.content)
    return f"{record.name} does not parse (bash -n: {error})" if error else None


_SOURCES_CONFIG = re.compile(r"(?:^|[;&|]\s*|\bthen\s+)\s*(?:source|\.)\s+\S*h-config\.sh", re.M)


def _config_file_link(cfg: str, run_code: str) -> str | None:
    """A file h-config.sh writes (e.g. $CUSTOM_CONFIG_FILENAME) that h-run.sh names too."""
    for target in re.findall(r"(?<![\d&])>>?\s*\"?([^\s\"<>;&|]+)", cfg):
        if target.startswith("/dev/"):
            continue
        names = {target, target.split("/")[-1]} | _refs(target)
        if any(len(n) > 3 and n in run_code for n in names):
            return target
    return None


def _run_scope(tree: FileTree, run_code: str | None = None) -> str:
    """h-run.sh's code (or ``run_code``, a part of it) plus h-config.sh's when h-run.sh
    sources it or uses what it exports: a flag or variable set there reaches the ethminer
    that h-run.sh starts."""
    run, config = _find(tree, RUN), _find(tree, CONFIG)
    code = run_code if run_code is not None else _code(run.content) if run else ""
    if config is not None:
        cfg = _code(config.content)
        exported = set(re.findall(r"^\s*export\s+([A-Za-z_]\w*)", cfg, re.M))
        if _SOURCES_CONFIG.search(code) or exported & _refs(code) or _config_file_link(cfg, code):
            code += "\n" + cfg
    return code


# -- the checks ----------------------------------------------------------------

def _nested_same_delimiter(record: CreatedFile) -> str | None:
    """The delimiter a heredoc's body opens again ("python3 - << 'EOF'" inside "cat > h-stats.sh
    << 'EOF'"), if any."""
    outer = HEREDOC.search(record.command)
    if outer is None:
        return None
    body = record.raw or record.content
    inner = {m.group(4) for line in body.splitlines() for m in HEREDOC.finditer(line)}
    return outer.group(4) if outer.group(4) in inner else None


def check_heredocs(tree: FileTree) -> Verdict:
    present = [r for r in (_find(tree, n) for n in REQUIRED) if r is not None]
    if not present:
        return Verdict(False, "the answer creates none of h-manifest.conf, h-config.sh, h-run.sh, h-stats.sh")
    for record in present:
        if record.how != "heredoc":
            return Verdict(False, f"{record.name} is given as a {record.how} ({record.command[:80]!r}), not a heredoc")
        if not record.complete:
            return Verdict(False, f"the heredoc writing {record.name} (line {record.line}) is never closed by its delimiter")
        nested = _nested_same_delimiter(record)
        if nested:
            return Verdict(False, f"the heredoc writing {record.name} (line {record.line}) holds another heredoc with "
                                  f"the same delimiter {nested}: the inner one's closing line ends the file early and "
                                  f"the line after it runs as a command")
        if record.outside:
            return Verdict(False, f"the heredoc writing {record.name} (line {record.line}) has an unquoted delimiter, "
                                  f"so bash fills in {', '.join(record.outside[:3])} as it writes the file "
                                  f"({record.command[:60]!r}); quote it: << 'EOF'")
    names = ", ".join(r.name for r in present)
    return Verdict(True, f"written with complete heredocs: {names} (e.g. {present[0].command[:80]!r})")


def check_manifest(tree: FileTree) -> Verdict:
    record = _find(tree, MANIFEST)
    if record is None:
        return _missing(MANIFEST)
    code = _code(record.content)
    name = re.search(r"^\s*(?:export\s+)?CUSTOM_NAME=([\"']?)ethminer\1\s*;?\s*$", code, re.M)
    version = re.search(r"^\s*(?:export\s+)?CUSTOM_VERSION=([\"']?)([^\"'\s]+)\1", code, re.M)
    if not name:
        return Verdict(False, f"{MANIFEST} does not set CUSTOM_NAME=\"ethminer\"")
    if not version:
        return Verdict(False, f"{MANIFEST} sets no CUSTOM_VERSION value")
    return Verdict(True, f"{MANIFEST}: «{name.group(0).strip()}», «{version.group(0).strip()}»")


_MINER_VAR = re.compile(r"(?<![\w])\$?\{?MINER_[A-Z0-9_]+")


def check_custom_vars(tree: FileTree) -> Verdict:
    record = _find(tree, CONFIG)
    if record is None:
        return _missing(CONFIG)
    code = _code(record.content)
    unread = [v for v in ("CUSTOM_URL", "CUSTOM_TEMPLATE", "CUSTOM_PASS") if not re.search(r"\$\{?" + v + r"\b", code)]
    if unread:
        return Verdict(False, f"{CONFIG} never reads {', '.join(unread)}")
    for other in tree.files.values():
        match = _MINER_VAR.search(_code(other.content))
        if match:
            return Verdict(False, f"{other.name} uses a MINER_* variable: «{match.group(0)}»")
    return Verdict(True, f"{CONFIG} reads $CUSTOM_URL, $CUSTOM_TEMPLATE and $CUSTOM_PASS; no file uses MINER_*")


_FLIGHT_SHEET = re.compile(r"\$\{?CUSTOM_(?:URL|TEMPLATE|PASS)\b")


def check_h_config(tree: FileTree) -> Verdict:
    config, run = _find(tree, CONFIG), _find(tree, RUN)
    if config is None:
        return _missing(CONFIG)
    if run is None:
        return Verdict(False, f"no {RUN} created, so nothing uses what {CONFIG} sets")
    error = _syntax(config)
    if error:
        return Verdict(False, error)
    cfg, run_code = _code(config.content), _code(run.content)
    flight = _FLIGHT_SHEET.search(run_code)
    if flight and not _FLIGHT_SHEET.search(cfg):
        # the pool and wallet ethminer runs with are h-run.sh's own, whatever else h-config.sh exports
        return Verdict(False, f"{RUN} reads the flight sheet itself («{flight.group(0)}») and {CONFIG} reads none "
                              f"of it: the pool settings {RUN} uses are not {CONFIG}'s")
    assigned = {m.group(1) for m in _ASSIGNMENT.finditer(cfg)}
    exported = set(re.findall(r"^\s*export\s+([A-Za-z_]\w*)", cfg, re.M))
    exported |= {n for line in re.findall(r"^\s*export\s+(.+)$", cfg, re.M) for n in re.findall(r"\b([A-Za-z_]\w*)\b(?!=)", line)} & assigned
    sourced = _SOURCES_CONFIG.search(run_code)
    used = _refs(run_code)
    shared = (exported | (assigned if sourced else set())) & used
    if shared:
        how = "sourced by h-run.sh" if sourced and not (exported & used) else "exported"
        return Verdict(True, f"{CONFIG} sets {', '.join(sorted(shared))} ({how}), used by {RUN}")
    # h-config.sh may instead write a config/args file that h-run.sh reads
    target = _config_file_link(cfg, run_code)
    if target:
        return Verdict(True, f"{CONFIG} writes {target}, which {RUN} reads")
    if assigned and not sourced and assigned & used:
        return Verdict(False, f"{RUN} uses {', '.join(sorted(assigned & used))} but {CONFIG} neither exports them nor is sourced by {RUN}")
    return Verdict(False, f"{RUN} uses nothing that {CONFIG} exports")


_DAEMONIZERS = re.compile(r"(?:^|[;&|(`]\s*|\$\(\s*|\s)(screen|nohup|setsid|tmux|disown)\b", re.M)


def check_h_run_exec(tree: FileTree) -> Verdict:
    run = _find(tree, RUN)
    if run is None:
        return _missing(RUN)
    error = _syntax(run)
    if error:
        return Verdict(False, error)
    code = _code(run.content)
    env = _assignments(tree)
    daemon = _DAEMONIZERS.search(code)
    if daemon and daemon.group(1) in ("screen", "nohup"):
        return Verdict(False, f"{RUN} uses {daemon.group(1)}")
    exec_line = None
    for line in code.splitlines():
        match = re.match(r"^\s*(?:[\w-]+=\S*\s+)*exec\s+(?!\d*[<>&])(.+)$", line)
        # "exec ./ethminer … &" runs in a background subshell: h-run.sh's own shell is not replaced
        if match and _runs_ethminer(match.group(1), env) and not re.search(r"(?<![&>|])&\s*(?:#.*)?$", line):
            exec_line = line.strip()
            break
    if exec_line is None:
        return Verdict(False, f"{RUN} does not start ethminer with exec")
    # (what comes after the exec line in h-run.sh never runs)
    code_lines = code.splitlines()
    cut = next(k for k, line in enumerate(code_lines) if line.strip() == exec_line) + 1
    after_exec = "\n".join(code_lines[cut:])
    cuda_text = _run_scope(tree, "\n".join(code_lines[:cut]))
    if not re.search(r"CUDA_VISIBLE_DEVICES", cuda_text):
        if "CUDA_VISIBLE_DEVICES" in after_exec:
            return Verdict(False, f"{RUN} handles CUDA_VISIBLE_DEVICES only after its exec line, which never runs")
        return Verdict(False, f"{RUN} ignores CUDA_VISIBLE_DEVICES")
    hard = re.search(r"^\s*(?:export\s+)?CUDA_VISIBLE_DEVICES=([\"']?)[\d,\s]+\1\s*$", cuda_text, re.M)
    if hard:
        return Verdict(False, f"{RUN} overrides CUDA_VISIBLE_DEVICES with a fixed value: «{hard.group(0).strip()}»")
    return Verdict(True, f"{RUN}: «{exec_line[:120]}»; honours CUDA_VISIBLE_DEVICES")


def _runs_ethminer(args: str, env: dict[str, list[str]]) -> bool:
    """Is the program exec starts ethminer (directly, via a variable, or behind env/nice/VAR=x)?"""
    try:
        words = shlex.split(args, comments=True)
    except ValueError:
        words = args.split()
    program = next((w for w in words if not (
        w in ("env", "nice", "stdbuf", "taskset") or w.startswith("-") or w.isdigit()
        or re.fullmatch(r"[A-Za-z_]\w*=\S*", w)
    )), "")
    if "ethminer" in program.lower():
        return True
    return any("ethminer" in value.lower() for value in _resolve(program, env))


_KEYS = ("hs", "temp", "fan", "uptime", "ver")


def _key_position(code: str, key: str) -> re.Match | None:
    """Where the JSON object being printed names this key (JSON text, jq or Python syntax)."""
    patterns = (
        # (not bash's `${hs:+,}`, `${hs:-0}`: a parameter expansion)
        r"(?<![\w$-])(?<!\$\{)\\?[\"']?" + key + r"\\?[\"']?\s*:(?![:+\-=?])",   # "hs": / \"hs\": / hs: (jq) / 'hs':
        r"[{,]\s*\$" + key + r"\s*(?=[,}])",                              # jq {$hs, $temp}
        r"(?<![\w$-])" + key + r"\s*=\s*(?=[\[\w$\"'(])(?=.*json)",      # python dict(hs=...) with json
    )
    for pattern in patterns:
        match = re.search(pattern, code)
        if match:
            return match
    return None


def _printf_argument(code: str, match: re.Match) -> str | None:
    """For a key inside a printf format ("{\\"hs\\":%s,…}"), the argument its conversion takes."""
    start = code.rfind("\n", 0, match.start()) + 1
    end = code.find("\n", match.end())
    line = code[start:] if end < 0 else code[start:end]
    command = re.match(r"^\s*printf\s+(?:-v\s+\S+\s+)?(.*)$", line)
    if not command:
        return None
    try:
        words = shlex.split(command.group(1), comments=True)
    except ValueError:
        return None
    if not words:
        return None
    fmt, args = words[0], words[1:]
    key = re.search(r"[\"']?" + re.escape(match.group(0).strip(" {,\\\"':")) + r"[\"']?\s*:\s*(?=%)", fmt)
    if not key:
        return None
    index = len(re.findall(r"%[-+ #0-9.]*[a-zA-Z]", fmt[: key.end()].replace("%%", "")))
    return args[index] if index < len(args) else None


def _hs_is_array(code: str, match: re.Match) -> bool:
    value = _value_text(code, match.end())
    if value.startswith("%"):
        argument = _printf_argument(code, match)
        if argument is not None:
            value = argument
    if re.match(r"\(?\s*\[", value) or (not value.startswith(("$", "\\", '"', "'")) and _builds_array(value)):
        return True
    ref = re.match(r"\\?[\"']?\$?\{?([A-Za-z_]\w*)", value)
    if not ref and match.group(0).lstrip("{, ").startswith("$"):
        ref = re.match(r".*?\$([A-Za-z_]\w*)", match.group(0))
    if not ref:
        return False
    return _variable_is_array(code, ref.group(1), depth=2)


def _variable_is_array(code: str, name: str, depth: int) -> bool:
    """Is this variable (shell, jq --argjson, Python) assigned a list, directly or via one more variable?"""
    builders = re.finditer(
        rf"(?:^|\s|--argjson\s+|--arg\s+|-a\s+){re.escape(name)}(\+?=?\s*.*)$|--argjson\s+{re.escape(name)}\s+(.*)$",
        code, re.M,
    )
    for found in builders:
        # jq's `--arg NAME VALUE` binds a string whatever VALUE looks like ("[$hs]" too)
        window = code[max(0, found.start() - 8): found.start()] + found.group(0)
        if re.search(r"--arg\s+" + re.escape(name) + r"\b", window):
            continue
        text = " ".join(g for g in found.groups() if g)
        if _builds_array(text):
            return True
        alias = re.fullmatch(r"\s*=?\s*[\"']?\$\{?([A-Za-z_]\w*)\}?[\"']?.*", text)
        if depth > 0 and alias and alias.group(1) != name and _variable_is_array(code, alias.group(1), depth - 1):
            return True
    return False


def _value_text(code: str, start: int) -> str:
    """The value after a key, up to the comma or brace that closes it (brackets balanced)."""
    depth, i = 0, start
    while i < len(code) and i - start < 400:
        char = code[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif char in ",\n" and depth == 0:
            break
        i += 1
    return code[start:i].strip()


def _builds_array(text: str) -> bool:
    """Does this right-hand side build a list (jq map/[...], a bash array, a Python list)?"""
    if re.search(r"^\s*=?\s*\[|\bmap\(|\[\s*\.|\[\s*range|\[\s*\$|'\s*\[|\+?=\s*\(|\bjq\s+-\w*s\b|\bto_entries\b", text):
        return True
    # split(";") yields a list, unless one element is taken right away: split(";")[0]
    return bool(re.search(r"\bsplit\b", text)) and not re.search(r"split\([^)]*\)\s*(?:\|\s*\.)?\[\s*-?\d+\s*\]", text)


# (`cat << EOF` prints its body: no word boundary follows `<<`)
_PRINTS = re.compile(r"^\s*(?:(?:echo|printf|jq|python3?|print|node|perl)\b|cat\s*<<)", re.M)
_TO_FILE = re.compile(r"(?<![2&\d])>{1,2}\s*(?!&1\b)\S|\b1>{1,2}\s*\S|>&\s*2\b")


def _prints_json(code: str) -> bool:
    """Does some line print the stats to standard output (not into a file, not to stderr),
    and is what it prints JSON-ish (jq/Python output, an object literal, or a JSON variable)?"""
    json_vars = {name for name, value in _ASSIGNMENT.findall(code)
                 if re.search(r"\bjq\b|[{\[]|json|\bhs\b", value)}
    for line in code.splitlines():
        if not _PRINTS.match(line):
            continue
        bare = re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", " QUOTED ", line)   # quoted text: jq's `>` is no redirect
        bare = re.sub(r"['\"].*$", "", bare)                                # an unclosed multi-line quote
        bare = re.sub(r"\b2>>?\s*\S+|&>\s*/dev/null|<<<?\s*\S+|>\s*/dev/stdout\b", " ", bare)
        if _TO_FILE.search(bare):
            continue   # echo "$stats" > /run/hive/stats.json prints nothing
        if re.match(r"^\s*(?:(?:jq|python3?|print|node|perl)\b|cat\s*<<)", line) or "{" in line \
                or _refs(line) & json_vars or re.search(r"\|\s*jq\b", line):
            return True
    return False


_API_CALL = re.compile(r"\bminer_getstat\w*|/getstat\w*", re.I)

_OPENS = re.compile(r"^\s*(?:if|for|while|until|case|select)\b|(?:\{|\bthen|\bdo)\s*$")
_CLOSES = re.compile(r"^\s*(?:(?:fi|done|esac)\b|\})")


def _stray_output(code: str) -> str | None:
    """A line the script always prints besides its JSON that is not JSON itself
    (`echo "$khs"` before `echo "$stats"`): the output is then not one JSON document.
    Only lines outside every if/loop/function/group and not behind && or || count."""
    objects = {name for name, value in _ASSIGNMENT.findall(code) if "{" in value}
    assigned = {name for name, _ in _ASSIGNMENT.findall(code)}
    stray, json_printed = None, False
    depth = 0
    for line in code.splitlines():
        if _CLOSES.match(line):
            depth = max(0, depth - 1)
        opened = bool(_OPENS.search(line))
        if depth == 0 and not opened and re.match(r"^\s*(?:echo|printf|jq)\b", line) \
                and not re.search(r"&&|\|\||\bexit\b|^\s*echo\s+-\w*n", line):
            bare = re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", " QUOTED ", line)
            if not _TO_FILE.search(re.sub(r"\b2>>?\s*\S+|&>\s*/dev/null|<<<?\s*\S+", " ", bare)):
                refs = _refs(line)
                if re.search(r"\{|\|\s*(?:jq|python)|^\s*jq\b", line) or refs & objects:
                    json_printed = True
                elif refs and refs <= assigned and stray is None:
                    stray = line.strip()
        if opened:
            depth += 1
    return stray if json_printed else None



def check_h_stats_json(tree: FileTree) -> Verdict:
    stats = _find(tree, STATS)
    if stats is None:
        return _missing(STATS)
    error = _syntax(stats)
    if error:
        return Verdict(False, error)
    code = _code(stats.content)
    # (a constant JSON line that never asks the API reports nothing of the miner)
    api_call = _API_CALL.search(code)
    if not api_call:
        return Verdict(False, f"{STATS} never queries the ethminer API (miner_getstat1)")
    missing = [k for k in _KEYS if _key_position(code, k) is None]
    if missing:
        return Verdict(False, f"{STATS} output lacks the key(s) {', '.join(missing)}")
    hs = _key_position(code, "hs")
    if hs is None or not _hs_is_array(code, hs):
        return Verdict(False, f"{STATS}: hs is not built as an array")
    if not _prints_json(code):
        return Verdict(False, f"{STATS} builds the JSON but never prints it (to standard output)")
    stray = _stray_output(code)
    if stray:
        return Verdict(False, f"{STATS} also prints a line that is not JSON, so its output is no JSON document: «{stray[:100]}»")
    return Verdict(True, f"{STATS} queries {api_call.group(0)} and prints JSON with hs[], temp, fan, uptime, ver")


def check_directory(tree: FileTree) -> Verdict:
    present = [r for r in (_find(tree, n) for n in REQUIRED) if r is not None]
    if not present:
        return Verdict(False, "the answer creates none of the wrapper files")
    misplaced = [f"{r.name} → {r.path}" for r in present if _canonical(r.path) != f"{TARGET_DIR}/{r.name}"]
    if misplaced:
        return Verdict(False, "not under ~/Downloads/ethminer/: " + "; ".join(misplaced))
    made = [d for d, with_p in tree.dirs.items()
            if with_p and (_canonical(d) == TARGET_DIR or _canonical(d).startswith(TARGET_DIR + "/"))]
    if not made:
        plain = [d for d in tree.dirs if _canonical(d).startswith(TARGET_DIR)]
        why = "created with mkdir but without -p" if plain else "never created with mkdir -p"
        return Verdict(False, f"{TARGET_DIR} is {why}")
    return Verdict(True, f"mkdir -p {made[0]}; files: {', '.join(r.path for r in present)}")


def check_api_port(tree: FileTree) -> Verdict:
    run, stats = _find(tree, RUN), _find(tree, STATS)
    if run is None:
        return _missing(RUN)
    if stats is None:
        return _missing(STATS)
    env = _assignments(tree)
    run_code, stats_code = _run_scope(tree), _code(stats.content)
    flags = re.findall(r"--api-(?:port|bind)(?:=|\s+)([\"']?[^\s\"']+[\"']?)", run_code)
    enabled = [f for f in flags if any(re.fullmatch(r"(?:.*:)?-?" + API_PORT, v) for v in _resolve(f, env))]
    if not enabled:
        seen = ", ".join(flags) if flags else "no --api-port/--api-bind"
        return Verdict(False, f"{RUN} does not enable the API on port {API_PORT} ({seen})")
    reads = re.search(r"(?<!\d)" + API_PORT + r"(?!\d)", stats_code)
    if not reads:
        refs = [n for n in _refs(stats_code) if any(re.fullmatch(r"(?:.*:)?-?" + API_PORT, v) for v in _resolve("$" + n, env))]
        if not refs:
            return Verdict(False, f"{STATS} does not read the API from port {API_PORT}")
    # reading the API is asking it for the miner's stats, not only opening the port
    api_call = _API_CALL.search(stats_code)
    if not api_call:
        return Verdict(False, f"{STATS} never asks the ethminer API for its stats (miner_getstat1)")
    return Verdict(True, f"{RUN} passes --api-port/--api-bind {enabled[0]}; {STATS} asks {API_PORT} for {api_call.group(0)}")


def _on_files(checker: Callable[[FileTree], Verdict]) -> Callable[[FileTree], Verdict]:
    """A file check judges the created files; an answer that creates none fails it with that reason."""
    def judge(tree: FileTree) -> Verdict:
        if not tree.files:
            return Verdict(False, "the answer creates no file (no heredoc, echo/printf redirect or block labelled with a file name)",
                           kind="missing")
        verdict = checker(tree)
        return replace(verdict, kind=verdict.kind or ("files" if verdict.passed else "missing"))
    return judge


def parse(final_text: str) -> FileTree:
    return parse_file_tree(final_text, build_prompt())


CHECKS = (
    Check("hiveos.heredocs", "Files written with complete heredocs",
          "are written with complete shell heredocs (`cat > FILE << 'EOF'` … `EOF`)",
          judge=_on_files(check_heredocs)),
    Check("hiveos.manifest", "h-manifest.conf with CUSTOM_NAME and CUSTOM_VERSION",
          "include `h-manifest.conf` setting `CUSTOM_NAME=\"ethminer\"` and `CUSTOM_VERSION`",
          judge=_on_files(check_manifest)),
    Check("hiveos.custom_vars", "Flight-sheet CUSTOM_* variables only",
          "read `CUSTOM_URL`, `CUSTOM_TEMPLATE`, `CUSTOM_PASS` in h-config.sh, and no generated file "
          "uses a `MINER_*` variable",
          judge=_on_files(check_custom_vars)),
    Check("hiveos.h_config", "h-config.sh exports what h-run.sh uses",
          "include `h-config.sh` exporting the settings that h-run.sh uses",
          judge=_on_files(check_h_config)),
    Check("hiveos.h_run_exec", "h-run.sh execs ethminer and honours CUDA_VISIBLE_DEVICES",
          "include `h-run.sh` that starts ethminer with `exec` (no `screen`, no `nohup`) and honours "
          "`CUDA_VISIBLE_DEVICES`",
          judge=_on_files(check_h_run_exec)),
    Check("hiveos.h_stats_json", "h-stats.sh prints the stats JSON",
          "include `h-stats.sh` whose output is JSON with `hs` (array), `temp`, `fan`, `uptime`, `ver`",
          judge=_on_files(check_h_stats_json)),
    Check("hiveos.directory", "Files under ~/Downloads/ethminer/ (mkdir -p)",
          "are placed under `~/Downloads/ethminer/` (created with `mkdir -p`)",
          judge=_on_files(check_directory)),
    Check("hiveos.api_port", "ethminer API on port 3333",
          "enable ethminer's API on port 3333 in h-run.sh and read it from 3333 in h-stats.sh",
          judge=_on_files(check_api_port)),
)


def reference_answer() -> str:
    return (Path(__file__).parent / "reference" / "hiveos.md").read_text(encoding="utf-8")


TASK = Task(
    name="hiveos",
    title="HiveOS Wrapper",
    difficulty="practical",
    checks=CHECKS,
    build_prompt=build_prompt,
    reference_answer=reference_answer,
    parse=parse,
)
