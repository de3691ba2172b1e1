"""Code-version capture: commit, branch, dirty flag, redacted remote and the uncommitted diff of a git work tree."""

from __future__ import annotations

import os
import subprocess
import threading

from autotrack.capture.redact import redact_url

# Each git call must finish quickly: capture runs at experiment start and must never stall it.
GIT_TIMEOUT_S = 2.0
# Read the diff in chunks so a huge diff (e.g. a modified data file) never sits in memory whole.
_READ_CHUNK = 64 * 1024
_UNTRACKED_HEADER = "# Untracked files (names only, contents not captured):\n"


class _GitUnavailable(Exception):
    """Internal signal: git is missing, timed out or failed; git_state reports ({}, None)."""


def _git_env() -> dict[str, str]:
    """Environment for git calls that never touch the user's repo or terminal."""
    env = dict(os.environ)
    # Without this, `git status` refreshes and rewrites .git/index, taking index.lock --
    # which can make the user's own concurrent git command fail.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    # Never block waiting for credentials on a terminal nobody is watching.
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _git_executable(env: dict[str, str]) -> str:
    """git's absolute path. Given a bare `git`, subprocess looks it up with os.get_exec_path(),
    whose `warnings.catch_warnings()` resets Python's record of the warnings already shown: the
    user's once-only warnings would show again after each run."""
    import shutil

    path = shutil.which("git", path=env.get("PATH"))
    if path is None:
        raise _GitUnavailable
    return os.path.abspath(path)


