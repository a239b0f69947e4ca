"""Behavioural probes of the hiveos task: run the answer's shell, then judge the files it made.

``candidate/answer.sh`` runs once with bash (HOME and cwd = scratch/home). The probes
then judge the files that really exist: where the miner folder ended up, the manifest
as bash sources it, h-stats.sh against a fake ethminer API on 127.0.0.1:3333 (its
output parsed as JSON), h-run.sh with a fake ``ethminer`` that records its argv,
environment and PID (``exec`` keeps h-run.sh's PID).
"""

import json
import os
import re
import signal
import socketserver
import subprocess
import tempfile
import threading
import time

import _harness
from _harness import Probe, expect

FILES = ("h-manifest.conf", "h-config.sh", "h-run.sh", "h-stats.sh")
# what HiveOS does before the miner's scripts run: source the manifest and h-config.sh
SOURCE_CONFIG = ('[ -f h-manifest.conf ] && . ./h-manifest.conf >/dev/null 2>&1; '
                 '. ./h-config.sh >/dev/null 2>&1; ')
ANSWER_TIMEOUT = 5.0
SHELL_TIMEOUT = 3.0
STATS_TIMEOUT = 6.0     # netcat's -w idle wait on ethminer's open connection counts too
PROBE_LIMIT = SHELL_TIMEOUT + 2.0
API_PORT = 3333
SETUP_ENV = "LLMBENCH_HIVEOS_SETUP"

FLIGHT_SHEET = {
    "CUSTOM_URL": "stratum+tcp://pool.probe.example:4444",
    "CUSTOM_TEMPLATE": "0xprobewallet.rig7",
    "CUSTOM_PASS": "probepass9",
    "CUSTOM_ALGO": "ethash",
    "CUSTOM_USER_CONFIG": "--farm-recheck 2000",
    "CUSTOM_MINER": "ethminer",
}
# what the fake API reports: ethminer's miner_getstat1 strings
GETSTAT1 = ["0.19.0-probe", "125", "61234;100;2", "31000;30234", "0;0;0", "off;off",
            "61;70;63;75", "pool.probe.example:4444", "0;0;0;0"]
# the same state as ethminer's miner_getstathr reports it (rates in H/s)
GETSTATHR = {"ethhashrate": 61234000, "ethhashrates": [31000000, 30234000], "ethinvalid": 0, "ethpoolsw": 0,
             "ethrejected": 2, "ethshares": 100, "fanpercentages": [70, 75], "pooladdrs": "pool.probe.example:4444",
             "powerusages": [0.0, 0.0], "runtime": "125", "temperatures": [61, 63], "ispaused": [False, False],
             "version": "ethminer-0.19.0-probe"}


def run_shell(args, cwd, env, timeout=SHELL_TIMEOUT):
    """Run a shell command in its own process group; (returncode or None on timeout, out, err, pid)."""
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
        _let_background_finish(proc.pid)
    except subprocess.TimeoutExpired:
        code = None
        out, err = b"", b""
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if code is None:
        out, err = proc.communicate()
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), proc.pid


BACKGROUND_WAIT = 1.0   # seconds a command the script left running in the background may take


def _let_background_finish(pgid):
    """What the script started with ``&`` (``nohup ./ethminer … &``) still runs when the script
    ends: give it a moment to do its work before the group is killed."""
    deadline = time.monotonic() + BACKGROUND_WAIT
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)


# HiveOS runs its shell as root: ``sudo`` there is a no-op, so it is one here
FAKE_SUDO = """#!/bin/bash
while [ "$#" -gt 0 ]; do
  case "$1" in
    -u|-g|-C|-h|-p) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
exec "$@"
"""
_ROOT_TOOLS = []


def _root_tools():
    """A folder with the tools a root shell has for free (sudo), made once per process."""
    if not _ROOT_TOOLS:
        folder = tempfile.mkdtemp(prefix="hiveos-root-")
        _write_exec(os.path.join(folder, "sudo"), FAKE_SUDO)
        _ROOT_TOOLS.append(folder)
    return _ROOT_TOOLS[0]


def base_env(home, extra=None):
    path = os.environ.get("PATH", "/usr/bin:/bin")
    env = {"PATH": _root_tools() + os.pathsep + path, "HOME": home, "LANG": "C.UTF-8",
           "TMPDIR": os.environ.get("TMPDIR", tempfile.gettempdir())}
    env.update(extra or {})
    return env


# -- setup: run the answer once ------------------------------------------------

