"""The one HTTP request of an outbound delivery (a webhook, a Slack message): a POST with a
timeout, no redirects followed, and the answer reduced to what the delivery log keeps."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from .. import __version__

USER_AGENT = f"django-graceful-cancel/{__version__} (webhooks)"

#: The most of a failed answer's body the log keeps.
BODY_EXCERPT = 300


@dataclass(frozen=True)
class PostResult:
    ok: bool
    #: The HTTP status, or None when no answer came (refused, timed out).
    status_code: int | None
    #: Why it failed, for the log ("" on success).
    error: str = ""


def post(
    url: str, data: str, *, headers: dict[str, str] | None = None, timeout: float
) -> PostResult:
    """POST ``data`` (JSON text) to ``url``; only a 2xx answer counts as delivered.

    Redirects are not followed (a receiver that moved is told by its URL in the admin).
    """
    try:
        response = requests.post(
            url,
            data=data.encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **(headers or {}),
            },
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return PostResult(ok=False, status_code=None, error=f"{type(error).__name__}: {error}")
    try:
        if 200 <= response.status_code < 300:
            return PostResult(ok=True, status_code=response.status_code)
        excerpt = response.text[:BODY_EXCERPT]
        return PostResult(
            ok=False,
            status_code=response.status_code,
            error=f"HTTP {response.status_code}: {excerpt}".strip(),
        )
    finally:
        response.close()
