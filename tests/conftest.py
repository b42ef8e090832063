"""Fixtures shared by the tests."""

import pytest

from tests.cells import SPEC_CELLS


@pytest.fixture(params=list(SPEC_CELLS), ids=lambda h: h.split("(")[0])
def spec_cell(request):
    return request.param, SPEC_CELLS[request.param]