def setup(ctx):
    answer = os.path.join(ctx.candidate_dir, "answer.sh")
    if not os.path.exists(answer):
        return "candidate has no answer.sh"
    os.makedirs(ctx.home, exist_ok=True)
    try:   # HiveOS has its miners' log folder; a private one where the sandbox gives /var/log
        os.makedirs("/var/log/miner/custom", exist_ok=True)
    except OSError:
        pass
    code, out, err, _ = run_shell(["bash", answer], ctx.home, base_env(ctx.home), ANSWER_TIMEOUT)
    record = {"code": code, "stderr": err[-4000:], "stats": None}
    where = miner_dir(ctx)
    # what the answer's commands wrote; a probe that sources h-config.sh may write more
    # (a heredoc that swallowed the next one), and that is not the answer's paste
    record["written"] = sorted(os.path.join(root, name) for root, _dirs, files in os.walk(ctx.home)
                              for name in files if name in FILES)
    # h-stats.sh needs the one fixed API port: run it once here, its probes judge the record
    if where is not None and os.path.isfile(os.path.join(where, "h-stats.sh")):
        try:
            record["stats"] = run_h_stats(ctx, where)
        except _harness.CandidateError as exc:
            record["stats"] = {"unavailable": str(exc)}
    path = os.path.join(tempfile.mkdtemp(prefix="hiveos-"), "setup.json")
    with open(path, "w") as fh:
        json.dump(record, fh)
    os.environ[SETUP_ENV] = path          # the probe processes inherit it
    return None


def setup_record():
    path = os.environ.get(SETUP_ENV)
    if not path or not os.path.exists(path):
        return {"code": None, "stderr": ""}
    with open(path) as fh:
        return json.load(fh)


def answer_wrote(where, name):
    """Whether the answer's own commands wrote NAME in WHERE (not a probe sourcing its files)."""
    path = os.path.join(where, name)
    listed = setup_record().get("written")
    return os.path.isfile(path) and (listed is None or path in listed)


def expected_dir(ctx):
    return os.path.join(ctx.home, "Downloads", "ethminer")


def miner_dir(ctx):
    """The folder holding most of the four files, searched from HOME (where they should be)."""
    best, best_count = None, 0
    for root, dirs, files in os.walk(ctx.home):
        dirs[:] = [d for d in dirs if os.path.join(root, d) != ctx.candidate_dir]
        count = sum(1 for name in FILES if name in files)
        if count > best_count or (count == best_count and count and root == expected_dir(ctx)):
            best, best_count = root, count
    return best


_SYSTEM_PATH_REFUSED = re.compile(r"\W(?:/hive|/etc|/opt|/usr)/?\S*[^\n]*(?:Read-only file system|Permission denied|"
                                  r"No such file or directory|Operation not permitted)")


# the answer writes to a rig's system folder: "mkdir -p /hive/miners/custom/ethminer", "MINER_HOME=/hive/…"
_SYSTEM_TARGET = re.compile(r"(?:mkdir\s+(?:-\w+\s+)*|>\s*|tee\s+(?:-\w+\s+)*|=)[\"']?/(?:hive|etc|opt|usr/local)/")


def require_dir(ctx):
    where = miner_dir(ctx)
    if where is None and (_SYSTEM_PATH_REFUSED.search(setup_record().get("stderr", ""))
                          or _SYSTEM_TARGET.search(_answer_script(ctx))):
        # written to a rig's system folders (/hive/miners/custom/...), which this sandbox
        # does not have: the files are judged as written, the run cannot follow them
        raise _harness.CandidateError("cannot be judged: the answer writes its files to a system folder outside "
                                      "HOME" + _answer_note())
    expect(where is not None, "the answer created none of " + ", ".join(FILES) + _answer_note())
    return where


def _answer_note():
    record = setup_record()
    if record.get("code") is None:
        return f" (answer.sh did not finish within {ANSWER_TIMEOUT:g} s)"
    lines = [line for line in record.get("stderr", "").splitlines() if line.strip()]
    return f" (answer.sh exit {record['code']}: {lines[-1][:160]})" if lines else ""


def relative(ctx, path):
    return "~/" + os.path.relpath(path, ctx.home) if path.startswith(ctx.home) else path


