#!/usr/bin/env bash
# MOF benchmark: a generated MOF of 100,000 instances (filters, consumers,
# bindings with aliases, concatenated strings, comments) and every corpus
# MOF, each parsed and drained 3 times (best time). One JSON line per file.
set -euo pipefail
BUILD=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
corpus="$here/../shared/corpus/mof"
out=${WH_BENCH_OUT:-$BUILD/bench}
mkdir -p "$out"
big="$out/big.mof"
if [ ! -f "$big" ]; then
  python3 - "$big" <<'PY'
import sys
with open(sys.argv[1], "w", newline="\r\n") as f:
    f.write('#pragma autorecover\n#pragma namespace("\\\\\\\\.\\\\root\\\\subscription")\n')
    for i in range(33334):
        f.write('// triad %d\ninstance of CommandLineEventConsumer as $c%d\n{\n    Name = "c%d";\n'
                '    CommandLineTemplate = "cmd.exe /c " "C:\\\\windows\\\\temp\\\\x%d.exe" /* split */ " -arg \\x41";\n'
                '    RunInteractively = false; KillTimeout = 0x10;\n};\n' % (i, i, i, i))
        f.write('instance of __EventFilter as $f%d\n{\n    Name = "f%d"; QueryLanguage = "WQL";\n'
                '    Query = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA \\"Win32_PerfFormattedData_PerfOS_System\\"";\n};\n' % (i, i))
        f.write('instance of __FilterToConsumerBinding { Filter = $f%d; Consumer = $c%d; };\n' % (i, i))
PY
fi
pin="taskset -c 0"
command -v taskset >/dev/null || pin=""
results="$out/mof.jsonl"
: >"$results"
files=("$big")
[ -d "$corpus" ] && while IFS= read -r f; do files+=("$f"); done < <(find "$corpus" -type f -iname '*.mof' | sort)
for f in "${files[@]}"; do
  $pin "$BUILD/bench/bench_mof" "$f" 3 | tee -a "$results"
done
