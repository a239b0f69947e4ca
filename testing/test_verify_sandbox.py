"""Each wall of the sandbox, proven by running hostile code in it (as root too, as CI does)."""

from __future__ import annotations

import json
import os
import pwd
import socket
import stat
import tempfile
import time
from pathlib import Path

import pytest
from sandbox_helpers import needs_sandbox, require_sandbox  # noqa: F401 - the fixture needs_sandbox uses

from llmbench.verify import sandbox

REPO = Path(__file__).resolve().parents[1]
pytestmark = needs_sandbox


@pytest.fixture
def scratch():
    path = sandbox.new_scratch()
    sandbox.prepare_scratch(path)
    yield path
    sandbox.remove_scratch(path)


def run_python(code: str, scratch: Path, **limits) -> sandbox.RunResult:
    (scratch / "candidate").mkdir(exist_ok=True)
    (scratch / "candidate" / "hostile.py").write_text(code)
    sandbox.prepare_scratch(scratch)
    return sandbox.run(["python3", "candidate/hostile.py"], scratch, sandbox.Limits(**limits) if limits else sandbox.Limits())


def outcome(result: sandbox.RunResult) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


TRY = '''
import json, os, sys
def attempt(label, action):
    try:
        action()
        return {label: "done"}
    except OSError as exc:
        return {label: exc.strerror}
'''


