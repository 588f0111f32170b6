"""Placeholder."""
from flask import Blueprint

bp = Blueprint("finance_pages", __name__)
