"""The client's address, for the rate limits: ``GRACEFUL_CANCEL["CLIENT_IP"]``.

The declaration page's rate limit and the API's write throttle key on the address this module
returns (``client_ip(request)``), so both agree behind any set-up. docs/deployment.md ("The
client's address") explains the choices:

* ``None`` (the default): ``REMOTE_ADDR``, the address of the connection. Right when clients
  reach Django directly; behind a proxy it is the proxy's address, the same for everyone.
* a dict, for reverse proxies that add the address they received the request from to a header
  (``X-Forwarded-For``)::

      "CLIENT_IP": {
          "proxy_count": 1,                        # proxies between the clients and Django
          "trusted_proxies": ["10.0.0.0/8"],       # optional: believe the header only from them
          "meta_precedence_order": ["HTTP_X_FORWARDED_FOR"],  # optional: the header's META key
      }

  The client is the address ``proxy_count`` places from the right of the header (DRF's
  ``NUM_PROXIES`` counts the same way): what the client itself wrote to the left of it is never
  used. The header is read with django-ipware. With ``trusted_proxies``, a request that does not
  come from one of them (or whose header's proxy hops are not theirs) is keyed on
  ``REMOTE_ADDR``, so a client that bypasses the proxy cannot choose its own key.
* the dotted path of a callable ``(request) -> str`` (or the callable itself), for anything else.

``check_client_ip_setting`` validates the value (system checks ``E003``/``E004``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.http import HttpRequest
from django.utils.module_loading import import_string
from ipware import get_client_ip

from .conf import app_settings

#: The header reverse proxies set by default (nginx ``$proxy_add_x_forwarded_for``, most load
#: balancers), as Django names it in ``request.META``.
DEFAULT_HEADERS: tuple[str, ...] = ("HTTP_X_FORWARDED_FOR",)

#: The keys a dict value of ``CLIENT_IP`` may have.
KEYS: frozenset[str] = frozenset({"proxy_count", "trusted_proxies", "meta_precedence_order"})


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, as configured; "" when unknown."""
    config = app_settings.CLIENT_IP
    if config is None:
        return str(request.META.get("REMOTE_ADDR") or "")
    if isinstance(config, Mapping):
        return behind_proxies(request, **config)
    resolver: Callable[[HttpRequest], Any] = (
        import_string(config) if isinstance(config, str) else config
    )
    return str(resolver(request) or "")


def behind_proxies(
    request: HttpRequest,
    *,
    proxy_count: int = 1,
    trusted_proxies: Iterable[str] = (),
    meta_precedence_order: Iterable[str] = DEFAULT_HEADERS,
) -> str:
    """The client's address behind ``proxy_count`` reverse proxies (see the module's docstring)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    headers = list(meta_precedence_order)
    networks = [ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies]
    if networks and not _hops_trusted(request.META, headers, remote, proxy_count, networks):
        return remote
    # django-ipware counts the proxies *in* the header: the last proxy is REMOTE_ADDR, not in it.
    found, _routable = get_client_ip(
        request,
        proxy_count=proxy_count - 1,
        request_header_order=headers,
        strict=False,
        algorithm="modern",
    )
    return found or remote


def _hops_trusted(
    meta: Mapping[str, Any],
    headers: list[str],
    remote: str,
    proxy_count: int,
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    """Whether REMOTE_ADDR and the proxy hops the header ends with are all trusted proxies."""
    value = next((str(meta[h]) for h in headers if meta.get(h)), "")
    parts = [part.strip() for part in value.split(",")] if value else []
    inner = proxy_count - 1  # the proxies that wrote into the header after the client
    if len(parts) < proxy_count:
        return False  # the request did not come through every proxy
    hops = parts[len(parts) - inner :] if inner else []
    return all(_in(address, networks) for address in [*hops, remote])


def _in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def check_client_ip_setting(value: Any) -> tuple[str, str] | None:
    """``None`` for a valid ``CLIENT_IP``, else ``(check id, message)``."""
    if value is None or callable(value):
        return None
    if isinstance(value, str):
        try:
            import_string(value)
        except ImportError as error:
            return "graceful_cancel.E004", f"= {value!r} cannot be imported: {error}"
        return None
    if not isinstance(value, Mapping):
        return "graceful_cancel.E003", f"is {value!r}; expected None, a dict or a dotted path"
    unknown = sorted(set(value) - KEYS)
    if unknown:
        return "graceful_cancel.E003", f"has unknown keys {unknown}; expected {sorted(KEYS)}"
    count = value.get("proxy_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return "graceful_cancel.E003", f"['proxy_count'] is {count!r}; expected 1 or more"
    trusted = value.get("trusted_proxies", [])
    if isinstance(trusted, str) or not isinstance(trusted, (list, tuple)):
        return "graceful_cancel.E003", "['trusted_proxies'] must be a list of addresses"
    for entry in trusted:
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            return (
                "graceful_cancel.E003",
                f"['trusted_proxies'] holds {entry!r}; expected an address or a network",
            )
    headers = value.get("meta_precedence_order", list(DEFAULT_HEADERS))
    if (
        isinstance(headers, str)
        or not isinstance(headers, (list, tuple))
        or not headers
        or not all(isinstance(h, str) and h for h in headers)
    ):
        return (
            "graceful_cancel.E003",
            "['meta_precedence_order'] must be a non-empty list of request.META keys",
        )
    return None
