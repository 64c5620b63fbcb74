"""The head of an answer (status line and header fields), read as http.client reads it, faster.

http.client parses an answer's header fields with the email package (``http.client.parse_headers``):
a general parser of mail messages, and the largest part of what reading a small answer costs,
more than urllib3's own work for it. ``AnswerResponse`` is http.client's response with that one
step replaced: the fields of a well-formed head go straight into the same ``HTTPMessage``, as
the email parser would put them; a head with anything unusual (a line the email parser would take
for the end of the head or split in two, a continuation line first) goes to the email parser
itself, so that the result, defects included, never differs. Everything else (the status line,
100 Continue, chunked framing, Content-Length, keep-alive) is http.client's own.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from typing import Any

# What starts a field line, as the email parser's feedparser sees one: a name of visible
# characters but the colon, then the colon. Anything else (an empty name, "From ", a space
# in the name) is a case for the email parser itself.
_FIELD_START = re.compile(r'[!-9;-~]+:')
_LINE_ENDS = ('\r\n', '\n')


def read_fields(fp: Any) -> http.client.HTTPMessage:
    """The header fields up to and including the blank line, from an answer's file, as
    ``http.client.parse_headers(fp)`` gives them."""
    # http.client's limits on a head, read on each call as http.client reads them, so that a
    # process raising them (http.client._MAXHEADERS = 1000, a known recipe) raises ours too.
    max_line = getattr(http.client, '_MAXLINE', 65536)
    max_fields = getattr(http.client, '_MAXHEADERS', 100)
    lines = []
    while True:
        line = fp.readline(max_line + 1)
        if len(line) > max_line:
            raise http.client.LineTooLong('header line')
        lines.append(line)
        if len(lines) > max_fields:
            raise http.client.HTTPException(f'got more than {max_fields} headers')
        if line in (b'\r\n', b'\n', b''):
            break
    text = b''.join(lines).decode('iso-8859-1')
    fields = _fields_of(text, sum(1 for line in lines if line))
    return fields if fields is not None else email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)


def _fields_of(text: str, line_count: int) -> http.client.HTTPMessage | None:
    """The fields of a well-formed head, or None for the email parser to read."""
    # The email parser splits its input with str.splitlines, which also breaks at a lone CR, at
    # form feed, NEL and others that latin-1 text may hold: any of them and its lines are not ours.
    parts = text.splitlines(True)
    if len(parts) != line_count:
        return None
    fields: list[tuple[str, str]] = []
    name: str | None = None
    value = ''
    for part in parts:
        if part in _LINE_ENDS:
            break
        if not part.endswith(_LINE_ENDS):
            return None  # cut short by the end of the stream
        if part[0] in ' \t':
            if name is None:
                return None  # a continuation with nothing to continue: a defect the parser records
            value += part  # kept with its line break and indent, as the email parser keeps it
            continue
        if not _FIELD_START.match(part):
            return None
        if name is not None:
            fields.append((name, value.rstrip('\r\n')))
        name, _, value = part.partition(':')
        value = value.lstrip(' \t')
    if name is not None:
        fields.append((name, value.rstrip('\r\n')))
    if _nested(text) and any(_nested(found) for field, found in fields if field.lower() == 'content-type'):
        # The email parser reads a multipart or message/* head as the start of parts it then finds
        # missing, and records defects (which urllib3 logs): its own result is the one to give. (The
        # whole head looked at first: most hold neither word anywhere.)
        return None
    message = http.client.HTTPMessage()
    message._headers = fields  # type: ignore[attr-defined]
    message.set_payload('')  # what the email parser leaves after the blank line of a head
    return message


def _nested(content_type: str) -> bool:
    """Whether the email parser reads a head of this content type as holding further messages
    (given a whole head: whether any of its fields might be such a content type)."""
    lowered = content_type.lower()
    return 'multipart' in lowered or 'message' in lowered


class AnswerResponse(http.client.HTTPResponse):
    """http.client's response, its header fields read by ``read_fields``."""

    def begin(self) -> None:
        if self.headers is not None:
            return  # begun already
        if self.debuglevel > 0:
            super().begin()  # http.client prints what it reads: its own reading, line for line
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            read_fields(self.fp)  # the fields of a 100 Continue, skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ('HTTP/1.0', 'HTTP/0.9'):
            self.version = 10
        elif version.startswith('HTTP/1.'):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = read_fields(self.fp)
        transfer_encoding = self.headers.get('transfer-encoding')
        self.chunked = bool(transfer_encoding) and transfer_encoding.lower() == 'chunked'
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get('content-length')
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None  # a negative length means nothing
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200 \
                or self._method == 'HEAD':
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # no way to tell where the body ends but the close