def test_no_network_neither_the_hosts_loopback_nor_outside(scratch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        code = TRY + f'''
import socket
def connect(address):
    socket.create_connection(address, timeout=2).close()
found = {{}}
found.update(attempt("host_loopback", lambda: connect(("127.0.0.1", {port}))))
found.update(attempt("outside", lambda: connect(("1.1.1.1", 53))))
found.update(attempt("dns", lambda: socket.getaddrinfo("example.com", 80)))
print(json.dumps(found))
'''
        found = outcome(run_python(code, scratch))
    finally:
        server.close()
    assert found["host_loopback"] == "Connection refused"     # its own loopback: nothing listens there
    assert found["outside"] == "Network is unreachable"
    assert found["dns"] != "done"


def test_loopback_inside_is_up_for_the_probes_own_servers(scratch):
    code = '''
import socket
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
client = socket.create_connection(server.getsockname(), timeout=2)
conn, _ = server.accept(); client.sendall(b"ok"); print(conn.recv(2).decode())
'''
    result = run_python(code, scratch)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.fixture
def victims():
    """Files outside the scratch that even an unprivileged user could change were it not for
    the read-only mount: a world-writable folder and file in /tmp, and the repository and HOME."""
    folder = Path(tempfile.mkdtemp(prefix="llmbench-victim-"))
    os.chmod(folder, 0o777)
    victim = folder / "victim.txt"
    victim.write_text("original\n")
    os.chmod(victim, 0o666)
    home_file = Path(os.path.expanduser("~")) / ".llmbench-sandbox-victim"
    home_file.write_text("original\n")
    repo_file = REPO / "README.md"
    yield [victim, home_file, repo_file]
    home_file.unlink()
    victim.unlink(missing_ok=True)
    folder.rmdir()


def test_nothing_outside_the_scratch_can_be_written_deleted_or_chmodded(scratch, victims):
    before = {p: (p.read_bytes(), p.stat().st_mode) for p in victims}
    (scratch / "candidate").mkdir()
    judge = scratch / "candidate" / "judge.txt"   # world-writable: only the read-only bind protects it
    judge.write_text("original\n")
    os.chmod(judge, 0o666)
    code = TRY + f'''
found = {{}}
for n, path in enumerate({[str(p) for p in victims]!r}):
    found.update(attempt(f"write{{n}}", lambda: open(path, "a").write("x")))
    found.update(attempt(f"delete{{n}}", lambda: os.unlink(path)))
    found.update(attempt(f"chmod{{n}}", lambda: os.chmod(path, 0o777)))
    found.update(attempt(f"create{{n}}", lambda: open(os.path.join(os.path.dirname(path), "new-file"), "w").close()))
found.update(attempt("scratch", lambda: open("mine.txt", "w").write("fine")))
found.update(attempt("home", lambda: open(os.path.join(os.environ["HOME"], "f"), "w").write("fine")))
found.update(attempt("tmpdir", lambda: open(os.path.join(os.environ["TMPDIR"], "f"), "w").write("fine")))
found.update(attempt("own_code", lambda: open("candidate/judge.txt", "a").write("# changed")))
print(json.dumps(found))
'''
    found = outcome(run_python(code, scratch))
    assert [found.pop(k) for k in ("scratch", "home", "tmpdir")] == ["done"] * 3
    assert found.pop("own_code") == "Read-only file system"    # the code under test cannot rewrite its judges
    assert judge.read_text() == "original\n"
    assert all(v != "done" for v in found.values()), found
    # the world-writable folder in the host's /tmp is not even there: /tmp is the sandbox's own
    assert found["write0"] == found["delete0"] == found["chmod0"] == "No such file or directory"
    for path, (data, mode) in before.items():
        assert path.read_bytes() == data and path.stat().st_mode == mode
        assert not (path.parent / "new-file").exists()


def test_tmp_is_private_writable_and_never_reaches_the_host(scratch):
    marker = f"llmbench-private-tmp-{os.getpid()}"
    code = TRY + f'''
found = {{}}
for folder in ("/tmp", "/var/tmp"):
    found.update(attempt(folder, lambda: open(os.path.join(folder, {marker!r}), "w").write("x")))
    found[folder + " listing"] = sorted(os.listdir(folder))
print(json.dumps(found))
'''
    found = outcome(run_python(code, scratch))
    assert found["/tmp"] == found["/var/tmp"] == "done"
    # empty but for what the run wrote (and the scratch's own mount point under /tmp)
    assert marker in found["/var/tmp listing"] and len(found["/var/tmp listing"]) == 1
    assert not (Path("/tmp") / marker).exists() and not (Path("/var/tmp") / marker).exists()


def test_home_folders_are_hidden(scratch, victims):
    home = pwd.getpwuid(os.getuid()).pw_dir
    code = f'import os, json\nprint(json.dumps({{p: os.listdir(p) for p in ({home!r}, "/root", "/home") if os.path.isdir(p)}}))\n'
    found = outcome(run_python(code, scratch))
    assert found and all(listing == [] for listing in found.values()), found


def test_a_hidden_host_folder_is_empty_and_read_only_inside(scratch):
    # a rig's /hive (or a wrapper once tried by hand) must not stand in for the answer's files;
    # a folder outside /tmp, since /tmp is the sandbox's own anyway
    folder = Path(tempfile.mkdtemp(prefix="llmbench-hidden-", dir=REPO))
    try:
        folder.chmod(0o755)   # readable by the sandbox's own user
        (folder / "h-run.sh").write_text("exec ./ethminer\n")
        code = TRY + f'''
found = {{"listing": sorted(os.listdir({str(folder)!r}))}}
found.update(attempt("write", lambda: open(os.path.join({str(folder)!r}, "f"), "w").write("x")))
print(json.dumps(found))
'''
        (scratch / "candidate").mkdir(exist_ok=True)
        (scratch / "candidate" / "hostile.py").write_text(code)
        sandbox.prepare_scratch(scratch)
        found = outcome(sandbox.run(["python3", "candidate/hostile.py"], scratch, hidden=(str(folder),)))
        assert found == {"listing": [], "write": "Read-only file system"}
        seen = outcome(run_python(code, scratch))   # not hidden: the host's file is there
        assert seen["listing"] == ["h-run.sh"]
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


def test_never_root_and_no_api_key_in_the_environment(scratch, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-for-the-test")
    code = 'import os, json; print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "env": dict(os.environ)}))'
    found = outcome(run_python(code, scratch))
    assert found["uid"] != 0 and found["euid"] != 0
    assert "OPENAI_API_KEY" not in found["env"]
    assert "sk-secret-for-the-test" not in json.dumps(found["env"])
    assert found["env"]["HOME"] == str(scratch / "home") and found["env"]["TMPDIR"] == str(scratch / "tmp")
    assert set(found["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "PWD"}


def _processes_running_as(uid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid and (entry / "cmdline").read_bytes():
                    count += 1
            except OSError:
                pass
    return count


def test_a_fork_bomb_is_stopped_within_the_timeout_and_leaves_nothing_behind(scratch):
    uid = sandbox.run_as_uid()
    if uid == os.geteuid():
        pytest.skip("leftover processes are counted by uid: only meaningful when the sandbox runs as another user")
    before = _processes_running_as(uid)
    started = time.monotonic()
    result = sandbox.run(["/bin/sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 60"], scratch,
                         sandbox.Limits(wall_seconds=3))
    assert time.monotonic() - started < 6
    assert result.timed_out or result.returncode != 0
    time.sleep(0.5)
    assert _processes_running_as(uid) <= before


def test_an_endless_loop_is_killed_at_the_wall_timeout_with_its_children(scratch):
    started = time.monotonic()
    result = run_python("import subprocess\nsubprocess.Popen(['sleep', '297.123'])\nwhile True: pass\n",
                        scratch, wall_seconds=2)
    assert result.timed_out and time.monotonic() - started < 5
    time.sleep(0.3)
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit()
            and _cmdline(p) in ("sleep\0" "297.123\0", "python3\0candidate/hostile.py\0")]
    assert not left


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_cpu_seconds_are_limited_even_without_the_wall_timeout(scratch):
    result = run_python("while True: pass\n", scratch, wall_seconds=10, cpu_seconds=1)
    assert not result.timed_out and result.returncode != 0 and result.seconds < 5


def test_a_huge_file_is_cut_by_the_file_size_limit(scratch):
    code = '''
import signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # so the write fails with EFBIG instead of killing us
try:
    with open("huge", "wb") as f:
        for _ in range(64):
            f.write(b"x" * (1 << 20))
    print("wrote all")
except OSError as exc:
    print(exc.strerror)
'''
    result = run_python(code + 'import os\nprint(os.path.getsize("huge"))\n', scratch, file_bytes=4 << 20)
    assert result.stdout.split() == ["File", "too", "large", str(4 << 20)]


def test_an_output_flood_is_cut_and_only_its_tail_is_kept(scratch):
    result = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", scratch, file_bytes=8 << 20)
    assert not result.timed_out and result.returncode != 0      # stopped by the file-size limit, not the clock
    assert 0 < len(result.stdout) <= 256 << 10


def test_memory_is_limited(scratch):
    result = run_python("x = bytearray(2 << 30)\nprint('allocated')\n", scratch, memory_bytes=512 << 20)
    assert "MemoryError" in result.stderr and "allocated" not in result.stdout


def test_without_bubblewrap_nothing_runs_and_the_reason_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    sandbox.unavailable_reason.cache_clear()
    try:
        reason = sandbox.unavailable_reason()
        assert reason and "\n" not in reason and "bwrap" in reason
        with pytest.raises(sandbox.SandboxUnavailable):
            sandbox.run(["/bin/true"], tmp_path)
    finally:
        sandbox.unavailable_reason.cache_clear()


def test_the_scratch_is_capped_and_what_the_code_writes_never_reaches_the_host(scratch):
    code = '''
import os
written = 0
try:
    for n in range(100):
        with open(f"part{n}", "wb") as f:
            f.write(b"x" * (2 << 20))
        written += 2
except OSError as exc:
    print(exc.strerror, written)
'''
    result = run_python(code, scratch, scratch_bytes=16 << 20)
    words = result.stdout.split()
    assert words[:4] == ["No", "space", "left", "on"] and int(words[-1]) <= 16, result.stdout
    assert sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*")) == ["candidate", "candidate/hostile.py"]


def test_prepared_files_are_readable_by_the_sandbox_user_whatever_the_umask(scratch):
    (scratch / "candidate").mkdir()
    secret = scratch / "candidate" / "code.py"
    secret.write_text("print('ran')\n")
    os.chmod(secret, 0o600)
    os.chmod(scratch / "candidate", 0o700)
    sandbox.prepare_scratch(scratch)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o644
    assert sandbox.run(["python3", "candidate/code.py"], scratch).stdout == "ran\n"
