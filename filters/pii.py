"""Masking of e-mail addresses and IPv4/IPv6 addresses in document text.

Follows datatrove's PIIFormatter (datatrove/pipeline/formatters/pii.py) where it is sound:

- The e-mail pattern is datatrove's, unchanged, so both mask exactly the same addresses
  (including ``user@[192.0.2.1]``), and e-mails are masked before IPs as there.
- By default only *global* IPs are masked, as datatrove's ``only_remove_public_ips=True``
  does: 127.0.0.1, 10.x, 192.168.x, ::1, fe80::, the documentation ranges and the like
  identify no one, and masking them would damage the networking tutorials and configuration
  pages that mention them. IPv4 uses ``ipaddress``'s ``is_global`` as datatrove does; IPv6
  must also lie in 2000::/3, the only block allocated for global unicast (see `_is_global`).
  ``only_global_ips=False`` masks every valid address, short forms like ``::2`` included, so
  in that mode a Python slice ``a[::2]`` is masked too.
- A replacement is a string or a sequence of strings used in turn, as datatrove's are
  (its defaults are realistic fake addresses; ours are ``<EMAIL>`` and ``<IP>``). The turn
  restarts at every call, so the same text always gives the same output; datatrove carries
  its turn over from one document to the next.

Where this module differs, on purpose:

- IPv6 addresses are masked too (datatrove has no IPv6 rule), full and compressed forms and
  IPv4-mapped ones, each validated by ``ipaddress``. A candidate must hold a decimal digit and
  cannot touch a letter, digit, ``_``, ``:`` or ``.``, so ``std::vector``, ``Foo::Bar`` and
  ``a::b`` (valid IPv6 text, but C++) stay, and so do times (``12:30:45``) and MAC addresses,
  which ``ipaddress`` rejects.
- An IPv4 address must stand alone: not inside a longer dotted number. datatrove's pattern
  has no boundaries and masks the ``1.2.3.4`` of version ``1.2.3.4.5`` and the
  ``11.22.33.44`` of ``11.22.33.444`` (leaving ``<IP>.5`` and ``<IP>4``). Octets must be
  0-255 without leading zeros (``ipaddress`` rules), as datatrove's validator also requires.
- IPv4 and IPv6 are found in one pass, so an address is never masked twice and an IPv4-mapped
  IPv6 address counts once, as IPv6.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

# datatrove PIIFormatter's pattern (RFC 5322-like local part, dotted domain or [IPv4] literal).
_EMAIL_RE = re.compile(
    r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:["
    r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|["
    r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)])"
)
# Candidates only; ipaddress decides. [0-9] rather than \d: \d also matches other scripts' digits.
_IP_RE = re.compile(
    r"(?<![0-9A-Za-z_:.])(?P<ipv6>"
    r"(?:[0-9A-Fa-f]{0,4}:){2,8}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    r")(?![0-9A-Za-z_:]|\.[0-9])"
    r"|(?<![0-9.])(?P<ipv4>[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?!\.?[0-9])"
)
_DIGIT = re.compile(r"[0-9]")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")

KINDS = ("email", "ipv4", "ipv6")


def mask_pii(
    text: str,
    email_replacement: str | Sequence[str] = "<EMAIL>",
    ip_replacement: str | Sequence[str] = "<IP>",
    *,
    only_global_ips: bool = True,
) -> tuple[str, dict[str, int]]:
    """The text with e-mails and IP addresses replaced, and how many of each kind were."""
    email_options, ip_options = _options(email_replacement), _options(ip_replacement)
    counts = dict.fromkeys(KINDS, 0)
    # The membership tests skip a whole regex scan for the many texts without "@" or digits.
    if "@" in text:
        text = _EMAIL_RE.sub(_replacer(email_options, counts, lambda m: "email"), text)
    if _DIGIT.search(text):
        text = _IP_RE.sub(_replacer(ip_options, counts, lambda m: _ip_kind(m, only_global_ips)), text)
    return text, counts


def _options(replacement: str | Sequence[str]) -> tuple[str, ...]:
    options = (replacement,) if isinstance(replacement, str) else tuple(replacement)
    if not options:
        raise ValueError("a replacement sequence needs at least one string")
    return options


def _ip_kind(match: re.Match, only_global: bool) -> str | None:
    """"ipv4"/"ipv6" when the candidate is an address to mask, else None."""
    kind = match.lastgroup
    candidate = match.group()
    if kind == "ipv6" and not _DIGIT.search(candidate):
        return None
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    return kind if not only_global or _is_global(address) else None


def _is_global(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether the address can be a host on the public internet, so can point at a person.

    ipaddress calls every IPv6 address outside its short list of special blocks global,
    including unassigned space such as ``::2`` and ``1::2`` that Python slices (``a[::2]``)
    and version strings produce. Only 2000::/3 is allocated for global unicast.
    """
    if address.version == 4:
        return address.is_global
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_global
    return address in _GLOBAL_UNICAST and address.is_global


def _replacer(
    options: tuple[str, ...], counts: dict[str, int], kind_of: Callable[[re.Match], str | None]
) -> Callable[[re.Match], str]:
    def replace(match: re.Match) -> str:
        kind = kind_of(match)
        if kind is None:
            return match.group()
        # The count so far doubles as the turn, so the options rotate per kind.
        replacement = options[counts[kind] % len(options)]
        counts[kind] += 1
        return replacement

    return replace
