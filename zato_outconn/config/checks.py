"""The checks settings share: names, choices, numbers, URLs, header names, PEM and WSDL text.

Each check takes the field's name and its value, returns the value to keep (normalised where a
setting has one canonical spelling) and raises ``ConfigError`` naming the field and the rule. No
check repeats a value that could hold a password: URLs with an ``@`` and secrets are not shown.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

from zato_outconn.exceptions import ConfigError

# The longest text each kind of setting may be: the length of its database column (store.models),
# checked by the model so that every database refuses the same values, and names the field.
MAX_NAME_LENGTH = 200
# The longest wait a timeout may set: a day. Sockets refuse much larger ones (OverflowError), and a
# call that may take longer than a day is better streamed or split.
MAX_SECONDS = 86_400.0
MAX_URL_LENGTH = 2000
MAX_CHOICE_LENGTH = 16
MAX_KIND_LENGTH = 32
MAX_CLIENT_ID_LENGTH = 500

# RFC 9110 token characters: what a header name may be made of.
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_MEDIA_TYPE = re.compile(r'^[!#$%&\'*+\-.^_`|~0-9A-Za-z]+/[!#$%&\'*+\-.^_`|~0-9A-Za-z]+(\s*;.*)?$')
# An IPv6 host: the address in brackets, then nothing or a port.
_BRACKETED = re.compile(r'\[[^\[\]@]+\](:[0-9]*)?')
# Control characters: C0, DEL and C1, whose NEL (U+0085) some log readers and editors take as a line break.
CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f]')
# What a name may not hold although it is no control character: format characters (Unicode's Cf,
# such as the bidirectional controls U+200E/F, U+202A-E and U+2066-9, which make a name display
# reordered, and the zero-width space, soft hyphen and byte order mark, which make two names look
# the same), line and paragraph separators, lone surrogates, and the Hangul fillers, which show as
# nothing. The joiners (U+200C/D) stay: scripts and emoji sequences need them, and they reorder nothing.
_INVISIBLE_CATEGORIES = frozenset({'Cf', 'Zl', 'Zp', 'Cs'})
_JOINERS = frozenset('\u200c\u200d')
_FILLERS = frozenset('\u115f\u1160\u3164\uffa0')
# A subdivision flag (Scotland's, say): a black flag, tag letters, a cancel tag. Its tags are Cf too.
_FLAG_TAGS = re.compile('\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f')

WSDL_NAMESPACE = 'http://schemas.xmlsoap.org/wsdl/'


def check_name(field: str, value: object) -> str:
    if value is not None and not isinstance(value, str):
        raise ConfigError(field, f'must be text; got {_kind_of(value)}')
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(field, 'is required')
    if value != value.strip():
        raise ConfigError(field, 'must not start or end with whitespace')
    if len(value) > MAX_NAME_LENGTH:
        raise ConfigError(field, f'must be at most {MAX_NAME_LENGTH} characters long')
    if CONTROL.search(value):
        raise ConfigError(field, 'must not contain control characters')
    invisible = _invisible(value)
    if invisible is not None:
        raise ConfigError(field, f'must not contain {_code_point(invisible)}, {_what_invisible(invisible)}; remove it')
    return value


def _invisible(value: str) -> str | None:
    """The first character of a name that shows as nothing or reorders what follows, if any."""
    if value.isascii():
        return None
    for char in _FLAG_TAGS.sub('', value):
        if char in _FILLERS or (unicodedata.category(char) in _INVISIBLE_CATEGORIES and char not in _JOINERS):
            return char
    return None


def _kind_of(value: object) -> str:
    """What a value that is not text is, as JSON and YAML would call it (a YAML name 2024-01-01 is a date)."""
    if isinstance(value, bool):
        return 'true or false'
    if isinstance(value, int | float):
        return 'a number'
    if isinstance(value, list | tuple):
        return 'a list'
    if isinstance(value, dict):
        return 'a mapping'
    return f'a {type(value).__name__}'


def _what_invisible(char: str) -> str:
    if unicodedata.category(char) == 'Cs':
        return 'a lone surrogate, which UTF-8 cannot encode'
    return 'an invisible formatting character that makes the name display other than it is'


def _code_point(char: str) -> str:
    name = unicodedata.name(char, '')
    return f'U+{ord(char):04X}' + (f' ({name})' if name else '')


def check_choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(field, f'must be one of {", ".join(choices)}; got {value!r}')
    assert isinstance(value, str)
    return value


def check_bool(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(field, f'must be true or false; got {value!r}')
    return value


def check_int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(field, f'must be a whole number from {low} to {high}; got {value!r}')
    return value


def check_seconds(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ConfigError(field, f'must be a positive number of seconds; got {value!r}')
    if value > MAX_SECONDS:
        raise ConfigError(field, f'must be at most {MAX_SECONDS:.0f} seconds (a day); got {value!r}')
    return float(value)


def seconds_setting(env: str, value: float | str | None, default: float) -> float:
    """Positive, finite seconds: the value given, else the environment variable ``env``, else the default.

    A bad value raises ConfigError naming the variable.
    """
    raw = value if value is not None else os.environ.get(env) or default
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(env, f'must be a number of seconds; got {raw!r}') from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(env, f'must be a positive number of seconds; got {raw!r}')
    return seconds


def check_header_name(field: str, value: object, *, optional: bool) -> str:
    if optional and value == '':
        return ''
    # fullmatch: with match, '$' would also let a trailing line break through.
    if not isinstance(value, str) or not HEADER_NAME.fullmatch(value):
        raise ConfigError(field, f'must be an HTTP header name (letters, digits and -); got {value!r}')
    return value


def check_media_type(field: str, value: object) -> str:
    if not isinstance(value, str) or not _MEDIA_TYPE.match(value) or CONTROL.search(value):
        raise ConfigError(field, f'must be a media type such as application/xml; got {value!r}')
    return value


def check_line(field: str, value: object, rule: str = 'must be one line of text') -> str:
    if not isinstance(value, str) or CONTROL.search(value):
        raise ConfigError(field, rule)
    return value


def check_soap_action(field: str, value: object) -> str:
    """A SOAPAction goes into a quoted header value: no quotes, no control characters.

    The same check serves the template's soap_action and the ``action=`` of one call.
    """
    if not isinstance(value, str) or '"' in value or CONTROL.search(value):
        raise ConfigError(field, f'must be text without quotes or control characters; got {value!r}')
    return value


def check_url(field: str, value: object, *, allow_query: bool = False) -> SplitResult:
    """An http(s) URL with a host and no credentials; the one check of every URL setting.

    A URL is repeated in a message only if it cannot hold a password: any '@' in it (however the
    rest is mangled) keeps it out of every message.
    """
    if value is not None and not isinstance(value, str):
        raise ConfigError(field, f'must be text; got {_kind_of(value)}')
    if not isinstance(value, str) or not value:
        raise ConfigError(field, 'is required')
    shown = (repr(value) if len(value) <= 200 else f'{value[:200]!r}...') if '@' not in value \
        else 'a URL with an @ in it (not shown)'
    if CONTROL.search(value) or ' ' in value:
        raise ConfigError(field, 'must not contain spaces or control characters')
    try:
        parts = urlsplit(value)
        # urlsplit checks what is inside brackets, not what follows them: http://[::1]x:80.
        if ('[' in parts.netloc or ']' in parts.netloc) and not _BRACKETED.fullmatch(parts.netloc):
            raise ValueError(value)
    except ValueError:
        # urlsplit's own words may quote the host; ours say what to fix.
        raise ConfigError(field, 'is not a valid URL; an IPv6 address goes in brackets, as in '
                                 f'http://[::1]:8080; got {shown}') from None
    if '@' in value.split('?', 1)[0].split('#', 1)[0]:
        raise ConfigError(field, 'must not contain a username or password; use a security definition')
    if parts.scheme not in ('http', 'https'):
        raise ConfigError(field, f'must be a URL starting with http:// or https://; got {shown}')
    if not parts.hostname:
        raise ConfigError(field, f'must name a host, as in https://example.com:8080; got {shown}')
    # A URL longer than its column is refused by that rule, which says to shorten it; past 253
    # characters no host is a DNS name anyway.
    problem = _host_problem(parts.hostname) \
        if not parts.netloc.startswith('[') and len(value) <= MAX_URL_LENGTH else None
    if problem is not None:
        # Saved, it would fail only when called, or reach another host: http://x\\y goes to x.
        raise ConfigError(field, f'has a host that is no host name or address ({problem}); got {shown}')
    try:
        port = parts.port  # reading it validates it
    except ValueError:
        port = 0
    if port == 0:
        # Port 0 means "any port" to a listener; no server can be reached there.
        raise ConfigError(field, f'has an invalid port; use 1 to 65535; got {shown}')
    if parts.fragment or (parts.query and not allow_query):
        raise ConfigError(field, 'must not contain a query string or fragment' if not allow_query
                          else 'must not contain a fragment (#)')
    return parts


def _host_problem(host: str) -> str | None:
    """What makes a host (not an IPv6 address) no DNS name or IPv4 address, or None: letters, digits,
    hyphens and underscores in labels of at most 63 characters, 253 in all (as IDNA encodes them)."""
    name = host[:-1] if host.endswith('.') else host
    for char in name:
        if not (char.isascii() and (char.isalnum() or char in '-_.')) \
                and not (not char.isascii() and unicodedata.category(char)[0] in 'LMN'):
            return f'{_code_point(char)} cannot be in one'
    try:
        encoded = name.encode('idna')
    except UnicodeError:
        return 'a label is empty or longer than 63 characters, or cannot be encoded as IDNA'
    if len(encoded) > 253 or any(not label or len(label) > 63 for label in encoded.split(b'.')):
        return 'a label is empty or longer than 63 characters, or the name longer than 253'
    return None


def check_url_text(field: str, value: object, *, allow_query: bool = False) -> str:
    """check_url for a setting that keeps the URL as text."""
    check_url(field, value, allow_query=allow_query)
    assert isinstance(value, str)
    return value


# A PEM block of a private key, of whatever kind (PRIVATE KEY, RSA PRIVATE KEY, ENCRYPTED PRIVATE KEY...).
_PRIVATE_KEY = re.compile(r'-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----')


def check_ca_bundle(field: str, value: object) -> str:
    from cryptography import x509

    if not isinstance(value, str) or '-----BEGIN CERTIFICATE-----' not in value:
        raise ConfigError(field, 'must be PEM text with one or more certificates (-----BEGIN CERTIFICATE-----)')
    key = _PRIVATE_KEY.search(value)
    if key is not None:
        # A template's settings are shown and exported as they are; only a definition's secret is encrypted.
        raise ConfigError(field, f'holds a private key (-----BEGIN {key.group(1)}-----), which a template would keep '
                                 'and show in plain text: a CA bundle holds certificates only; remove the key, and '
                                 'give a client certificate with its key as an mtls security definition')
    try:
        x509.load_pem_x509_certificates(value.encode('ascii'))
    except (ValueError, UnicodeEncodeError) as error:
        raise ConfigError(field, f'is not valid PEM certificate text ({error})') from None
    return value


def check_wsdl(field: str, value: object) -> str:
    """A WSDL is either an http(s) URL, or a WSDL 1.1 document given as text."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(field, 'must be an http(s) URL or the WSDL document itself')
    if not value.lstrip().startswith('<'):
        # Not a document, so a URL; the connection's security definition applies to its download.
        check_url(field, value, allow_query=True)
        return value

    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(value.encode('utf-8'), parser)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ConfigError(field, f'is not well-formed XML ({error})') from None
    if root.tag != f'{{{WSDL_NAMESPACE}}}definitions':
        raise ConfigError(field, f'must be a WSDL 1.1 document (a {{{WSDL_NAMESPACE}}}definitions root); '
                                 f'got {root.tag}')
    return value
