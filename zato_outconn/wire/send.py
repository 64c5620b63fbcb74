"""The one function that hands a request to the network.

Every request a connection makes goes through ``send``: its verbs, ping, SOAP posts, the zeep
client's calls and WSDL fetches, and OAuth2 token requests (through the connection's own
session). Whatever requests, urllib3 or ssl raise becomes one of the library's exceptions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from zato_outconn.exceptions import CallError
from zato_outconn.wire.call import Call
from zato_outconn.wire.errors import MAPPABLE, map_error


def send(session: requests.Session, prepared: requests.PreparedRequest, call: Call, stream: bool,
         settings: Mapping[str, Any]) -> requests.Response:
    """Send one prepared request; ``settings`` are Session.send's keyword arguments."""
    try:
        return session.send(prepared, stream=stream, **settings)
    except CallError:
        # Raised by our own hooks within the send (a token refused on the retry after a 401, say).
        raise
    except MAPPABLE as error:
        raise map_error(error, call, timeout=settings.get('timeout'),
                        max_redirects=session.max_redirects) from error
