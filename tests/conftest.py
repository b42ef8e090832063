"""Fixtures shared by the tests."""

import pytest

from tests.cells import REFERENCE_CELLS


@pytest.fixture(params=list(REFERENCE_CELLS), ids=lambda h: h.split("(")[0])
def spec_cell(request):
    return request.param, REFERENCE_CELLS[request.param]
