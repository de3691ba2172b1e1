"""`autotrack ui`: a local web dashboard over the store, read-only unless --allow-edit."""

from __future__ import annotations

import ipaddress
import socket
import sys

from autotrack.terminal import UserError

_INSTALL = "the dashboard needs: pip install 'autotrack[ui]'"
_LOOPBACK_NAMES = ("localhost",)


def command(args, store_directory: str) -> int:
    """Serve the dashboard until Ctrl-C; prints one line with the URL once the port is bound."""
    from autotrack.stores.local import StoreError
    from autotrack.stores.reader import StoreReader

    try:
        StoreReader(store_directory).close()
    except StoreError as exc:
        raise UserError(str(exc)) from None
    try:
        import jinja2  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise UserError(f"{_INSTALL} ({exc.name} is missing)") from None
    from autotrack.stores.local import store_dir
    from autotrack.ui.app import create_app

    host = args.host
    loopback = is_loopback(host)
    if not loopback and not args.allow_remote:
        raise UserError(f"--host {host} is not a loopback address: anyone who can reach it would see every "
                        f"run in the store; pass --allow-remote as well if that is what you want")
    if args.allow_edit and not loopback:
        raise UserError("--allow-edit serves edits to this machine only: use it without --host (or with a "
                        "loopback address)")
    directory = store_dir(store_directory)
    sock = _bind(host, args.port)
    port = sock.getsockname()[1]
    url = f"http://{_url_host(host)}:{port}/"
    if not loopback:
        print(f"autotrack ui: WARNING: serving on {host}, not loopback: everyone who reaches {url} sees "
              f"every run in {directory} (the dashboard is read-only)", file=sys.stderr, flush=True)
    app = create_app(directory, allowed_hosts=_allowed_hosts(host) if loopback else None, allow_edit=args.allow_edit)
    # A comparison of hundreds of runs names them all in its URL (33 bytes a run): more than h11's
    # default 16 KiB for a request's head.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            h11_max_incomplete_event_size=256 * 1024)
    server = uvicorn.Server(config)
    mode = "tags, notes and deletions allowed" if args.allow_edit else "read-only"
    print(f"autotrack ui: serving {directory} at {url} ({mode}; Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        import webbrowser

        # 0.0.0.0 and :: mean every interface: this machine's browser goes through loopback.
        webbrowser.open(f"http://127.0.0.1:{port}/" if host.strip("[]") in ("0.0.0.0", "::") else url)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops gracefully, then re-raises the Ctrl-C it caught
        pass
    finally:
        sock.close()
    return 0


def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that --port 0 can say which port it got."""
    host = host.strip("[]")
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port number (0 to 65535; 0: any free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot serve on --host {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "; pass --port 0 for any free port, or another --port" if port else ""
        raise UserError(f"cannot serve on {host}:{port}: {exc.strerror}{hint}") from None
    sock.listen(128)
    return sock


def _url_host(host: str) -> str:
    host = host.strip("[]")
    return f"[{host}]" if ":" in host else host


def _allowed_hosts(host: str) -> list[str]:
    """Host headers a loopback dashboard answers: a page on another domain that resolves to
    127.0.0.1 (DNS rebinding) sends its own name, and is refused."""
    return sorted({"127.0.0.1", "localhost", "[::1]", _url_host(host).lower()})


__all__ = ["command", "is_loopback"]
