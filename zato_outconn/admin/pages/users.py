"""The users pages."""

from __future__ import annotations

from flask import Blueprint

pages_users = Blueprint('pages_users', __name__)
