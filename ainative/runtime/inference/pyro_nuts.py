"""Pyro's NUTS kernel with the divergent transitions counted on its progress bar, as they happen (loaded with Pyro,
by ``pyro_backend``; a class of its own module, so a worker process can import it)."""

from __future__ import annotations

from collections import OrderedDict

from pyro.infer import NUTS


class CountingNUTS(NUTS):
    """NUTS whose progress bar shows, beside the step size and acceptance rate, how many draws diverged so far."""

    def logging(self) -> OrderedDict:
        # the kernel keeps each divergent transition's index from the first draw: warm-up ones are negative
        divergent = sum(1 for index in self._divergences if index >= 0)
        return OrderedDict([*super().logging().items(), ("divergences", str(divergent))])
