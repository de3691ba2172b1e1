"""The built-in webhook notifier: POSTs each alert as JSON to `notify_url` (Slack, Teams incoming webhooks).

The payload is `{"text": <the alert's line>, "autotrack": {<every alert field>}}`: Slack's and
Teams' incoming webhooks show `text` and ignore the rest; a program reads `autotrack`. Delivery
runs on autotrack's notify thread, never on the training thread. An unreachable server or an
error answer is the environment's problem, not autotrack's: it is one warning per process, and
never a failure, even under AUTOTRACK_STRICT=1.
"""

from __future__ import annotations

import autotrack

# urllib and http.client are imported where they are used: this module is loaded with the other
# plugins when a tracked script starts, and they cost milliseconds that no alert may ever need.

TIMEOUT_S = 5.0
RETRY_BACKOFF_S = (0.5, 1.5)  # two retries: a webhook that blinks is reached, a dead one costs 2 s
_SCHEMES = ("http", "https")


def shown_url(url: str) -> str:
    """The URL fit for a log line: scheme and host only. Slack and Teams put the secret in the
    path (and others in the query or user part), so everything after the host is masked."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<an unparsable URL>"
    return f"{parts.scheme}://{host}{port}/***" if parts.scheme else "<a URL without a scheme>"


def url_problem(url: str) -> str | None:
    """Why `url` cannot be POSTed to, or None when it can."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"it is not a valid URL ({exc})"
    if parts.scheme.lower() not in _SCHEMES:
        return "it is not an http(s) URL"
    if not parts.hostname:
        return "it names no host"
    return None


def check_url(url: str) -> None:
    """At enable(): a URL the notifier cannot use is one warning, never an error."""
    problem = url_problem(url)
    if problem:
        from autotrack.safety import warn_once

        warn_once("notify-url", "notify_url %s is not used: %s", shown_url(url), problem)


def payload(alert) -> dict:
    """What is POSTed. Slack reads `&`, `<` and `>` in `text` as control characters (`<!channel>`
    pings everyone), so they are escaped as Slack documents; an error text stays plain text."""
    return {"text": _escaped(alert.text), "autotrack": alert.as_dict()}


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_json(url: str, body: dict, timeout: float = TIMEOUT_S) -> None:
    """POST `body`, retrying connection errors, timeouts, 429 and 5xx answers; raise the last error."""
    import http.client
    import json
    import time
    import urllib.error
    import urllib.request

    data = json.dumps(body, default=str).encode("utf-8")  # a run name may be any object
    request = urllib.request.Request(url.strip(), data=data, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": f"autotrack/{autotrack.__version__}"})
    for pause in (*RETRY_BACKOFF_S, None):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return
        except urllib.error.HTTPError as exc:
            exc.close()
            if pause is None or not (exc.code == 429 or exc.code >= 500):
                raise
        except (OSError, http.client.HTTPException):  # refused, unreachable, timed out, cut off
            if pause is None:
                raise
        time.sleep(pause)


def _describe(exc: BaseException, url: str) -> str:
    """What went wrong, without the URL's secret parts (http.client quotes a bad URL whole)."""
    import urllib.error
    import urllib.parse

    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code}"
    reason = getattr(exc, "reason", None) or exc
    text = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    parts = urllib.parse.urlsplit(url.strip())
    for secret in sorted({url, url.strip(), parts.path, parts.query, parts.netloc}, key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, "***")
    return text


@autotrack.hookimpl
def autotrack_notify(alert) -> None:
    """POST the alert to `notify_url`; with no URL (or an unusable one) do nothing."""
    from autotrack.session import SESSION

    url = SESSION.settings.notify_url if SESSION.settings is not None else None
    if not url or url_problem(url):
        return
    import http.client

    try:
        post_json(url, payload(alert))
    except (OSError, http.client.HTTPException) as exc:  # URLError and HTTPError are OSErrors
        from autotrack.safety import warn_once

        warn_once("notify-webhook", "could not send an alert to the webhook %s: %s (training is "
                  "unaffected; further failures are not reported)", shown_url(url), _describe(exc, url))


__all__ = ["autotrack_notify", "payload", "post_json", "check_url", "url_problem", "shown_url",
           "TIMEOUT_S", "RETRY_BACKOFF_S"]
