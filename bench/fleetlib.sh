# Sourced by bench/casedb.sh and bench/threads.sh: the generated fleet they
# share. Sets W (wmihunt), out, and d (N hosts by wh-fleetgen: 5 planted
# look-alikes, a vendor subscription on half), made once per build.
# usage: . bench/fleetlib.sh BUILD NAME N
fleet_setup() {
  local build=$1 name=$2 n=$3
  out=${WH_BENCH_OUT:-$build/bench}
  mkdir -p "$out"
  W="$build/wmihunt"
  local g="$build/tests/gen/wh-fleetgen"
  [ -x "$W" ] && [ -x "$g" ] || { echo "bench $name: $W or $g not built" >&2; exit 1; }
  d="$out/casedb-fleet$n"
  if [ ! -f "$d/.done" ]; then
    rm -rf "$d"
    "$g" "$d" "$n" 5 $((n / 2)) >/dev/null
    touch "$d/.done"
  fi
}
