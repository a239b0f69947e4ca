"""Run untrusted code (a model's fix, a model's shell) behind walls, never in our process.

Why bubblewrap (``bwrap``, Debian package ``bubblewrap``) rather than ``unshare``
with bind mounts: bwrap builds the whole wall set in one unprivileged step — a
user, mount, network, PID, IPC and UTS namespace, a read-only bind of ``/`` with
one writable bind (the scratch), a fresh ``/dev`` and ``/proc``, loopback brought
up in the empty network namespace, all capabilities dropped, ``--die-with-parent``
and a new session (no terminal injection). ``unshare`` gives the namespaces but the
read-only remount of every mount point, ``lo`` up and the capability drop would be
ours to script as root, and they fail open when a step is skipped. bwrap refuses to
start instead.

The walls, per run:

* network: its own namespace, loopback only (up); the host's 127.0.0.1 is another
  namespace, so nothing on this machine or outside is reachable;
* filesystem: the home folders (``/root``, ``/home``, ours) hidden behind empty
  read-only mounts, everything else read-only except the scratch directory, which is cwd,
  HOME and TMPDIR: a fresh size-capped tmpfs at the scratch's path (so the code
  cannot fill the disk, and what it writes never reaches the host), into which the
  prepared ``probes/`` and ``candidate/`` folders are bound read-only (so the code
  under test cannot rewrite the probes that judge it); ``/tmp`` and ``/var/tmp`` are
  empty private tmpfs mounts too (code that writes there works, and never sees or
  touches the host's);
* user: never root. Run as root (CI), we first switch to an unprivileged uid
  (``nobody``, 65534) that owns the scratch; otherwise the caller's own uid. Inside,
  no capabilities;
* environment: cleared; only PATH, HOME, TMPDIR, LANG and
  PYTHONDONTWRITEBYTECODE are set (no API key can leak);
* resources: rlimits on CPU seconds, address space, file size and number of
  processes, plus a wall-clock timeout that kills the whole process group (and,
  through the PID namespace, every process the code started).

When the walls cannot be built (no bwrap, user namespaces disabled) ``available()``
says why and nothing is run: execution is skipped, never done with fewer walls.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NOBODY = 65534
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"


FRESH_DIRS = ("/tmp", "/var/tmp")


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 20.0
    cpu_seconds: int = 15
    memory_bytes: int = 1 << 30          # address space
    file_bytes: int = 16 << 20           # largest file the code may write
    # tasks (processes and threads: what RLIMIT_NPROC counts) beyond what the sandbox user
    # already runs; room for two runs side by side (xdist), each started while the
    # other grows, and still a wall a fork bomb hits in well under a second
    processes: int = 256
    scratch_bytes: int = 256 << 20       # the writable scratch (a tmpfs)


@dataclass
class RunResult:
    returncode: int | None      # None: killed by the wall timeout
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float


class SandboxUnavailable(Exception):
    """The walls cannot be built here; the message is one line for the user."""


def _bwrap() -> str | None:
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.path.exists("/usr/bin/bwrap") else None)


def run_as_uid() -> int:
    """The uid the code runs as: ours, or ``nobody`` when we are root."""
    return NOBODY if os.geteuid() == 0 else os.geteuid()


def _processes_of(uid: int) -> int:
    """The tasks (threads included, as RLIMIT_NPROC counts them) the user runs now."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += max(1, len(os.listdir(f"/proc/{entry.name}/task")))
            except OSError:
                continue
    return count


def _command(bwrap: str, scratch: Path, argv: list[str], env: dict[str, str], limits: Limits,
             read_only: tuple[str, ...], fresh: tuple[str, ...] = FRESH_DIRS, hidden: tuple[str, ...] = ()) -> list[str]:
    inside = str(scratch)
    cmd = [
        bwrap,
        "--unshare-user", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--ro-bind", "/", "/",
        "--dev", "/dev", "--proc", "/proc",
    ]
    for private in _private_dirs(scratch):   # home folders (keys, tokens) are hidden, read-only and empty
        cmd += ["--tmpfs", private, "--remount-ro", private]
    for folder in hidden:   # host folders the run must not see (a rig's /hive): empty and read-only
        if Path(folder).is_dir():
            cmd += ["--tmpfs", folder, "--remount-ro", folder]
    for folder in fresh:   # the system's scratch folders: empty, private, capped, gone with the run
        cmd += ["--size", str(limits.scratch_bytes), "--tmpfs", folder]
    cmd += ["--size", str(limits.scratch_bytes), "--tmpfs", inside]
    for name in read_only:
        if (scratch / name).exists():
            cmd += ["--ro-bind", str(scratch / name), f"{inside}/{name}"]
    cmd += ["--dir", f"{inside}/home", "--dir", f"{inside}/tmp", "--chdir", inside, "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--"] + argv


