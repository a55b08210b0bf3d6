"""placeholder"""

from tests.bench.context import Bench


async def run(bench: Bench) -> None:
    return None
