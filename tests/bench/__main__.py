"""``make bench``: the benchmarks, one after another."""

import sys

from tests.bench import history_bench, sandbox_bench

history_bench.main()
print()
sys.exit(sandbox_bench.main(sys.argv[1:]))
