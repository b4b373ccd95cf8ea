"""PII masking: e-mails, IPv4, IPv6, what must stay, and agreement with datatrove."""

from __future__ import annotations

import random

import pytest

from filters.pii import mask_pii


def _counts(email=0, ipv4=0, ipv6=0):
    return {"email": email, "ipv4": ipv4, "ipv6": ipv6}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to john@example.com today", "write to <EMAIL> today"),
        ("John.Doe+news@Mail.Example.CO.UK", "<EMAIL>"),
        ("o'brien_x-y@sub-domain.example.org", "<EMAIL>"),
        ("<alice@example.io>, bob@example.net.", "<<EMAIL>>, <EMAIL>."),
        ("mailto:carol@example.com?subject=hi", "mailto:<EMAIL>?subject=hi"),
        ("root@[8.8.8.8] answered", "<EMAIL> answered"),
    ],
)
def test_emails_masked(text, expected):
    masked, counts = mask_pii(text)
    assert masked == expected
    assert counts == _counts(email=expected.count("<EMAIL>"))


@pytest.mark.parametrize("text", ["user@localhost", "@handle on the site", "a @ b.com", "x@y"])
def test_non_emails_untouched(text):
    assert mask_pii(text) == (text, _counts())


@pytest.mark.parametrize(
    "text, expected, kind",
    [
        ("dns 8.8.8.8 and", "dns <IP> and", "ipv4"),
        ("(1.1.1.1)", "(<IP>)", "ipv4"),
        ("8.8.4.4:53", "<IP>:53", "ipv4"),
        ("end of sentence 9.9.9.9.", "end of sentence <IP>.", "ipv4"),
        ("服务器8.8.8.8上", "服务器<IP>上", "ipv4"),
        ("google 2a00:1450:4001:80b::200e", "google <IP>", "ipv6"),
        ("full 2001:4860:4860:0:0:0:0:8888 form", "full <IP> form", "ipv6"),
        ("http://[2606:4700:4700::1111]:443/", "http://[<IP>]:443/", "ipv6"),
        ("mapped ::ffff:8.8.8.8", "mapped <IP>", "ipv6"),
        ("UPPER 2A00:1450:4001:80B::200E", "UPPER <IP>", "ipv6"),
    ],
)
def test_global_ips_masked(text, expected, kind):
    assert mask_pii(text) == (expected, _counts(**{kind: 1}))


@pytest.mark.parametrize(
    "text, kind",
    [
        ("192.168.1.1", "ipv4"),
        ("10.0.0.1", "ipv4"),
        ("127.0.0.1", "ipv4"),
        ("192.0.2.1", "ipv4"),
        ("::1", "ipv6"),
        ("2001:db8::ff00:42:8329", "ipv6"),
        ("fe80::1", "ipv6"),
        ("fc00::5", "ipv6"),
        ("ff0e::1", "ipv6"),  # multicast
        ("::ffff:10.0.0.1", "ipv6"),  # IPv4-mapped, judged by its IPv4 address
        ("::2", "ipv6"),  # "global" to ipaddress, but unallocated
        ("1::2", "ipv6"),
    ],
)
def test_non_global_ips_kept_unless_asked(text, kind):
    sentence = f"listen on {text} here"
    assert mask_pii(sentence) == (sentence, _counts())
    assert mask_pii(sentence, only_global_ips=False) == ("listen on <IP> here", _counts(**{kind: 1}))


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3",
        "release 1.2.3.4.5",
        "11.22.33.444",
        "1.2.3.256",
        "01.02.03.04",
        "pi is 3.14159",
        "at 12:30",
        "at 12:30:45 sharp",
        # The digits make sure the IP pass runs: a text without any is skipped.
        "std::vector<int> v(3); a::b and Foo::Bar::baz(1)",
        "cafe::beef and fee:fab:: in 2024",
        "ref 12345::6789 and x1::2",  # "2345::6789" and "1::2" would be valid IPv6
        "mac 00:1A:2B:3C:4D:5E",
        "2024-01-01T10:20:30Z",
        "ratio 1:2:3",
        "::",
    ],
)
def test_non_ips_untouched(text):
    assert mask_pii(text, only_global_ips=False) == (text, _counts())


