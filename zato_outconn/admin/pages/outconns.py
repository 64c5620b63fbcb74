"""The outconns pages."""

from __future__ import annotations

from flask import Blueprint

pages_outconns = Blueprint('pages_outconns', __name__)
