"""Run context capture: interpreter, platform, host, user, process, command line and package versions."""

from __future__ import annotations

import functools
import getpass
import importlib.metadata
import json
import os
import platform
import socket
import sys
from collections.abc import Iterable, Mapping

from autotrack.capture.redact import redact_argv, redact_mapping

# Environment capture is opt-in by name: the full environment is full of tokens and noise.
# Variables that change what a run computes or where it ran (devices, threads, determinism, scheduler).
_USEFUL_ENV_VARS = frozenset(
    {
        "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES",
        "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
        "PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG",
        "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE",
        "SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_PROCID",
        "PBS_JOBID", "LSB_JOBID",
        "VIRTUAL_ENV", "CONDA_DEFAULT_ENV",
    }
)


def _python_info() -> dict:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def _current_user() -> str | None:
    # getuser() raises (KeyError/OSError) in containers running under a UID with no passwd entry.
    try:
        return getpass.getuser()
    except Exception:
        return None


def _current_dir() -> str | None:
    # os.getcwd() raises if the working directory was deleted under the process.
    try:
        return os.getcwd()
    except OSError:
        return None


def _script_path(argv: list[str]) -> str | None:
    """Absolute path of the script being run, or None for -c, the REPL and similar. The main
    module's `__file__` is absolute, and stays right after an os.chdir(); argv[0] may be relative."""
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if argv and argv[0] and isinstance(main_file, str) and os.path.isabs(main_file) and os.path.isfile(main_file) \
            and os.path.basename(main_file) == os.path.basename(argv[0]):
        return main_file
    if argv and argv[0] and os.path.isfile(argv[0]):
        return os.path.abspath(argv[0])
    return None


def script_path() -> str | None:
    """The script, or in a Jupyter kernel the notebook (never `ipykernel_launcher.py`)."""
    from autotrack.capture.notebook import kernel_shell, notebook_path

    shell = kernel_shell()
    return notebook_path(shell) if shell is not None else _script_path(list(sys.argv))


def _main_module() -> str | None:
    """Module name for `python -m pkg` runs (from __main__.__spec__), else None."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if not name:
        return None
    # `python -m pkg` executes pkg.__main__; the user typed "pkg".
    return name.removesuffix(".__main__")


def _selected_env() -> dict[str, str]:
    """The variables that change what a run computes; never autotrack's own (`AUTOTRACK_*`: its
    switch, settings, a parent's run id, a webhook URL), which describe the tracking, not the run."""
    selected = {key: value for key, value in os.environ.items() if key in _USEFUL_ENV_VARS}
    return redact_mapping(dict(sorted(selected.items())))


def _platform() -> str:
    """`Linux-6.1.0-x86_64-with-glibc2.36`, as platform.platform() says, without the processor
    name: asking for it spawns `uname -p` through subprocess's PATH lookup, whose
    `warnings.catch_warnings()` resets Python's record of the warnings already shown."""
    if not hasattr(os, "uname"):
        return platform.platform()  # Windows: no subprocess for it there
    system = os.uname()
    libc, version = platform.libc_ver()
    text = f"{system.sysname}-{system.release}-{system.machine}"
    return f"{text}-with-{libc}{version}" if libc else text


def static_system_context() -> dict:
    """What cannot change while a process runs: interpreter, platform, host, user."""
    return {
        "python": _python_info(),
        "platform": _platform(),
        "machine": platform.machine(),
        "host": socket.gethostname(),
        "user": _current_user(),
    }


def system_context(static: dict | None = None) -> dict:
    """Describe who ran what, where: interpreter, platform, host, user, pid, redacted argv, cwd,
    script, env. `static` is static_system_context() computed earlier (once per process)."""
    from autotrack.capture.notebook import kernel_shell

    in_kernel = kernel_shell() is not None
    return {
        **(static if static is not None else static_system_context()),
        "pid": os.getpid(),
        "argv": program_argv(),
        "cwd": _current_dir(),
        "script": script_path(),
        "module": None if in_kernel else _main_module(),
        "env": _selected_env(),
    }


def program_argv() -> list[str]:
    """The command line, redacted. A kernel's (`ipykernel_launcher -f <connection file>`) says
    nothing of what the user runs: there it is the notebook."""
    from autotrack.capture.notebook import kernel_shell

    if kernel_shell() is not None:
        notebook = script_path()
        return [notebook] if notebook else []
    return redact_argv(list(sys.argv))


@functools.cache
def _distributions_by_import_name() -> Mapping[str, list[str]]:
    """Scans every installed distribution's metadata (~170 ms for 150 distributions, a tenth of a
    short script): once per process, and once per environment across processes (user_cache)."""
    from autotrack import user_cache

    key = json.dumps([sys.executable, sys.version, user_cache.search_path()])
    path = user_cache.cache_file("distributions", key)
    cached = user_cache.read(path) or {}
    stamps = user_cache.mtimes(user_cache.search_path())
    fresh = cached.get("key") == key and cached.get("path_mtimes") == stamps
    if fresh and isinstance(cached.get("by_import_name"), dict):
        return cached["by_import_name"]
    mapping = importlib.metadata.packages_distributions()
    user_cache.write(path, {"key": key, "path_mtimes": stamps, "by_import_name": mapping})
    return mapping


@functools.cache
def _distribution_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except Exception:  # not installed, or broken metadata: skip rather than fail capture
        return None


def package_versions(module_names: Iterable[str]) -> dict[str, str]:
    """Map distribution name -> version for the given top-level import names; unknown names are skipped."""
    by_import_name = _distributions_by_import_name()
    versions: dict[str, str] = {}
    for module_name in module_names:
        # Editable installs often lack top-level metadata, so also try a distribution named
        # like the module (the common case: numpy, pytest, torch).
        for distribution in by_import_name.get(module_name) or [module_name]:
            version = _distribution_version(distribution)
            if version:
                versions[distribution] = version
    return dict(sorted(versions.items()))


def imported_top_level_modules() -> list[str]:
    """Sorted top-level names of imported third-party modules (no stdlib, private or autotrack)."""
    # list() snapshots the dict so an import on another thread cannot break the iteration.
    names = {name.partition(".")[0] for name, module in list(sys.modules.items()) if module is not None}
    return sorted(
        name
        for name in names
        if name not in sys.stdlib_module_names and not name.startswith("_") and name != "autotrack"
    )
