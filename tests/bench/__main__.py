"""``make bench``: the benchmarks, one after another."""

from tests.bench.history_bench import main

main()