def read(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


# -- probes --------------------------------------------------------------------

def _given(ctx):
    """The wrapper files the answer writes, the target of a redirect or a tee (else those it
    names): a file it never gives, one h-run.sh only sources, is judged by that file's own
    check, not by where or how the others were written."""
    answer = _answer_script(ctx)
    written = [name for name in FILES if re.search(_WRITTEN_TO % re.escape(name), answer)]
    return written or [name for name in FILES if name in answer] or list(FILES)


_WRITTEN_TO = r"(?:>>?|\btee\b(?:\s+-a)?)\s*[^\s;|&<>]*%s\b"


def _answer_script(ctx):
    path = os.path.join(ctx.candidate_dir, "answer.sh")
    return read(path) if os.path.exists(path) else ""


def _created(ctx):
    """The wrapper files that exist anywhere under HOME."""
    names = set()
    for root, dirs, files in os.walk(ctx.home):
        dirs[:] = [d for d in dirs if os.path.join(root, d) != ctx.candidate_dir]
        names.update(name for name in FILES if name in files)
    return names


def probe_files_in_downloads_ethminer(ctx):
    target = expected_dir(ctx)
    found = miner_dir(ctx)
    # a file never created at all is its own check's failure, not a matter of where files go
    created = _created(ctx)
    missing = [name for name in _given(ctx) if (name in created or not created)
               and not os.path.isfile(os.path.join(target, name))]
    if missing and found and found != target:
        literal = " (a folder literally named '~': the tilde was quoted)" if "~" in os.path.relpath(found, ctx.home).split(os.sep) else ""
        raise _harness.ProbeFailed(f"the files landed in {relative(ctx, found)}{literal}, not ~/Downloads/ethminer "
                                   f"(missing there: {', '.join(missing)})")
    expect(not missing, f"~/Downloads/ethminer lacks {', '.join(missing)}" + _answer_note())
    return f"the {len(_given(ctx))} files the answer writes exist in ~/Downloads/ethminer"


def probe_files_written_whole(ctx):
    where = require_dir(ctx)
    record = setup_record()
    unterminated = [line for line in record.get("stderr", "").splitlines() if "here-document" in line]
    expect(not unterminated, "bash: " + (unterminated[0].split(": ", 1)[-1] if unterminated else ""))
    # bash stops a script at a syntax error: a heredoc closed early by an inner delimiter
    # leaves the rest of its text to run as commands, and the paste ends there
    broken = [line for line in record.get("stderr", "").splitlines() if "syntax error" in line]
    expect(not broken, "the answer's commands stop at a bash syntax error: " +
           (broken[0].split(": ", 1)[-1][:160] if broken else ""))
    given = _given(ctx)
    for name in given:
        path = os.path.join(where, name)
        expect(answer_wrote(where, name), f"{name} was not created")
        text = read(path)
        expect(text.strip(), f"{name} is empty")
        for line in text.splitlines():
            stripped = line.strip()
            expect(not re.match(r"^(cat|tee)\b.*<<-?\s*['\"]?\w+", stripped),
                   f"{name} swallowed the next heredoc: it contains '{stripped[:60]}'")
            expect(stripped not in ("EOF", "'EOF'", "EOL", "END"),
                   f"{name} contains a stray heredoc delimiter line '{stripped}'")
    return f"the {len(given)} files the answer writes were written whole in {relative(ctx, where)}"


def probe_manifest_sets_name_version(ctx):
    where = require_dir(ctx)
    expect(answer_wrote(where, "h-manifest.conf"), "h-manifest.conf was not created")
    script = '. ./h-manifest.conf >/dev/null 2>&1; printf "%s\\n%s\\n" "$CUSTOM_NAME" "$CUSTOM_VERSION"'
    code, out, err, _ = run_shell(["bash", "-c", script], where, base_env(ctx.home))
    lines = (out.splitlines() + ["", ""])[:2]
    expect(lines[0] == "ethminer", f"sourcing h-manifest.conf sets CUSTOM_NAME={lines[0]!r}, not 'ethminer'")
    expect(lines[1].strip(), "sourcing h-manifest.conf leaves CUSTOM_VERSION empty")
    return f"h-manifest.conf sets CUSTOM_NAME=ethminer, CUSTOM_VERSION={lines[1]}"


# one script for every probe: the record file comes from the environment, so probes
# running side by side can share the copy placed in the miner folder. A query that only asks
# ethminer about itself (`ethminer --version` to fill CUSTOM_VERSION) is answered and is not
# the miner's start.
FAKE_ETHMINER = r'''#!/usr/bin/env python3
import json, os, sys
if sys.argv[1:] and all(a in ("-V", "--version", "-h", "--help", "-H", "-L", "--list-devices") for a in sys.argv[1:]):
    print("ethminer 0.19.0-probe")
    sys.exit(0)
with open(os.environ["LLMBENCH_ETHMINER_RECORD"], "a") as fh:
    fh.write(json.dumps({"argv": sys.argv[1:], "env": dict(os.environ), "pid": os.getpid(),
                         "cwd": os.getcwd()}) + "\n")
'''

FAKE_TOOL = '''#!/bin/sh
echo "%(name)s $*" >> %(record)s
%(then)s
'''


# netcat as HiveOS ships it (OpenBSD flags): the same on every machine the probe runs on
FAKE_NC = r'''#!/usr/bin/env python3
import socket, sys, time
args, wait, quit_after, half_close = sys.argv[1:], None, None, False
rest = []
i = 0
while i < len(args):
    a = args[i]
    if a[:2] in ("-w", "-q", "-i") and (len(a) > 2 or i + 1 < len(args)):
        value = a[2:] if len(a) > 2 else args[i + 1]
        if a[:2] == "-w":
            wait = float(value)
        elif a[:2] == "-q":
            quit_after = float(value)
        i += 1 if len(a) > 2 else 2
        continue
    if a.startswith("-"):
        half_close = half_close or "N" in a
        i += 1
        continue
    rest.append(a)
    i += 1
if len(rest) < 2:
    sys.exit(1)
try:
    conn = socket.create_connection((rest[0], int(rest[1])), timeout=wait)
except OSError:
    sys.exit(1)
data = sys.stdin.buffer.read()
conn.sendall(data)
if half_close:
    conn.shutdown(socket.SHUT_WR)
idle = quit_after if quit_after is not None else wait
conn.settimeout(idle)
while True:
    try:
        chunk = conn.recv(65536)
    except (socket.timeout, OSError):
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
'''


# screen's own options are dropped and the command runs in its place, so the other
# probes still see what ethminer would have been given
SCREEN_THEN = '''while [ $# -gt 0 ]; do
  case "$1" in
    -S|-Logfile|-c|-t|-h|-p|-T|-e|-[a-zA-Z]*S) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] && exec "$@"
exit 0'''


def _write_exec(path, text):
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as fh:
        fh.write(text)
    os.chmod(temporary, 0o755)
    os.replace(temporary, path)


def run_h_run(ctx):
    """Start h-run.sh as HiveOS does; returns (record of ethminer or None, tools used, pid, stderr)."""
    where = require_dir(ctx)
    expect(answer_wrote(where, "h-run.sh"), "h-run.sh was not created")
    work = tempfile.mkdtemp(prefix="hiveos-run-")
    record = os.path.join(work, "ethminer.jsonl")
    tools = os.path.join(work, "tools.log")
    fakebin = os.path.join(work, "bin")
    os.makedirs(fakebin)
    _write_exec(os.path.join(fakebin, "ethminer"), FAKE_ETHMINER)
    # the binary the user unpacked in ~/Downloads/ethminer, and next to the wrapper
    os.makedirs(expected_dir(ctx), exist_ok=True)
    for folder in {where, expected_dir(ctx)}:
        local = os.path.join(folder, "ethminer")
        if not os.path.exists(local) or read(local) == FAKE_ETHMINER:
            _write_exec(local, FAKE_ETHMINER)
    _write_exec(os.path.join(fakebin, "screen"), FAKE_TOOL % {"name": "screen", "record": tools, "then": SCREEN_THEN})
    _write_exec(os.path.join(fakebin, "nohup"), FAKE_TOOL % {"name": "nohup", "record": tools, "then": 'exec "$@"'})
    env = base_env(ctx.home, FLIGHT_SHEET)
    env["PATH"] = fakebin + os.pathsep + env["PATH"]
    env["CUDA_VISIBLE_DEVICES"] = "1,3"
    env["LLMBENCH_ETHMINER_RECORD"] = record
    # HiveOS sources the manifest and h-config.sh, then runs h-run.sh in the miner folder
    wrapper = ('[ -f h-manifest.conf ] && . ./h-manifest.conf >/dev/null 2>&1; '
               '[ -f h-config.sh ] && . ./h-config.sh >/dev/null 2>&1; exec bash ./h-run.sh')
    code, out, err, pid = run_shell(["bash", "-c", wrapper], where, env)
    runs = []
    if os.path.exists(record):
        with open(record) as fh:
            runs = [json.loads(line) for line in fh if line.strip()]
    used = read(tools).split() if os.path.exists(tools) else []
    if not runs and answer_wrote(where, "h-config.sh") and not _survives_h_config(where, env):
        # an `exit` in h-config.sh ends the shell that sources it, before h-run.sh: h_config's failure
        raise _harness.CandidateError("cannot be judged: sourcing h-config.sh ends the shell (HiveOS sources it "
                                      "before h-run.sh), so h-run.sh never runs")
    return (runs[0] if runs else None), used, pid, err


def _survives_h_config(where, env):
    marker = "llmbench-after-h-config"
    script = f"{SOURCE_CONFIG}printf {marker}"
    _code, out, _err, _ = run_shell(["bash", "-c", script], where, env)
    return marker in out


def probe_h_run_execs_ethminer(ctx):
    run, used, pid, err = run_h_run(ctx)
    expect("screen" not in used, "h-run.sh starts ethminer under screen")
    expect("nohup" not in used, "h-run.sh starts ethminer with nohup")
    expect(run is not None, "h-run.sh never started ethminer" + (f" ({err.strip().splitlines()[-1][:160]})" if err.strip() else ""))
    expect(run["pid"] == pid, "ethminer runs as a child of h-run.sh (another PID), not in its place with exec")
    cuda = run["env"].get("CUDA_VISIBLE_DEVICES")
    expect(cuda == "1,3", f"ethminer got CUDA_VISIBLE_DEVICES={cuda!r} where HiveOS set '1,3'")
    chosen = _cuda_devices(run["argv"])
    # CUDA numbers the visible cards from 0: cards 1 and 3 are devices 0 and 1 to ethminer
    expect(not chosen or all(d.isdigit() and int(d) < 2 for d in chosen),
           f"ethminer got --cuda-devices {' '.join(chosen)} beside CUDA_VISIBLE_DEVICES=1,3: CUDA numbers the two "
           "visible cards 0 and 1, so that selection names cards ethminer does not see")
    return "ethminer replaced h-run.sh (same PID) and kept CUDA_VISIBLE_DEVICES=1,3"


def _cuda_devices(argv):
    """The device indices after ethminer's ``--cuda-devices`` (or ``--cu-devices``), if given."""
    for i, arg in enumerate(argv):
        if arg in ("--cuda-devices", "--cu-devices"):
            chosen = []
            for value in argv[i + 1:]:
                if value.startswith("-"):
                    break
                chosen += [v for v in value.split(",") if v]
            return chosen
    return []


def _api_port_in(argv):
    for n, arg in enumerate(argv):
        following = argv[n + 1] if n + 1 < len(argv) else ""
        if arg in ("--api-port", "-api-port", "--api_port") and following.lstrip("-") == str(API_PORT):
            return True
        if arg in ("--api-bind", "-api-bind") and re.search(rf":-?{API_PORT}$", following):
            return True
        if re.fullmatch(rf"--api-(port|bind)=(.*:)?-?{API_PORT}", arg):
            return True
    return False


def probe_ethminer_api_on_3333(ctx):
    run, _used, _pid, err = run_h_run(ctx)
    expect(run is not None, "h-run.sh never started ethminer" + (f" ({err.strip().splitlines()[-1][:160]})" if err.strip() else ""))
    expect(_api_port_in(run["argv"]), "ethminer was started without its API on port 3333: " + " ".join(run["argv"])[:200])
    return "ethminer is started with its API on port 3333"


def probe_flight_sheet_reaches_ethminer(ctx):
    where = require_dir(ctx)
    expect(answer_wrote(where, "h-config.sh"),
           "h-config.sh was not created: nothing reads the flight sheet where HiveOS expects it")
    if not answer_wrote(where, "h-run.sh"):
        # h-config.sh's reads are in the files; without h-run.sh they cannot be followed to ethminer
        raise _harness.CandidateError("cannot be judged: h-run.sh was not created, so nothing starts ethminer")
    carried = _config_carries_flight_sheet(ctx, where)
    if carried:
        return carried
    run, _used, _pid, err = run_h_run(ctx)
    expect(run is not None, "h-run.sh never started ethminer" + (f" ({err.strip().splitlines()[-1][:160]})" if err.strip() else ""))
    seen = " ".join(run["argv"])
    # a config file written by h-config.sh and read by ethminer counts too
    for name in os.listdir(where):
        path = os.path.join(where, name)
        if name not in FILES and os.path.isfile(path) and os.path.getsize(path) < 65536 and name != "ethminer":
            seen += " " + read(path)
    for var, value in (("CUSTOM_URL", "pool.probe.example:4444"), ("CUSTOM_TEMPLATE", "0xprobewallet"),
                       ("CUSTOM_PASS", "probepass9")):
        expect(value in seen, f"ethminer's arguments do not carry {var} ({value}): {' '.join(run['argv'])[:200]}")
    return "CUSTOM_URL, CUSTOM_TEMPLATE and CUSTOM_PASS from the flight sheet reach ethminer's arguments"


def _config_carries_flight_sheet(ctx, where):
    """What sourcing h-config.sh makes of the flight sheet, when it carries all three values
    (in the variables it sets or a config file it writes): the reading is h-config.sh's; whether
    h-run.sh uses it is hiveos.h_config's question."""
    env = base_env(ctx.home, FLIGHT_SHEET)
    # every variable it sets, exported or not, arrays whole: reading is this check's, exporting
    # h_config's (an exported array reaches no child, which is h_config's failure)
    script = (SOURCE_CONFIG + 'for v in $(compgen -v); do '
              'case "$v" in CUSTOM_*|BASH*|FUNCNAME|PIPESTATUS|_|__value) ;; '
              '*) declare -n __value="$v"; printf "%s\\0" "${__value[@]}"; unset -n __value;; esac; done')
    code, out, _err, _ = run_shell(["bash", "-c", script], where, env)
    seen = " ".join(value for value in out.split("\0") if value)
    seen += " " + " ".join(_side_files(where).values())
    if all(value in seen for value in ("pool.probe.example:4444", "0xprobewallet", "probepass9")):
        return "h-config.sh reads CUSTOM_URL, CUSTOM_TEMPLATE and CUSTOM_PASS into the settings it sets or writes"
    return None


def _without_comments(text):
    """Shell text without comment lines and trailing comments (tasks.hiveos reads it the same way)."""
    return "\n".join(re.sub(r"\s+#\s[^'\"]*$", "", line) for line in text.splitlines() if not line.lstrip().startswith("#"))


def probe_no_miner_variables(ctx):
    where = require_dir(ctx)
    for name in FILES:
        path = os.path.join(where, name)
        if os.path.isfile(path):
            # (a comment that names them uses none: "Built-in miners use $MINER_URL …")
            match = re.search(r"\$\{?(MINER_[A-Z0-9_]*)", _without_comments(read(path)))
            expect(match is None, f"{name} uses ${match.group(1) if match else ''} (a MINER_* variable, not CUSTOM_*)")
    return "no generated file uses a MINER_* variable"


def _side_files(where):
    """Files in the miner folder other than the wrapper's four and the fake binary."""
    found = {}
    for name in os.listdir(where):
        path = os.path.join(where, name)
        if name not in FILES and name != "ethminer" and os.path.isfile(path) and os.path.getsize(path) < 65536:
            found[name] = read(path)
    return found


# (tasks.hiveos has the same test: probes run on the standard library alone)
_SOURCES_CONFIG = re.compile(r"(?:^|[;&|]\s*|\bthen\s+)\s*(?:source|\.)\s+\S*h-config\.sh", re.M)
# what a bare `compgen -v` lists of bash's own
_BASH_OWN = re.compile(r"^(?:BASH\w*|FUNCNAME|GROUPS|PIPESTATUS|LINENO|RANDOM|SECONDS|SRANDOM|EPOCH\w+|OPT\w+|"
                       r"DIRSTACK|PPID|UID|EUID|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|SHELLOPTS|IFS|PS\d|COLUMNS|LINES|_)$")


def _h_run_text(where):
    return read(os.path.join(where, "h-run.sh")) if answer_wrote(where, "h-run.sh") else ""


def _left_unexported(where, env, exported, run_text):
    """The variables h-config.sh sets without exporting them that h-run.sh uses, when h-run.sh
    does not source h-config.sh itself (HiveOS sources it in another shell first)."""
    if not run_text or _SOURCES_CONFIG.search(run_text):
        return []
    script = ('__before=" $(compgen -v | tr "\\n" " ") "; . ./h-config.sh >/dev/null 2>&1; '
              'for __v in $(compgen -v); do case "$__before" in *" $__v "*) ;; *) printf "%s\\n" "$__v";; esac; done')
    _code, out, _err, _ = run_shell(["bash", "-c", script], where, env)
    set_here = {name for name in out.split() if not name.startswith("__") and not _BASH_OWN.match(name)}
    return sorted(name for name in set_here - exported
                  if re.search(r"\$\{?" + re.escape(name) + r"\b", run_text))


# h-run.sh reading a setting: `$ETHMINER_POOL`, `${ETHMINER_POOL}` (not `${X:-default}`, which
# runs without it); what h-run.sh sets itself is its own
_READ = re.compile(r"\$\{?([A-Z][A-Z0-9_]{2,})(?![A-Za-z0-9_]*(?::?[-=?+]))")
_SET = re.compile(r"(?:^|[\s;&|(])(?:(?:export|local|declare|readonly|typeset)\s+(?:-\w+\s+)*)?([A-Z][A-Z0-9_]*)\+?="
                  r"|\b(?:read|for)\s+(?:-\w+\s+)*([A-Z][A-Z0-9_]*)")
# what HiveOS and the shell give h-run.sh besides the flight sheet
_GIVEN = re.compile(r"^(?:CUSTOM_\w+|MINER_\w+|CUDA_VISIBLE_DEVICES|HOME|PATH|PWD|OLDPWD|USER|SHELL|TERM|LANG|LC_\w+|TMPDIR|"
                    r"HOSTNAME|RANDOM|SECONDS|BASH\w*|UID|EUID|PPID|IFS)$")


def _read_but_never_set(where, env, run_text):
    """The settings h-run.sh reads that neither the manifest, h-config.sh nor h-run.sh sets:
    "export ETHMINER_URL" in h-config.sh while h-run.sh passes `"$ETHMINER_POOL"` hands
    ethminer an empty pool."""
    if not run_text:
        return []
    script = SOURCE_CONFIG + "compgen -v"
    _code, out, _err, _ = run_shell(["bash", "-c", script], where, env)
    known = set(out.split()) | set(env)
    own = {a or b for a, b in _SET.findall(run_text)}
    read_names = set(_READ.findall(run_text))
    return sorted(name for name in read_names - known - own if not _GIVEN.match(name))


def probe_h_config_exports_settings(ctx):
    where = require_dir(ctx)
    expect(answer_wrote(where, "h-config.sh"), "h-config.sh was not created")
    env = base_env(ctx.home, FLIGHT_SHEET)
    script = SOURCE_CONFIG + 'env -0'
    code, out, err, _ = run_shell(["bash", "-c", script], where, env)
    new = {k: v for k, v in (item.split("=", 1) for item in out.split("\0") if "=" in item)
           if k not in env and not k.startswith("CUSTOM_") and k not in ("PWD", "SHLVL", "_", "OLDPWD")}
    exported = {k: v for k, v in new.items() if len(v.strip()) >= 3}
    written = {n: t for n, t in _side_files(where).items() if "pool.probe.example" in t}
    run_text = _h_run_text(where)
    # names h-run.sh reads, exported empty: an unquoted heredoc expanded `$CUSTOM_URL` while the
    # file was written (the heredoc and CUSTOM_* checks fail for that); the export itself is in place
    empty = sorted(k for k in new if run_text and re.search(r"\$\{?" + re.escape(k) + r"\b", run_text))
    expect(exported or written or empty, "sourcing h-config.sh exports no setting and writes no config file")
    every_exported = {item.split("=", 1)[0] for item in out.split("\0") if "=" in item}
    unexported = _left_unexported(where, env, every_exported, run_text)
    expect(not unexported, f"h-run.sh uses {', '.join(unexported)}, which h-config.sh sets without export "
                           f"(and h-run.sh does not source it): ethminer never sees them")
    unset = _read_but_never_set(where, env, run_text)
    expect(not unset, f"h-run.sh uses {', '.join('$' + n for n in unset)}, which neither h-config.sh nor h-run.sh "
                      f"sets: ethminer gets {'it' if len(unset) == 1 else 'them'} empty")
    if not exported and not written:
        return (f"h-config.sh exports {', '.join(empty)}, which h-run.sh reads (empty here: no flight-sheet "
                f"value reaches them)")
    run, _used, _pid, err = run_h_run(ctx)
    if run is None:
        # h-run.sh's own check fails for that; what h-config.sh exports cannot be followed
        raise _harness.CandidateError("cannot be judged: h-run.sh never started ethminer, so the settings "
                                      "h-config.sh exports cannot be followed to it")
    argv = " ".join(run["argv"])
    # (word splitting leaves one space where the value had several: "--api-port 3333  -P …")
    used = sorted(k for k, v in exported.items() if " ".join(v.split()) in argv)
    if not used and written and "pool.probe.example" in argv:
        used = sorted(written)
    expect(used, f"none of the settings h-config.sh exports ({', '.join(sorted(exported)) or 'none'}) "
                 f"or writes ({', '.join(sorted(written)) or 'none'}) reaches ethminer through h-run.sh")
    return f"h-config.sh provides {', '.join(used)}, and h-run.sh passes it to ethminer"


class _ApiHandler(socketserver.StreamRequestHandler):
    """ethminer's API: newline-terminated JSON-RPC over plain TCP, the connection kept open."""

    def handle(self):
        try:
            self._serve()
        finally:
            with self.server.counting:
                self.server.active -= 1

    def _lines(self):
        """The lines the client sends, the last unterminated one too (an HTTP client's body),
        also when the client resets the connection: a buffered readline would lose that
        partial line with the reset."""
        buffer = b""
        while True:
            try:
                chunk = self.connection.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                if buffer.strip():
                    yield buffer
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield line
            if len(buffer) > 65536:
                yield buffer
                buffer = b""

    def _serve(self):
        # like ethminer, never hang up first: a client that waits for EOF waits forever
        self.connection.settimeout(None)
        hung_up = False
        for line in self._lines():
            text = line.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                request = json.loads(text)
                method, msg_id = request.get("method"), request.get("id")
                self.server.requests.append(method)
            except (ValueError, AttributeError):
                reply = {"id": None, "jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}}
            else:
                if method in ("miner_getstat1", "miner_getstat2"):
                    reply = {"id": msg_id, "jsonrpc": "2.0", "result": GETSTAT1}
                elif method == "miner_getstathr":
                    reply = {"id": msg_id, "jsonrpc": "2.0", "result": GETSTATHR}
                elif method == "miner_ping":
                    reply = {"id": msg_id, "jsonrpc": "2.0", "result": "pong"}
                else:
                    reply = {"id": msg_id, "jsonrpc": "2.0",
                             "error": {"code": -32601, "message": "Method not found"}}
            if hung_up:
                continue
            try:
                self.wfile.write((json.dumps(reply, separators=(",", ":")) + "\n").encode())   # compact, as ethminer writes it
                self.wfile.flush()
            except OSError:
                # the client hung up: still read what it sent (an HTTP client's body comes
                # after header lines whose replies it no longer reads)
                hung_up = True


class _ApiServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False
    requests = None     # methods asked, filled by the handler
    active = 0          # connections accepted and not yet read to the end (under ``counting``)
    counting = threading.Lock()

    def process_request(self, request, client_address):
        # counted when accepted, before its thread starts: a client that already hung up
        # still has its request read before the server stops
        with self.counting:
            self.active += 1
        super().process_request(request, client_address)


def start_fake_api():
    deadline = time.monotonic() + 2.0
    while True:
        try:
            server = _ApiServer(("127.0.0.1", API_PORT), _ApiHandler)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise _harness.CandidateError(f"port {API_PORT} is busy: the fake ethminer API cannot listen") from None
            time.sleep(0.05)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _numbers(value):
    return isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


def run_h_stats(ctx, where):
    """h-stats.sh against the fake API: {code (None on timeout), out, err, asked}."""
    fakebin = tempfile.mkdtemp(prefix="hiveos-bin-")
    for name in ("nc", "netcat"):
        _write_exec(os.path.join(fakebin, name), FAKE_NC)
    env = base_env(ctx.home, FLIGHT_SHEET)
    env["PATH"] = fakebin + os.pathsep + env["PATH"]
    server = start_fake_api()
    try:
        code, out, err, _ = run_shell(["bash", "./h-stats.sh"], where, env, STATS_TIMEOUT)
        # a client that hung up (curl at its --max-time) may leave its last request unread yet
        settle = time.monotonic() + 3.0   # a loaded machine may take a while to read it
        while server.active and time.monotonic() < settle:
            time.sleep(0.01)
    finally:
        server.shutdown()
        server.server_close()
    return {"code": code, "out": out[-20000:], "err": err[-4000:], "asked": list(server.requests)}


def h_stats_result(ctx):
    where = require_dir(ctx)
    expect(answer_wrote(where, "h-stats.sh"), "h-stats.sh was not created")
    stats = setup_record().get("stats")
    if not stats:
        raise _harness.CandidateError("h-stats.sh was not run")
    if "unavailable" in stats:
        raise _harness.CandidateError(stats["unavailable"])
    return stats["code"], stats["out"], stats["err"], stats["asked"]


def probe_h_stats_queries_3333(ctx):
    code, out, err, asked = h_stats_result(ctx)
    stats = [m for m in asked if isinstance(m, str) and m.startswith("miner_getstat")]
    expect(stats, "h-stats.sh never asked ethminer's API on 127.0.0.1:3333 for miner_getstat"
           + (f" (it sent {asked[:3]})" if asked else ""))
    return f"h-stats.sh asked the API on 3333 for {stats[0]}"


def probe_h_stats_prints_json(ctx):
    code, out, err, asked = h_stats_result(ctx)
    expect(code is not None, f"h-stats.sh did not finish within {STATS_TIMEOUT:g} s")
    text = out.strip()
    try:
        stats = json.loads(text)   # the whole output is the JSON, nothing else
    except ValueError:
        stats = None
    expect(stats is not None, "h-stats.sh output is not JSON: " + (text[:160] or "(nothing printed)")
           + (f" [stderr: {err.strip().splitlines()[-1][:120]}]" if err.strip() else ""))
    expect(isinstance(stats, dict), f"h-stats.sh printed JSON {type(stats).__name__}, not an object")
    missing = [k for k in ("hs", "temp", "fan", "uptime", "ver") if k not in stats]
    expect(not missing, f"h-stats.sh JSON lacks {', '.join(missing)}: {text[:160]}")
    hs = stats["hs"]
    expect(isinstance(hs, list), f"hs is a {type(hs).__name__} ({json.dumps(hs)[:60]}), not an array")
    expect(_numbers(hs), f"hs holds non-numbers: {json.dumps(hs)[:80]}")
    if not any(isinstance(m, str) and m.startswith("miner_getstat") for m in asked):
        # it asks another port (api_port's failure): only the JSON it prints is this check's
        return "h-stats.sh printed JSON with hs (array), temp, fan, uptime, ver (it never reached the API on 3333)"
    expect(len(hs) == 2, f"hs has {len(hs)} entries for the API's 2 GPUs: {hs}")
    expect(hs[0] > 0 and abs(hs[1] / hs[0] - 30234 / 31000) < 0.01,
           f"hs {hs} does not follow the API's per-GPU rates 31000;30234 kH/s")
    expect(_numbers(stats["temp"]) and stats["temp"] == [61, 63], f"temp is {stats['temp']!r}, the API says [61, 63]")
    expect(_numbers(stats["fan"]) and stats["fan"] == [70, 75], f"fan is {stats['fan']!r}, the API says [70, 75]")
    uptime = stats["uptime"]
    expect(isinstance(uptime, (int, float)) and not isinstance(uptime, bool) and uptime > 0,
           f"uptime is {uptime!r}, not a number of seconds")
    expect(stats["ver"] not in ("", None), "ver is empty")
    return f"h-stats.sh printed JSON with hs {hs}, temp, fan, uptime {uptime}, ver from the API"


PROBES = [
    Probe("hiveos.directory", "files_in_downloads_ethminer", probe_files_in_downloads_ethminer),
    Probe("hiveos.heredocs", "files_written_whole", probe_files_written_whole),
    Probe("hiveos.manifest", "manifest_sets_name_version", probe_manifest_sets_name_version),
    Probe("hiveos.custom_vars", "flight_sheet_reaches_ethminer", probe_flight_sheet_reaches_ethminer,
          timeout=PROBE_LIMIT),
    Probe("hiveos.custom_vars", "no_miner_variables", probe_no_miner_variables),
    Probe("hiveos.h_config", "h_config_exports_settings", probe_h_config_exports_settings,
          timeout=2 * SHELL_TIMEOUT + 2.0),
    Probe("hiveos.h_run_exec", "h_run_execs_ethminer", probe_h_run_execs_ethminer, timeout=PROBE_LIMIT),
    Probe("hiveos.h_stats_json", "h_stats_prints_json", probe_h_stats_prints_json),
    Probe("hiveos.api_port", "h_stats_queries_3333", probe_h_stats_queries_3333),
    Probe("hiveos.api_port", "ethminer_api_on_3333", probe_ethminer_api_on_3333, timeout=PROBE_LIMIT),
]

if __name__ == "__main__":
    _harness.main("hiveos", PROBES, None, __file__, setup=setup)
