"""Tests for autotrack.capture.git against real throwaway repositories."""

import os
import shutil
import subprocess

import pytest

from autotrack.capture import git as git_module
from autotrack.capture.git import git_state

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git binary not installed")

# Isolate from the developer's ~/.gitconfig (signing, hooks, default branch) and give an identity.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo, *args):
    return subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV},
        check=True, capture_output=True, text=True,
    ).stdout.strip()


@pytest.fixture(autouse=True)
def isolated_git_config(monkeypatch):
    """git_state itself must also not see the developer's global/system git config."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def repo(tmp_path):
    """A repo on branch "main" with one commit containing train.py."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text("lr = 0.1\nepochs = 3\n")
    git(path, "add", "train.py")
    git(path, "commit", "-q", "-m", "initial")
    return path


def test_clean_repo(repo):
    state, diff = git_state(str(repo))
    assert state == {
        "commit": git(repo, "rev-parse", "HEAD"),
        "branch": "main",
        "dirty": False,
        "remote": None,
        "root": str(repo),
        "diff_bytes": 0,
        "diff_truncated": False,
    }
    assert diff is None


def test_subdirectory_and_file_paths_resolve_to_root(repo):
    (repo / "src").mkdir()
    (repo / "src" / "mod.py").write_text("x = 1\n")
    state, _ = git_state(str(repo / "src"))
    assert state["root"] == str(repo)
    state, _ = git_state(str(repo / "train.py"))
    assert state["root"] == str(repo)


def test_default_path_is_cwd(repo, monkeypatch):
    monkeypatch.chdir(repo)
    state, _ = git_state()
    assert state["root"] == str(repo)


def test_dirty_repo_diff_content(repo):
    (repo / "train.py").write_text("lr = 0.01\nepochs = 3\n")
    (repo / "notes.txt").write_text("UNTRACKED-CONTENT-MUST-NOT-APPEAR\n")
    state, diff = git_state(str(repo))
    assert state["dirty"] is True
    assert state["diff_truncated"] is False
    assert "-lr = 0.1" in diff
    assert "+lr = 0.01" in diff
    assert "notes.txt" in diff  # untracked names are listed ...
    assert "UNTRACKED-CONTENT-MUST-NOT-APPEAR" not in diff  # ... but not their contents
    assert state["diff_bytes"] == len(diff.encode())


def test_diff_includes_staged_changes_and_applies(repo, tmp_path):
    (repo / "train.py").write_text("lr = 0.5\nepochs = 3\n")
    git(repo, "add", "train.py")  # staged, so plain `git diff` would miss it
    (repo / "scratch.txt").write_text("x\n")
    state, diff = git_state(str(repo))
    assert "+lr = 0.5" in diff

    # The captured diff (with its untracked-names trailer) reproduces the tree on a fresh clone.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", state["commit"])
    patch = tmp_path / "patch.diff"
    patch.write_text(diff)
    git(clone, "apply", str(patch))
    assert (clone / "train.py").read_text() == "lr = 0.5\nepochs = 3\n"


def test_diff_format_ignores_user_diff_config(repo):
    git(repo, "config", "diff.noprefix", "true")
    git(repo, "config", "color.diff", "always")
    (repo / "train.py").write_text("lr = 0.3\nepochs = 3\n")
    _, diff = git_state(str(repo))
    assert "--- a/train.py\n+++ b/train.py\n" in diff
    assert "\x1b[" not in diff


def test_only_untracked_files_is_dirty(repo):
    (repo / "new.py").write_text("print('hi')\n")
    state, diff = git_state(str(repo))
    assert state["dirty"] is True
    assert "new.py" in diff
    assert "print('hi')" not in diff


def test_diff_truncation(repo):
    (repo / "train.py").write_text("".join(f"line {i} changed\n" for i in range(5000)))
    state, diff = git_state(str(repo), max_diff_bytes=1000)
    assert state["diff_truncated"] is True
    assert state["diff_bytes"] > 1000
    body, marker = diff.rstrip("\n").rsplit("\n", 1)
    assert len(body.encode()) + 1 <= 1000  # kept part respects the limit, cut at a line end
    assert marker.startswith("# autotrack: diff truncated")
    assert str(state["diff_bytes"]) in marker
    full_state, full_diff = git_state(str(repo))
    assert full_state["diff_truncated"] is False
    assert full_state["diff_bytes"] == state["diff_bytes"] == len(full_diff.encode())
    assert full_diff.startswith(body)


def test_detached_head(repo):
    first = git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("lr = 0.2\n")
    git(repo, "commit", "-q", "-am", "second")
    git(repo, "checkout", "-q", "--detach", first)
    state, diff = git_state(str(repo))
    assert state["branch"] is None
    assert state["commit"] == first
    assert state["dirty"] is False
    assert diff is None


def test_remote_url_credentials_redacted(repo):
    git(repo, "remote", "add", "origin", "https://alice:hunter2@git.example.com/team/proj.git")
    state, _ = git_state(str(repo))
    assert state["remote"] == "https://alice:***@git.example.com/team/proj.git"
    git(repo, "remote", "set-url", "origin", "https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r.git")
    state, _ = git_state(str(repo))
    assert state["remote"] == "https://***@github.com/o/r.git"


