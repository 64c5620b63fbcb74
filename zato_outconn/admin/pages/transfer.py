"""The transfer pages."""

from __future__ import annotations

from flask import Blueprint

pages_transfer = Blueprint('pages_transfer', __name__)
