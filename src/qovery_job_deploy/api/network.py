"""What the environment says about reaching the API: its proxy (HTTPS_PROXY, ALL_PROXY, NO_PROXY) and the CA
bundle that verifies it.

Read from the environment the step was given, never from `os.environ`: the session does not trust the
process environment (`trust_env = False`); the transport hands it these settings instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

# The CA bundle's variables, the first one set wins. requests read the first two itself, and what it found
# there overrode the session's bundle, which came from SSL_CERT_FILE: that order is kept.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
DEFAULT_PORTS = {"http": 80, "https": 443}


def variable(environ: Mapping[str, str], name: str) -> str:
    """`name` in lowercase when it is set, even empty, else in uppercase: lowercase wins, as in curl and
    requests (an empty `https_proxy` turns off an HTTPS_PROXY)."""
    lower = name.lower()
    return environ[lower] if lower in environ else environ.get(name.upper(), "")


def is_loopback(host: str) -> bool:
    """This machine: `localhost`, 127.0.0.0/8 or ::1 (where `http://` is allowed: a local simulator)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ca_bundle(environ: Mapping[str, str]) -> str | None:
    """The CA bundle to verify the API's certificate with; None for the system's. Verification itself is
    never turned off."""
    return next((environ[name] for name in CA_BUNDLE_VARIABLES if environ.get(name)), None)


def proxy_url(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy for `url`, as the environment gives it (a password included): `<scheme>_proxy`, else
    `all_proxy`, unless `no_proxy` lists the URL's host."""
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a malformed port: requests reports it when the request is made
        port = DEFAULT_PORTS.get(parts.scheme)
    if bypasses_proxy(parts.hostname, port, variable(environ, "no_proxy")):
        return None
    return variable(environ, f"{parts.scheme}_proxy") or variable(environ, "all_proxy") or None


def proxy_for(url: str, environ: Mapping[str, str]) -> str | None:
    """The proxy requests will use for `url` (HTTPS_PROXY, NO_PROXY), as host:port: its URL may carry a
    password, never shown."""
    proxy = proxy_url(url, environ)
    if not proxy:
        return None
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    try:
        port = parts.port
    except ValueError:  # a malformed port in HTTPS_PROXY: name the host, never crash over a message
        port = None
    return f"{parts.hostname}:{port}" if port else parts.hostname


def bypasses_proxy(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether `no_proxy` lists `host` (on `port`). Entries are comma-separated: a host name, which covers
    its subdomains too (a leading `.` or `*.` changes nothing), an IP address or a CIDR range, each
    optionally with `:port`; `*` alone covers every host. `requests.utils.should_bypass_proxies` would
    read os.environ, hence this."""
    host = host.lower().strip("[]")
    for entry in no_proxy.replace(" ", "").lower().split(","):
        if entry == "*":
            return True
        name, wanted = _split_port(entry)
        if name and wanted in (None, port) and _covers(name, host):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """`host:port`, `[v6]:port`, or a bare host, IPv6 address or range (its colons are no port)."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":")
        return name, int(port) if port.isdigit() else None
    name, colon, port = entry.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        return name, int(port)
    return entry, None


def _covers(name: str, host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name: listed itself, or one of its parent domains
        name = name.removeprefix("*.").lstrip(".")
        return host == name or host.endswith("." + name)
    try:
        return address in ipaddress.ip_network(name, strict=False)
    except ValueError:  # a name, or a malformed range, covers no address
        return False
