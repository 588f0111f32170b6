"""Placeholder."""
from flask import Blueprint

bp = Blueprint("investor_pages", __name__)
