"""Placeholder."""
from flask import Blueprint

bp = Blueprint("pipeline_pages", __name__)
