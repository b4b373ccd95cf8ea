"""Address safety: refusals decided before any connection, with the resolver stubbed."""

from __future__ import annotations

import ipaddress

import pytest

from pipelines.fetch.addresses import AddressRefused, check_url, is_public, numeric_host


def resolver_of(table: dict[str, list[str]]):
    calls = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    resolve.calls = calls
    return resolve


NOWHERE = resolver_of({})


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),       # one decimal number
    ("0x7f000001", "127.0.0.1"),       # one hex number
    ("017700000001", "127.0.0.1"),     # one octal number
    ("0177.0.0.1", "127.0.0.1"),       # octal part
    ("0x7f.0.0.1", "127.0.0.1"),       # hex part
    ("127.1", "127.0.0.1"),            # two parts: the last fills three bytes
    ("127.0.1", "127.0.0.1"),          # three parts: the last fills two bytes
    ("169.254.169.254", "169.254.169.254"),
    ("0", "0.0.0.0"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ("[::1]", "::1"),
])
def test_numeric_hosts_read_as_browsers_read_them(host, expected):
    assert numeric_host(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "09.1.1.1", "1..1", "0x1g.1.1.1",
                                  "localhost", "a1"])
def test_names_are_not_numbers(host):
    assert numeric_host(host) is None


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/a.jpg", "http://2130706433/a.jpg", "http://0177.0.0.1/", "http://0x7f.1/",
    "http://127.1:8080/x", "http://0.0.0.0/", "http://0/", "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://224.0.0.1/", "http://240.0.0.1/", "http://255.255.255.255/",
    "http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/", "http://[fe80::1]/", "http://[fc00::1]/", "http://[fec0::1]/",
    "http://[ff02::1]/", "http://[2002:7f00:1::]/", "http://[64:ff9b::a00:1]/",
])
def test_private_literals_are_refused_without_resolving(url):
    with pytest.raises(AddressRefused) as err:
        check_url(url, resolver=NOWHERE)
    assert err.value.reason == "private_address"
    assert NOWHERE.calls == []


def test_names_are_judged_by_every_address_they_resolve_to():
    resolve = resolver_of({"img.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
                           "sneaky.example.com": ["93.184.215.14", "127.0.0.1"],
                           "meta.example.com": ["169.254.169.254"],
                           "mapped.example.com": ["::ffff:10.0.0.1"]})
    target = check_url("https://img.example.com/a.jpg", resolver=resolve)
    assert target.host == "img.example.com" and target.port == 443 and target.scheme == "https"
    assert target.addresses == ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    for host in ("sneaky", "meta", "mapped"):
        with pytest.raises(AddressRefused) as err:
            check_url(f"http://{host}.example.com/", resolver=resolve)
        assert err.value.reason == "private_address"


def test_private_addresses_pass_only_when_allowed():
    resolve = resolver_of({"intranet": ["10.0.0.7"]})
    assert check_url("http://intranet:8000/x.png", allow_private=True, resolver=resolve).addresses == ("10.0.0.7",)
    assert check_url("http://127.0.0.1:9/x", allow_private=True, resolver=NOWHERE).port == 9
    # An allowed network admits itself only.
    assert check_url("http://intranet/x", allow_networks=["10.0.0.0/24"], resolver=resolve).addresses == ("10.0.0.7",)
    with pytest.raises(AddressRefused):
        check_url("http://169.254.169.254/", allow_networks=["10.0.0.0/24"], resolver=NOWHERE)


@pytest.mark.parametrize("url", ["ftp://example.com/a.jpg", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)",
                                 "data:image/png;base64,AAAA", "//example.com/a.jpg", "http:///a.jpg",
                                 "http://example.com:99999/", "http://[::1/"])
def test_other_schemes_and_malformed_urls_are_bad_urls(url):
    with pytest.raises(AddressRefused) as err:
        check_url(url, resolver=NOWHERE)
    assert err.value.reason == "bad_url"


def test_unresolvable_names_are_dns_errors():
    with pytest.raises(AddressRefused) as err:
        check_url("http://no-such-host.invalid/a.jpg", resolver=NOWHERE)
    assert err.value.reason == "dns_error"


def test_public_addresses_are_public():
    for a in ("8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "2002:808:808::"):
        assert is_public(ipaddress.ip_address(a)), a
