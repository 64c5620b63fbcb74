"""Templates the store and change-feed tests write: a plain_http connection and a basic_auth definition."""

from __future__ import annotations

from typing import Any

from zato_outconn import OutconnConfig, SecurityConfig

HOST = 'https://crm.example.com'
PASSWORD = 'Tr0ub4dor-&-3-plain'


def outconn(name: str = 'CRM', **settings: Any) -> OutconnConfig:
    return OutconnConfig(**{'name': name, 'host': HOST, **settings})


def basic_auth(name: str = 'CRM credentials', secret: str | None = PASSWORD,
               **settings: Any) -> SecurityConfig:
    return SecurityConfig(**{'name': name, 'sec_type': 'basic_auth', 'username': 'alice', 'secret': secret,
                             **settings})
