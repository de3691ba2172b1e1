"""The dashboard's Starlette application: read-only GET routes over the store, read per request."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from autotrack.stores.local import StoreError, dumps
from autotrack.stores.reader import RunNotFound, StoreReader
from autotrack.terminal import duration, long_time, number, seconds, short_time, text
from autotrack.ui import pages
from autotrack.ui.queries import STATUSES, RunsQuery, open_store, runs_page

HERE = Path(__file__).parent
# plotly.js's official "basic" bundle (scatter and bar: all the dashboard draws), from npm's
# plotly.js-basic-dist-min, with its MIT licence beside it. The full bundle that the plotly Python
# package carries is 4.8 MB, which took this 2-core machine 1.3 s to compile on every page load;
# the basic one is 1.2 MB and 0.4 s. The version is in its URL, so it can be cached for a year.
PLOTLY_JS = HERE / "static" / "vendor" / "plotly-basic.min.js"
PLOTLY_JS_VERSION = "4.1.1"
MAX_COMPARED = 20  # side by side; more runs are compared on the explore page (a table and their params' axes)
MAX_EXPLORED = 2000


def create_app(store_directory: Path, allowed_hosts: list[str] | None = None, allow_edit: bool = False) -> Starlette:
    """The application over one store; `allowed_hosts` (Host header values) guards against DNS
    rebinding when serving on loopback, None allows any host (--allow-remote); `allow_edit` lets
    its pages tag, note and delete runs (ui/editing.py)."""
    from autotrack.ui.editing import Editing

    editing = Editing(Path(store_directory), allow_edit)
    dashboard = _Dashboard(Path(store_directory), editing)
    routes = [
        Route("/runs/{run_id}/tags", editing.tag, methods=["POST"]),
        Route("/runs/{run_id}/note", editing.note, methods=["POST"]),
        Route("/runs/{run_id}/delete", editing.delete, methods=["POST"]),
        Route("/", dashboard.runs),
        Route("/api/runs", dashboard.api_runs),
        Route("/runs/{run_id}", dashboard.run),
        Route("/api/runs/{run_id}", dashboard.api_run),
        Route("/runs/{run_id}/artifacts/{name:path}", dashboard.artifact),
        Route("/compare", dashboard.compare),
        Route("/explore", dashboard.explore),
        Route("/api/explore", dashboard.api_explore),
        Route("/production", dashboard.production),
        Route("/production/{model}", dashboard.served_model),
        Route("/api/production", dashboard.api_production),
        Route("/api/production/{model}", dashboard.api_served_model),
        Route(f"/static/plotly-basic-{PLOTLY_JS_VERSION}.min.js", dashboard.plotly),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)] if allowed_hosts else []
    handlers = {HTTPException: dashboard.http_error, StoreError: dashboard.store_error,
                sqlite3.Error: dashboard.store_error}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    # tojson writes <script type="application/json"> blocks: NaN and infinity become null there.
    env.policies["json.dumps_function"] = lambda value, **_: dumps(value)
    env.filters.update(number=number, duration=duration, seconds=seconds, short_time=short_time, long_time=long_time,
                       text=text)
    env.globals.update(statuses=STATUSES, plotly_js=f"/static/plotly-basic-{PLOTLY_JS_VERSION}.min.js")
    return env


class _Dashboard:
    """Request handlers; each opens the store for the request it answers, so new runs show at once."""

    def __init__(self, store_directory: Path, editing):
        self.directory = store_directory
        self.env = _templates()
        self.env.globals.update(edit_token=editing.token, editable=editing.allowed)
        self._plotly_js: bytes | None = None

    # -- runs page ------------------------------------------------------------------------------
    def runs(self, request):
        page = self._runs_page(request)
        name = "_runs_table.html" if request.query_params.get("fragment") == "table" else "runs.html"
        return self._html(name, page=page, query=page.query, store=str(self.directory),
                          deleted=request.query_params.get("deleted"))

    def api_runs(self, request):
        page = self._runs_page(request)
        if page.error:
            return self._json({"error": page.error}, status_code=400)
        return self._json({"total": page.total, "page": page.query.page, "pages": page.pages,
                           "metric_columns": page.metric_columns, "param_columns": page.param_columns,
                           "runs": page.rows})

    def _runs_page(self, request):
        conn = open_store(self.directory)
        try:
            return runs_page(conn, RunsQuery.from_params(request.query_params))
        finally:
            conn.close()

    # -- run page -------------------------------------------------------------------------------
    def run(self, request):
        with self._reader() as reader:
            run = self._get_run(reader, request.path_params["run_id"], times=True)
            children = reader.attach_params(reader.runs(parent_id=run["id"])) if run["children"] else []
            from autotrack.serving.queries import models_of_run

            served = models_of_run(reader, run["id"])
        from autotrack.ui.artifacts import preview

        previews = {artifact["name"]: preview(self.directory, run, artifact) for artifact in run["artifacts"]}
        return self._html("run.html", run=run, view=pages.run_view(run, children), served=served, previews=previews)

    def api_run(self, request):
        with self._reader() as reader:
            run = self._get_run(reader, request.path_params["run_id"], times=True)
        return self._json(pages.live_view(run))

    def artifact(self, request):
        """A file the store recorded for this run, and only such a file: a download, or with
        `?inline=1` an image shown on the run page (never able to run a script: sandboxed)."""
        from autotrack.ui.artifacts import IMAGES, artifact_file

        name = request.path_params["name"]
        with self._reader() as reader:
            run = self._get_run(reader, request.path_params["run_id"])
        if name not in {artifact["name"] for artifact in run["artifacts"]}:
            raise HTTPException(404, f"run {run['id'][:8]} has no artifact {name!r}")
        path = artifact_file(self.directory, run, name)
        if path is None:
            raise HTTPException(404, f"the artifact {name!r} is not a file inside the store")
        media_type = IMAGES.get(os.path.splitext(name)[1].lower())
        if request.query_params.get("inline") and media_type:
            return FileResponse(path, media_type=media_type, content_disposition_type="inline",
                                headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                                         "X-Content-Type-Options": "nosniff"})
        return FileResponse(path, filename=os.path.basename(name), content_disposition_type="attachment")

    # -- compare page ---------------------------------------------------------------------------
    def compare(self, request):
        from autotrack.compare import compare_runs

        listed = (request.query_params.get("runs") or "").split(",")
        wanted = [part.strip() for part in listed if part.strip()]
        if len(wanted) < 2:
            return self._message("Compare runs", "Pick at least two runs to compare: tick them on the runs "
                                 "page and press “Compare selected”.", status_code=400)
        if len(wanted) > MAX_EXPLORED:
            return self._message("Compare runs", f"Compare at most {MAX_EXPLORED} runs at a time.",
                                 status_code=400)
        if len(wanted) > MAX_COMPARED:  # too many for columns side by side: a row each, and their params' axes
            return self.explore(request, runs=tuple(wanted))
        with self._reader() as reader:
            runs = [self._get_run(reader, run_id, times=True) for run_id in dict.fromkeys(wanted)]
        comparison = compare_runs(runs)
        return self._html("compare.html", runs=runs, comparison=comparison,
                          view=pages.compare_view(comparison, runs))

    # -- explore page: params against a metric -------------------------------------------------
    def explore(self, request, runs: tuple[str, ...] = ()):
        data, query, parent = self._explore(request, runs)
        return self._html("explore.html", data=data, query=query, parent=parent)

    def api_explore(self, request):
        data, _, _ = self._explore(request)
        return self._json(data, status_code=400 if data["error"] else 200)

    def _explore(self, request, runs: tuple[str, ...] = ()):
        from autotrack.ui.explore import ExploreQuery, explore_data

        query = ExploreQuery.from_params(request.query_params)
        if runs:
            query = replace(query, runs=runs)
        with self._reader() as reader:
            parent = self._get_run(reader, query.parent) if query.parent else None
            if parent is not None:
                query = replace(query, parent=parent["id"])
            stored = dict(reader.fetch("SELECT key, min(goal) FROM series WHERE goal IS NOT NULL GROUP BY key"))
            conn = open_store(self.directory)
            try:
                data = explore_data(conn, query, lambda key: stored.get(key) or reader.goal_and_source(key)[0])
            finally:
                conn.close()
        return data, query, parent

    # -- production pages -----------------------------------------------------------------------
    def production(self, request):
        from autotrack.ui.production import models_view

        with self._reader() as reader:
            return self._html("production.html", models=models_view(reader))

    def api_production(self, request):
        from autotrack.ui.production import models_view

        with self._reader() as reader:
            return self._json(models_view(reader))

    def served_model(self, request):
        view = self._served_model_view(request)
        return self._html("served_model.html", view=view)

    def api_served_model(self, request):
        return self._json(self._served_model_view(request))

    def _served_model_view(self, request) -> dict:
        from autotrack.config import load_settings
        from autotrack.ui.production import model_view

        settings = load_settings()
        model = request.path_params["model"]
        with self._reader() as reader:
            view = model_view(reader, model, settings.drift_alpha, settings.drift_min_effect,
                              request.query_params.get("feature"))
        if view is None:
            raise HTTPException(404, f"no served predictions of model {model!r} are recorded")
        return view

    # -- plumbing -------------------------------------------------------------------------------
    def plotly(self, request):
        if self._plotly_js is None:
            self._plotly_js = PLOTLY_JS.read_bytes()
        return Response(self._plotly_js, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    def http_error(self, request, exc: HTTPException):
        detail = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else \
            f"There is no page at {request.url.path}."
        if request.url.path.startswith("/api/"):
            return self._json({"error": detail}, status_code=exc.status_code)
        return self._message("Not found" if exc.status_code == 404 else "Error", detail,
                             status_code=exc.status_code)

    def store_error(self, request, exc: Exception):
        """The store went away or cannot be read (moved, replaced, corrupted): say so, not a 500."""
        message = str(exc) if isinstance(exc, StoreError) else \
            f"cannot read the store at {self.directory} ({exc}); is it an autotrack store?"
        if request.url.path.startswith("/api/"):
            return self._json({"error": message}, status_code=503)
        return self._message("The store cannot be read", message, status_code=503)

    def _reader(self):
        """A StoreReader for one request, closed when the request is answered."""
        return contextlib.closing(StoreReader(str(self.directory)))

    @staticmethod
    def _get_run(reader: StoreReader, run_id: str, times: bool = False) -> dict:
        """The run; with `times`, when each history point was logged (the charts' wall-time x)."""
        try:
            run = reader.get_run(run_id)
        except RunNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        if times:
            run["history_times"] = reader.history_times(run["id"])
        return run

    def _html(self, name: str, status_code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status_code,
                            headers={"Cache-Control": "no-store"})

    def _message(self, title: str, message: str, status_code: int) -> HTMLResponse:
        return self._html("message.html", status_code=status_code, title=title, message=message)

    @staticmethod
    def _json(value, status_code: int = 200) -> Response:
        return Response(dumps(value), status_code=status_code, media_type="application/json",
                        headers={"Cache-Control": "no-store"})


__all__ = ["create_app"]
