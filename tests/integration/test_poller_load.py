"""Bounded load test on loopback: a thousand tasks in flight at a fake Kling, polled concurrently.
It checks that nothing is dropped and prints the poll lag; speed targets live in `make bench`."""


from tests.bench.poller import baseline, run_poller
from tests.conftest import free_port


async def test_thousand_in_flight_tasks_are_all_tracked(capsys):
    result = await run_poller(tasks=1000, interval=1.0, window=4.0, port=free_port())
    reference = await baseline(tasks=1000, interval=1.0, window=4.0)
    with capsys.disabled():
        print(f"\n[poller load] {result.tasks} tasks: {result.polls} polls in {result.seconds:.1f}s "
              f"(wanted {result.wanted_polls:.0f}); lag p50 {result.lag_p50_ms:.0f} ms, p99 {result.lag_p99_ms:.0f} ms; "
              f"CPU {result.cpu_percent:.0f}% | bare sleepers: lag p99 {reference.lag_p99_ms:.0f} ms, "
              f"CPU {reference.cpu_percent:.0f}%")
    assert result.lost == 0  # every task still in flight, none failed or dropped
    assert result.polls > 0
