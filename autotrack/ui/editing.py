"""Edits from the dashboard (tags, a note, delete), only when `autotrack ui --allow-edit` started it.

Guarded against cross-site requests three ways: edits are POSTs (a GET never changes the store);
each carries a token that only this server's own pages hold (a random one per server start, which
another site's page cannot read); and a browser's `Origin` / `Sec-Fetch-Site` must say the request
comes from this dashboard. The Host check (TrustedHostMiddleware, on loopback) already refuses a
DNS-rebound name."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse

FIELD = "csrf"


class Editing:
    def __init__(self, directory, allowed: bool):
        self.directory = directory
        self.allowed = allowed
        self.token = secrets.token_urlsafe(32) if allowed else None

    async def checked_form(self, request) -> dict:
        """The POSTed form of a request that may edit; a 403 with the reason otherwise."""
        if not self.allowed:
            raise HTTPException(403, "the dashboard is read-only: start it with `autotrack ui --allow-edit` to edit")
        site = request.headers.get("sec-fetch-site")
        if site not in (None, "same-origin", "none"):
            raise HTTPException(403, f"refused: a request from another site ({site})")
        origin = request.headers.get("origin")
        if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.headers.get("host")):
            raise HTTPException(403, "refused: a request from another site (its Origin is not this dashboard)")
        form = await _form(request)
        if not hmac.compare_digest(str(form.get(FIELD) or ""), self.token):
            raise HTTPException(403, "refused: the page's edit token is missing or old (reload the page)")
        return form

    async def tag(self, request):
        return await self._edit(request, self._tag)

    async def note(self, request):
        return await self._edit(request, self._note)

    async def delete(self, request):
        return await self._edit(request, self._delete)

    async def _edit(self, request, change):
        """An edit that cannot be made (a reserved tag, a running or registered run) is a 400 page
        that says why; nothing is changed."""
        form = await self.checked_form(request)
        try:
            return change(self._run_id(request), form)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    def _tag(self, run_id: str, form: dict):
        from autotrack.lifecycle.edits import parse_tags, set_tags

        remove = [form["remove"]] if form.get("remove") else []
        tags = parse_tags([f"{form.get('key', '').strip()}={form.get('value', '')}"]) if not remove else {}
        set_tags(self.directory, run_id, tags, remove)
        return RedirectResponse(f"/runs/{run_id}#tags", status_code=303)

    def _note(self, run_id: str, form: dict):
        from autotrack.lifecycle.edits import set_note

        set_note(self.directory, run_id, str(form.get("text") or ""))
        return RedirectResponse(f"/runs/{run_id}#note", status_code=303)

    def _delete(self, run_id: str, form: dict):
        import contextlib

        from autotrack.lifecycle.trash import delete
        from autotrack.stores.reader import StoreReader

        with contextlib.closing(StoreReader(str(self.directory))) as reader:
            deleted = delete(self.directory, reader, [run_id])
        return RedirectResponse(f"/?deleted={len(deleted.runs)}", status_code=303)

    def _run_id(self, request) -> str:
        import contextlib

        from autotrack.stores.reader import RunNotFound, StoreReader

        with contextlib.closing(StoreReader(str(self.directory))) as reader:
            try:
                return reader.resolve_id(request.path_params["run_id"])
            except RunNotFound as exc:
                raise HTTPException(404, str(exc)) from None


MAX_FORM_BYTES = 64 * 1024  # a note is text; nothing an edit sends is larger


async def _form(request) -> dict[str, str]:
    """The page's form (application/x-www-form-urlencoded, what its <form>s send), read with the
    standard library: the dashboard needs no multipart parser."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise HTTPException(415, "an edit is a form of this dashboard's pages")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "an edit larger than 64 kB is refused")
    pairs = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in pairs.items()}


__all__ = ["Editing", "FIELD"]