def test_plain_remote_kept(repo):
    git(repo, "remote", "add", "origin", "git@github.com:team/proj.git")
    state, _ = git_state(str(repo))
    assert state["remote"] == "git@github.com:team/proj.git"


def test_not_a_repo_returns_empty_and_prints_nothing(tmp_path, capfd, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # don't find a repo above tmp
    assert git_state(str(tmp_path)) == ({}, None)
    assert git_state(str(tmp_path / "does-not-exist")) == ({}, None)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_repo_without_commits(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a\n")
    assert git_state(str(tmp_path)) == ({}, None)


def test_no_git_binary(repo, monkeypatch, tmp_path):
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    assert git_state(str(repo)) == ({}, None)


def test_timeout_returns_empty(repo, monkeypatch):
    def slow_run(*args, **kwargs):
        raise subprocess.TimeoutExpired(cmd=args[0], timeout=kwargs.get("timeout"))

    monkeypatch.setattr(git_module.subprocess, "run", slow_run)
    assert git_state(str(repo)) == ({}, None)


def test_diff_timeout_returns_empty(repo, monkeypatch):
    (repo / "train.py").write_text("changed\n")

    class ExpiredTimer:
        """Stands in for threading.Timer: the deadline has passed as soon as it starts."""

        def __init__(self, interval, function):
            self.function = function

        def start(self):
            self.function()

        def cancel(self):
            pass

    monkeypatch.setattr(git_module.threading, "Timer", ExpiredTimer)
    assert git_state(str(repo)) == ({}, None)


def test_git_calls_are_lock_free_bounded_and_few(repo, monkeypatch):
    (repo / "train.py").write_text("changed\n")
    (repo / "untracked.txt").write_text("u\n")
    git(repo, "remote", "add", "origin", "https://example.com/r.git")
    calls = []
    real_popen = subprocess.Popen

    def spy_popen(args, *rest, **kwargs):
        calls.append((args, kwargs))
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy_popen)
    state, diff = git_state(str(repo))
    assert state["dirty"] and diff
    assert len(calls) <= 4
    for args, kwargs in calls:
        assert os.path.basename(args[0]) == "git" and os.path.isabs(args[0])  # no PATH lookup by subprocess
        assert kwargs["env"]["GIT_OPTIONAL_LOCKS"] == "0"
        assert kwargs["stdin"] == subprocess.DEVNULL
        assert kwargs["stderr"] in (subprocess.PIPE, subprocess.DEVNULL)


def test_status_does_not_write_index(repo):
    # With GIT_OPTIONAL_LOCKS=0 git status must not refresh (rewrite) the index.
    (repo / "train.py").write_text("lr = 0.1\nepochs = 3\n")  # same content, new mtime
    os.utime(repo / "train.py", (1, 1))
    index = repo / ".git" / "index"
    before = index.stat().st_mtime_ns
    git_state(str(repo))
    assert index.stat().st_mtime_ns == before


# -- WorkTreeWatch: the code version of each run, git asked only when something changed ------------
def test_watch_asks_git_again_only_when_the_tree_changed(repo):
    from autotrack.capture.git import WorkTreeWatch

    watch = WorkTreeWatch(str(repo))
    first = watch.state()
    assert first[0]["dirty"] is False and watch.git_calls == 1
    for _ in range(5):
        assert watch.state() == first
    assert watch.git_calls == 1  # nothing changed: no git call

    (repo / "train.py").write_text("lr = 0.2\nepochs = 3\n")  # an edit, not committed
    edited = watch.state()
    assert edited[0]["dirty"] is True and "+lr = 0.2" in edited[1] and watch.git_calls == 2
    assert watch.state() == edited and watch.git_calls == 2

    git(repo, "commit", "-q", "-am", "lr")
    committed = watch.state()
    assert committed[0]["dirty"] is False and committed[0]["commit"] == git(repo, "rev-parse", "HEAD")
    assert committed[0]["commit"] != first[0]["commit"]

    (repo / "notes.txt").write_text("untracked")  # a new file changes its folder
    assert watch.state()[0]["dirty"] is True
    (repo / "sub").mkdir()
    (repo / "sub" / "a.py").write_text("x = 1\n")
    git(repo, "add", "sub/a.py")
    git(repo, "commit", "-q", "-m", "sub")
    os.remove(repo / "notes.txt")
    assert watch.state()[0]["dirty"] is False
    (repo / "sub" / "new.py").write_text("")  # untracked, in a subfolder
    assert watch.state()[0]["dirty"] is True
    git(repo, "checkout", "-q", "-b", "feature")
    assert watch.state()[0]["branch"] == "feature"


def test_watch_outside_a_work_tree_notices_git_init(tmp_path):
    from autotrack.capture.git import WorkTreeWatch

    folder = tmp_path / "plain"
    folder.mkdir()
    watch = WorkTreeWatch(str(folder))
    assert watch.state() == ({}, None) and watch.state() == ({}, None)
    assert watch.git_calls == 1
    git(folder, "init", "-q", "-b", "main")
    (folder / "a.py").write_text("")
    git(folder, "add", "a.py")
    git(folder, "commit", "-q", "-m", "a")
    assert watch.state()[0]["branch"] == "main"  # the same watch finds the new repository
    (folder / "a.py").write_text("edited")
    assert watch.state()[0]["dirty"] is True
