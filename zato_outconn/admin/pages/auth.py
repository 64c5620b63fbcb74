"""The auth pages."""

from __future__ import annotations

from flask import Blueprint

pages_auth = Blueprint('pages_auth', __name__)