def _run_git(args: list[str], cwd: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run one short git command with captured output; raise _GitUnavailable if it cannot run or times out."""
    try:
        return subprocess.run(
            [_git_executable(env), *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,  # stderr too, so "fatal: not a git repository" never reaches the terminal
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise _GitUnavailable from exc


def _head_info(cwd: str, env: dict[str, str]) -> tuple[str, str, str | None]:
    """Return (toplevel, commit sha, branch or None when detached) with a single git call."""
    result = _run_git(["rev-parse", "--show-toplevel", "HEAD", "--abbrev-ref", "HEAD"], cwd, env)
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    # Fails (non-zero) outside a work tree and in a repo with no commits yet: nothing to record.
    if result.returncode != 0 or len(lines) != 3:
        raise _GitUnavailable
    root, commit, branch = lines
    return root, commit, (None if branch == "HEAD" else branch)


def head_commit(path: str) -> str | None:
    """The commit checked out in the work tree holding `path`; None outside one (or without git)."""
    try:
        return _head_info(path, _git_env())[1]
    except _GitUnavailable:
        return None


def _status_entries(root: str, env: dict[str, str]) -> tuple[bool, list[str]]:
    """Return (has tracked changes, untracked names) from `git status --porcelain`."""
    result = _run_git(
        ["status", "--porcelain", "-z", "--no-renames", "--untracked-files=normal"], root, env
    )
    if result.returncode != 0:
        raise _GitUnavailable
    tracked_changed = False
    untracked: list[str] = []
    for entry in result.stdout.split(b"\0"):
        if len(entry) < 4:  # trailing empty field after the final NUL
            continue
        code, name = entry[:2], entry[3:].decode("utf-8", "replace")
        if code == b"??":
            untracked.append(name)
        else:
            tracked_changed = True
    return tracked_changed, untracked


def _origin_url(root: str, env: dict[str, str]) -> str | None:
    """Return the redacted URL of remote "origin", or None when there is none."""
    result = _run_git(["config", "--get", "remote.origin.url"], root, env)
    url = result.stdout.decode("utf-8", "replace").strip()
    # Exit status 1 just means "not set"; remotes may embed tokens, so always redact.
    return redact_url(url) if result.returncode == 0 and url else None


def _tracked_diff(root: str, env: dict[str, str], keep_bytes: int) -> tuple[bytes, int]:
    """Run `git diff HEAD`; return (its first keep_bytes bytes, its full size in bytes)."""
    # No external diff drivers or textconv filters: they run user-configured programs.
    # Fixed a/ b/ prefixes (despite diff.noprefix / diff.mnemonicPrefix) keep the
    # stored diff applicable with a plain `git apply`.
    args = [
        _git_executable(env), "diff", "HEAD", "--no-color", "--no-ext-diff", "--no-textconv",
        "--src-prefix=a/", "--dst-prefix=b/",
    ]
    try:
        proc = subprocess.Popen(
            args, cwd=root, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise _GitUnavailable from exc
    timed_out = threading.Event()

    def kill_on_timeout() -> None:
        timed_out.set()
        proc.kill()

    # A timer rather than communicate(timeout=...) so that we can stream and discard the excess.
    timer = threading.Timer(GIT_TIMEOUT_S, kill_on_timeout)
    timer.start()
    kept = bytearray()
    total = 0
    try:
        with proc.stdout:
            while chunk := proc.stdout.read(_READ_CHUNK):
                total += len(chunk)
                kept += chunk[: max(0, keep_bytes - len(kept))]
        returncode = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:  # only on an unexpected error while reading
            proc.kill()
            proc.wait()
    if timed_out.is_set() or returncode != 0:
        raise _GitUnavailable
    return bytes(kept), total


def _untracked_section(names: list[str]) -> bytes:
    """List untracked file names as a trailing comment block (their contents are never captured)."""
    if not names:
        return b""
    lines = [_UNTRACKED_HEADER] + [f"#   {name}\n" for name in names]
    return "".join(lines).encode("utf-8")


def _truncate(diff: bytes, total: int, max_bytes: int) -> str:
    """Cut diff to max_bytes at a line boundary and append a marker line naming the full size."""
    if total <= max_bytes:
        return diff.decode("utf-8", "replace")
    head = diff[:max_bytes]
    cut = head.rfind(b"\n")
    head = head[: cut + 1] if cut >= 0 else b""
    # "ignore" drops a multi-byte character split by the cut instead of adding a replacement glyph.
    text = head.decode("utf-8", "ignore")
    return text + f"# autotrack: diff truncated to {len(head)} of {total} bytes\n"


def _resolve_dir(path: str | None) -> str:
    """Directory to run git in: path itself, its parent when it is a file, or the cwd."""
    directory = os.getcwd() if path is None else os.path.abspath(path)
    if os.path.isfile(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        raise _GitUnavailable
    return directory


def _collect(path: str | None, max_diff_bytes: int) -> tuple[dict, str | None]:
    """git_state without the safety net: at most four git calls (rev-parse, status, config, diff)."""
    env = _git_env()
    root, commit, branch = _head_info(_resolve_dir(path), env)
    tracked_changed, untracked = _status_entries(root, env)
    remote = _origin_url(root, env)
    max_diff_bytes = max(0, max_diff_bytes)

    diff_head, diff_size = b"", 0
    if tracked_changed:
        diff_head, diff_size = _tracked_diff(root, env, max_diff_bytes)
    untracked_block = _untracked_section(untracked)
    total = diff_size + len(untracked_block)
    # An untracked file (a new script, a local config) can change results, so it counts as dirty.
    dirty = tracked_changed or bool(untracked)
    state = {
        "commit": commit,
        "branch": branch,
        "dirty": dirty,
        "remote": remote,
        "root": root,
        "diff_bytes": total,
        "diff_truncated": total > max_diff_bytes,
    }
    diff = _truncate(diff_head + untracked_block, total, max_diff_bytes) if dirty else None
    return state, diff


def git_state(path: str | None = None, max_diff_bytes: int = 1_000_000) -> tuple[dict, str | None]:
    """Describe the git work tree containing path (default: cwd) as (state dict, diff text or None).

    Returns ({}, None) outside a work tree, without a git binary, before the first
    commit, or when any git call fails or exceeds GIT_TIMEOUT_S. Never raises.
    """
    try:
        return _collect(path, max_diff_bytes)
    except Exception:  # capture is best effort: a broken git setup must not kill the run
        return {}, None


# -- the code version of each run, without a git call while nothing changed -----------------------
# Past this many tracked files, stat-ing them all costs more than asking git.
MAX_WATCHED_FILES = 20_000


class WorkTreeWatch:
    """git_state of one directory's work tree, recomputed only when the tree may have changed.

    Each run asks for the code version as of its start (a notebook commits and edits between
    fits). Asking git costs four subprocesses; instead a signature is read, as git's own index
    does: HEAD and the ref it names, the index file, and the size and mtime of every tracked file
    and of their folders (a new untracked file changes its folder's mtime). Equal signatures mean
    the same state; anything else, or a tree too large to stat, asks git again.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self._layout: tuple | None = None  # (root, git dir) once known; ("", "") outside a work tree
        self._outside_at: tuple | None = None  # outside a work tree: the `.git` folders seen above
        self._files: tuple[str, ...] | None = None
        self._files_for: tuple | None = None  # the index signature the file list was read at
        self._last: tuple | None = None  # (signature, (state, diff))
        self.git_calls = 0  # how many times git_state ran (the tests count them)

    def state(self, max_diff_bytes: int = 1_000_000) -> tuple[dict, str | None]:
        signature = self._signature()
        if signature is not None and self._last is not None and self._last[0] == signature:
            return self._last[1]
        self.git_calls += 1
        result = git_state(self.directory, max_diff_bytes=max_diff_bytes)
        # The signature read before git ran: a change made meanwhile is seen by the next run.
        self._last = (signature, result) if signature is not None else None
        return result

    def _signature(self) -> tuple | None:
        try:
            layout = self._work_tree()
            if layout == ("", ""):
                above = _git_dirs_above(self.directory)
                if self._outside_at is not None and above != self._outside_at:  # `git init` since
                    self._layout = None
                    return self._signature()
                self._outside_at = above
                return ("no work tree", above)
            root, git_dir = layout
            index = _stat(os.path.join(git_dir, "index"))
            head = _read(os.path.join(git_dir, "HEAD"))
            ref = head[5:].strip() if head.startswith("ref: ") else ""
            refs = (_stat(os.path.join(git_dir, ref)) if ref else None, _stat(os.path.join(git_dir, "packed-refs")))
            files = self._tracked_files(root, index)
            if files is None:
                return None
            folders = sorted({os.path.dirname(name) for name in files} | {""})
            return (head, refs, index, tuple(_stat(os.path.join(root, name)) for name in files),
                    tuple(_stat(os.path.join(root, folder)) for folder in folders))
        except Exception:  # whatever goes wrong here, git itself is asked
            return None

    def _work_tree(self) -> tuple[str, str]:
        if self._layout is None:
            result = _run_git(["rev-parse", "--show-toplevel", "--absolute-git-dir"], _resolve_dir(self.directory),
                              _git_env())
            lines = result.stdout.decode("utf-8", "replace").splitlines()
            self._layout = (lines[0], lines[1]) if result.returncode == 0 and len(lines) == 2 else ("", "")
        return self._layout

    def _tracked_files(self, root: str, index) -> tuple[str, ...] | None:
        if self._files is None or self._files_for != index:
            result = _run_git(["ls-files", "-z"], root, _git_env())
            if result.returncode != 0:
                return None
            names = [name for name in result.stdout.decode("utf-8", "surrogateescape").split("\0") if name]
            self._files = tuple(names) if len(names) <= MAX_WATCHED_FILES else None
            self._files_for = index
        return self._files


def _stat(path: str):
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(4096)
    except OSError:
        return ""


def _git_dirs_above(directory: str) -> tuple:
    """Outside a work tree: whether a `.git` appeared in the folder or above it (`git init`)."""
    found = []
    folder = os.path.abspath(directory)
    while True:
        found.append(os.path.exists(os.path.join(folder, ".git")))
        parent = os.path.dirname(folder)
        if parent == folder:
            return tuple(found)
        folder = parent
