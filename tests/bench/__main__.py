"""``make bench``: the benchmarks, one after another."""

import sys

from tests.bench import cold_import_bench, history_bench, sandbox_bench, synth_bench

history_bench.main()
print()
imports_failed = cold_import_bench.main()
print()
synth_failed = synth_bench.main()
print()
sys.exit(sandbox_bench.main(sys.argv[1:]) or imports_failed or synth_failed)