def _private_dirs(scratch: Path) -> list[str]:
    """Users' home folders to hide inside: /root, /home and ours (from the password
    database, not $HOME), unless they hold the scratch or sit where the sandbox user
    cannot reach them anyway (bwrap, running as that user, could not mount there)."""
    found = []
    for folder in dict.fromkeys(("/root", "/home", pwd.getpwuid(os.getuid()).pw_dir)):
        path = Path(folder)
        if folder == "/" or not path.is_dir() or path == scratch or path in scratch.parents:
            continue
        if all(parent.stat().st_mode & 0o001 for parent in path.parents):
            found.append(str(path))
    return found


def _child_settings(uid: int, limits: Limits) -> dict:
    """Popen arguments: the uid switch (root only; done by Popen before the rlimits) and the rlimits."""
    processes = _processes_of(uid) + limits.processes

    def set_limits() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    settings: dict = {"preexec_fn": set_limits, "start_new_session": True}
    if os.geteuid() == 0:
        settings.update(user=uid, group=uid, extra_groups=[])
    return settings


def new_scratch() -> Path:
    """A fresh folder to lay the read-only parts out in (``probes/``, ``candidate/``),
    under the system temp dir, whose every parent the sandbox user can traverse."""
    scratch = Path(tempfile.mkdtemp(prefix="llmbench-verify-"))
    os.chmod(scratch, 0o755)
    return scratch


def prepare_scratch(scratch: Path) -> None:
    """Make the laid-out files readable by the sandbox user (whatever the umask was)."""
    for path in [scratch, *scratch.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            os.chmod(path, mode | (0o555 if path.is_dir() else 0o444))


def sandbox_env(scratch: Path, home: Path | None = None) -> dict[str, str]:
    return {
        "PATH": SANDBOX_PATH,
        "HOME": str(home or scratch / "home"),
        "TMPDIR": str(scratch / "tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run(argv: list[str], scratch: Path, limits: Limits = Limits(), env: dict[str, str] | None = None,
        read_only: tuple[str, ...] = ("probes", "candidate"), fresh: tuple[str, ...] = FRESH_DIRS,
        hidden: tuple[str, ...] = ()) -> RunResult:
    """Run ``argv`` in the sandbox; cwd is ``scratch`` (a tmpfs there, with ``scratch``'s
    ``read_only`` sub-folders bound read-only). ``fresh`` folders (/tmp by default) are
    empty private tmpfs mounts over the host's: written to like on any machine, seen by
    nothing outside. ``hidden`` folders the host has are empty and read-only inside."""
    reason = unavailable_reason()
    if reason:
        raise SandboxUnavailable(reason)
    scratch = Path(scratch).resolve()
    uid = run_as_uid()
    bwrap = _bwrap()
    assert bwrap is not None  # unavailable_reason() found it
    cmd = _command(bwrap, scratch, argv, env or sandbox_env(scratch), limits, read_only, fresh, hidden)
    started = time.monotonic()
    # output goes to files, not pipes: a flood is cut by the file-size limit and
    # never held in our memory; only its tail is read back
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env={"PATH": SANDBOX_PATH}, cwd=str(scratch), **_child_settings(uid, limits))
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            proc.wait()
        finally:
            _kill_group(proc)   # anything that outlived bwrap's init in the group
        stdout, stderr = _tail(out), _tail(err)
    return RunResult(None if timed_out else proc.returncode, stdout, stderr, timed_out, time.monotonic() - started)


def _tail(handle, limit: int = 256 << 10) -> str:
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - limit))
    return handle.read().decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """None when the walls can be built here; else one line saying why not."""
    bwrap = _bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    scratch = new_scratch()
    try:
        prepare_scratch(scratch)
        uid = run_as_uid()
        cmd = _command(bwrap, scratch, ["/bin/sh", "-c", "echo ok > probe && cat probe"], sandbox_env(scratch),
                       Limits(), ())
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=20, env={"PATH": SANDBOX_PATH},
                                    **_child_settings(uid, Limits()))
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not start: {exc}"
        if result.returncode != 0 or result.stdout.strip() != "ok":
            why = (result.stderr.strip().splitlines() or ["no output"])[-1]
            return f"bubblewrap cannot build the sandbox here ({why}); user namespaces may be disabled"
    finally:
        remove_scratch(scratch)
    return None


def remove_scratch(scratch: Path) -> None:
    """Delete a scratch tree, whatever modes the code inside left on it."""
    def unlock(func, path, _exc) -> None:
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            func(path)
        except OSError:
            pass

    shutil.rmtree(scratch, onerror=unlock)
