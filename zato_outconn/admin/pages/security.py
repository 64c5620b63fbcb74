"""The security pages."""

from __future__ import annotations

from flask import Blueprint

pages_security = Blueprint('pages_security', __name__)
