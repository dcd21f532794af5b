"""The bench's floor measurement on a real endpoint and a real Lambda worker (loopback sockets, a worker process)."""


def test_unit_costs_are_measured_on_a_real_endpoint_and_worker():
    from benchmarks.floor import measure_unit_costs

    costs = measure_unit_costs(requests=50, invocations=100)  # the workers' CPU is read from /proc in 10 ms ticks

    for name, value in costs.as_dict().items():
        assert 0 < value < 1000, name  # milliseconds of CPU per request / invocation, each really spent
