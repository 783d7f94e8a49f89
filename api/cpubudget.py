"""A budget of the api's CPU for reads, over all callers (issue 19, item 5).

The read gate's pace is per caller: fifty users (or fifty tokens) each within their pace
still add up to as many reads as the api can answer, and on a host it shares with the
worker each read's CPU (in the api, in its database backend, in the client) is taken
from the sends. The budget bounds the sum: while reads are being answered, the api
process may use `cores` of CPU on average, with `burst` CPU-seconds saved up for a
console page's handful of reads; a read that finds the budget spent waits until the
spending has been paid back. The process's CPU counts only while a read is in its
handler (a write or a start-up in between costs reads nothing), all of it then: what
runs beside the reads is on the same cores.
"""

from __future__ import annotations

import asyncio
import time


class CpuBudget:
    """CPU-seconds the api may spend on reads: `cores` each second, `burst` saved up."""

    def __init__(self, cores: float, burst: float) -> None:
        self.cores = cores
        self.burst = burst
        self._balance = burst
        self._wall = time.monotonic()
        self._cpu = time.process_time()
        self._reading = 0  # reads in their handler

    def _settle(self) -> float:
        """The CPU-seconds left to spend now (negative: owed)."""
        wall, cpu = time.monotonic(), time.process_time()
        earned = self.cores * (wall - self._wall)
        spent = cpu - self._cpu if self._reading else 0.0
        self._balance = min(self.burst, self._balance + earned - spent)
        self._wall, self._cpu = wall, cpu
        return self._balance

    def owed(self) -> float:
        """Seconds until the budget is no longer overspent (0: a read may start now)."""
        balance = self._settle()
        return 0.0 if balance >= 0 else -balance / self.cores

    def started(self) -> None:
        """A read enters its handler: the process's CPU counts from now."""
        self._settle()
        self._reading += 1

    def finished(self) -> None:
        self._settle()
        self._reading -= 1

    async def wait(self, deadline: float) -> bool:
        """Wait until a read may start; False if that would be after `deadline`
        (monotonic)."""
        while (owed := self.owed()) > 0:
            if time.monotonic() + owed > deadline:
                return False
            await asyncio.sleep(owed)
        return True
