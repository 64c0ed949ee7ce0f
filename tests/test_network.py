"""The proxy and the CA bundle, read from the environment the step was given: tables of the rules."""

from __future__ import annotations

import pytest

from qovery_job_deploy.api.network import bypasses_proxy, ca_bundle, proxy_for, proxy_url

API = "https://api.qovery.com"


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("", "api.qovery.com", 443, False),
        ("*", "api.qovery.com", 443, True),
        (" * ", "api.qovery.com", 443, True),
        ("api.qovery.com", "api.qovery.com", 443, True),
        ("API.Qovery.com", "api.qovery.com", 443, True),  # names are case-insensitive
        ("qovery.com", "api.qovery.com", 443, True),  # a name covers its subdomains
        (".qovery.com", "api.qovery.com", 443, True),
        ("*.qovery.com", "api.qovery.com", 443, True),
        (".qovery.com", "qovery.com", 443, True),  # a leading dot covers the domain itself too
        ("ery.com", "api.qovery.com", 443, False),  # a suffix of a label is not a parent domain
        ("notqovery.com", "qovery.com", 443, False),
        ("api.qovery.com.evil", "api.qovery.com", 443, False),
        ("localhost, .qovery.com", "api.qovery.com", 443, True),  # spaces around entries
        ("localhost,,qovery.com,", "api.qovery.com", 443, True),  # empty entries are skipped
        ("localhost,example.org", "api.qovery.com", 443, False),
        ("api.qovery.com:443", "api.qovery.com", 443, True),
        ("api.qovery.com:8443", "api.qovery.com", 443, False),  # another port is another service
        (".qovery.com:443", "api.qovery.com", 443, True),
        ("127.0.0.1", "127.0.0.1", 8080, True),
        ("127.0.0.1:8080", "127.0.0.1", 8080, True),
        ("127.0.0.1:9", "127.0.0.1", 8080, False),
        ("127.0.0.0/8", "127.0.0.1", 8080, True),  # a CIDR range, as requests allows
        ("10.0.0.0/8", "127.0.0.1", 8080, False),
        ("0.0.1", "127.0.0.1", 8080, False),  # no suffix matching of addresses
        ("::1", "::1", 8080, True),
        ("[::1]:8080", "::1", 8080, True),
        ("[::1]:9", "::1", 8080, False),
        ("fd00::/8", "fd12::5", 443, True),
        ("localhost", "127.0.0.1", 8080, False),  # names are not resolved
    ],
)
def test_no_proxy_matches_hosts_domains_addresses_and_ports(
    no_proxy: str, host: str, port: int, bypassed: bool
) -> None:
    assert bypasses_proxy(host, port, no_proxy) is bypassed


@pytest.mark.parametrize(
    ("url", "environ", "proxy"),
    [
        (API, {}, None),
        (API, {"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
        (API, {"https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128"}, "http://lower:3128"),
        (API, {"https_proxy": "", "HTTPS_PROXY": "http://upper:3128"}, None),  # lowercase wins, even empty
        (API, {"ALL_PROXY": "http://all:3128"}, "http://all:3128"),
        (API, {"all_proxy": "http://all:3128", "HTTPS_PROXY": "http://https:3128"}, "http://https:3128"),
        (API, {"HTTP_PROXY": "http://plain:3128"}, None),  # the proxy of the URL's scheme only
        ("http://127.0.0.1:8080", {"HTTP_PROXY": "http://plain:3128"}, "http://plain:3128"),
        (API, {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".qovery.com"}, None),
        (API, {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "", "NO_PROXY": "*"}, "http://proxy:3128"),
        (API, {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "qovery.com:8443"}, "http://proxy:3128"),
        ("https://api.qovery.com:8443", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "qovery.com:8443"}, None),
        ("https://api.qovery.com:bad", {"HTTPS_PROXY": "http://p:1"}, "http://p:1"),  # requests says why
    ],
)
def test_the_proxy_comes_from_the_given_environment(
    url: str, environ: dict[str, str], proxy: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://from-the-process:1")  # never read
    monkeypatch.setenv("ALL_PROXY", "http://from-the-process:1")
    assert proxy_url(url, environ) == proxy


@pytest.mark.parametrize(
    ("proxy", "shown"),
    [
        ("http://user:secret@proxy.corp:3128", "proxy.corp:3128"),
        ("proxy.corp:3128", "proxy.corp:3128"),
        ("http://user:secret@proxy.corp", "proxy.corp"),
        ("http://user:secret@proxy.corp:badport", "proxy.corp"),  # a malformed port: the host alone
    ],
)
def test_a_proxy_is_shown_as_host_and_port_never_with_its_password(proxy: str, shown: str) -> None:
    assert proxy_for(API, {"HTTPS_PROXY": proxy}) == shown


@pytest.mark.parametrize(
    ("environ", "bundle"),
    [
        ({}, None),
        ({"SSL_CERT_FILE": "/ssl.pem"}, "/ssl.pem"),
        ({"REQUESTS_CA_BUNDLE": "/requests.pem"}, "/requests.pem"),
        ({"CURL_CA_BUNDLE": "/curl.pem"}, "/curl.pem"),
        # requests' own variables came first when requests read them itself: still so
        ({"SSL_CERT_FILE": "/ssl.pem", "REQUESTS_CA_BUNDLE": "/requests.pem"}, "/requests.pem"),
        ({"SSL_CERT_FILE": "/ssl.pem", "CURL_CA_BUNDLE": "/curl.pem"}, "/curl.pem"),
        ({"CURL_CA_BUNDLE": "/curl.pem", "REQUESTS_CA_BUNDLE": "/requests.pem"}, "/requests.pem"),
        ({"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "/ssl.pem"}, "/ssl.pem"),  # empty is unset
    ],
)
def test_the_ca_bundle_comes_from_the_given_environment(
    environ: dict[str, str], bundle: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/from-the-process.pem")  # never read
    assert ca_bundle(environ) == bundle