def test_python_slices_untouched_by_default():
    text = "evens = xs[::2]; odds = xs[1::2]; rows = grid[2::3]"
    assert mask_pii(text) == (text, _counts())


def test_counts_and_rotation():
    text = "a@example.com 8.8.8.8 b@example.org 1.1.1.1 2a00:1450::1 9.9.9.9 10.0.0.1 c@example.net"
    masked, counts = mask_pii(text, ("E1", "E2"), ["I1", "I2"])
    assert counts == _counts(email=3, ipv4=3, ipv6=1)
    # Each kind takes the options in turn from the first; the private 10.0.0.1 is not a turn.
    assert masked == "E1 I1 E2 I2 I1 I1 10.0.0.1 E1"
    assert mask_pii(text, ("E1", "E2"), ["I1", "I2"]) == (masked, counts)  # no state across calls
    with pytest.raises(ValueError):
        mask_pii("no address at all", ip_replacement=[])


# --- agreement with datatrove's PIIFormatter ---------------------------------------------

_EMAILS = [
    "john@example.com",
    "jane.doe@mail.example.org",
    "x_y+z@sub.example.co.uk",
    "INFO@EXAMPLE.DE",
    "o'neil@example.ie",
    "a1@b2.io",
    "first.middle.last@very-long-domain-name.example.net",
    "root@[8.8.8.8]",
]
_PUBLIC_IPV4 = ["8.8.8.8", "1.1.1.1", "203.0.114.9", "172.217.16.142"]
_OTHER_IPV4 = ["192.168.0.1", "10.1.2.3", "127.0.0.1", "255.255.255.255", "203.0.113.9"]
_TEXT_AROUND = ["version 1.2.3", "at 12:30", "pi 3.14", "no pii here", "user@localhost", "std::map"]
_TEMPLATES = [
    "Contact {email} or ping {ip}. {other}",
    "{other} -- server {ip} (admin: {email})",
    "{ip}\n{email}\n{other}",
    "Logs: [{ip}] login by <{email}>; {other}.",
]


def _agreement_texts(n: int = 50) -> list[str]:
    rng = random.Random(7)
    pick = rng.choice
    ips = _PUBLIC_IPV4 + _OTHER_IPV4
    return [
        pick(_TEMPLATES).format(email=pick(_EMAILS), ip=pick(ips), other=pick(_TEXT_AROUND)) for _ in range(n)
    ]


@pytest.fixture(scope="module")
def datatrove_pii():
    from datatrove.pipeline.formatters.pii import PIIFormatter

    return PIIFormatter(email_replacement="<EMAIL>", ip_replacement="<IP>")


def test_agrees_with_datatrove(datatrove_pii):
    texts = _agreement_texts()
    ours = [mask_pii(t)[0] for t in texts]
    theirs = [datatrove_pii.format(t) for t in texts]
    assert [(t, o, d) for t, o, d in zip(texts, ours, theirs) if o != d] == []
    assert sum(o != t for t, o in zip(texts, ours)) >= 45  # nearly every text had something masked
    assert sum("<IP>" in o for o in ours) >= 15


def test_agrees_with_datatrove_on_all_ips():
    from datatrove.pipeline.formatters.pii import PIIFormatter

    every_ip = PIIFormatter(only_remove_public_ips=False, email_replacement="<EMAIL>", ip_replacement="<IP>")
    for text in _agreement_texts():
        assert mask_pii(text, only_global_ips=False)[0] == every_ip.format(text)


@pytest.mark.parametrize(
    "text, datatrove_output, our_output",
    [
        # datatrove's IPv4 pattern has no boundaries and masks part of a longer number.
        ("release 1.2.3.4.5", "release <IP>.5", "release 1.2.3.4.5"),
        ("id 11.22.33.444", "id <IP>4", "id 11.22.33.444"),
        ("1.2.3.256", "<IP>6", "1.2.3.256"),
        # datatrove has no IPv6 rule.
        ("host 2a00:1450:4001:80b::200e", "host 2a00:1450:4001:80b::200e", "host <IP>"),
        ("mapped ::ffff:8.8.8.8", "mapped ::ffff:<IP>", "mapped <IP>"),
    ],
)
def test_known_differences_from_datatrove(datatrove_pii, text, datatrove_output, our_output):
    assert datatrove_pii.format(text) == datatrove_output
    assert mask_pii(text)[0] == our_output
