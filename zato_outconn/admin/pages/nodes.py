"""The nodes pages."""

from __future__ import annotations

from flask import Blueprint

pages_nodes = Blueprint('pages_nodes', __name__)
