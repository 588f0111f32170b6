"""Consultations under the shared protocol (the shell around :mod:`consultation`)."""
