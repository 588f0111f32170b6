"""Fixtures of the finance tests."""

import copy

import pytest
from finance_cases import BASE_CASE, SIMPLE_CASE


@pytest.fixture
def base_case_dict():
    return copy.deepcopy(BASE_CASE)


@pytest.fixture
def simple_case_dict():
    return copy.deepcopy(SIMPLE_CASE)
