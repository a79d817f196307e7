#!/usr/bin/env bash
# Runs the libFuzzer targets of a fuzz build (`make fuzz`; fuzz/README.md), two at a time.
#   fuzz/run.sh <build dir> <seconds per target> <target name>...
# Each target fuzzes a scratch copy of fuzz/corpus/<name> in <build dir>/fuzz-work/<name>, so
# the repository's seeds never grow, with fuzz/dict/<name>.dict when there is one. Prints each
# target's executions, exec/s and coverage from libFuzzer's final stats; exits 1 when any
# target found a crash, leak, timeout or out-of-memory, naming the reproducer:
#   <build dir>/fuzz/fuzz_<name> <reproducer>    # runs it once, with the sanitizer's report
set -uo pipefail

build=$1 seconds=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$build/fuzz-work
parallel=${FUZZ_PARALLEL:-2}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Inputs longer than libFuzzer's default 4 KiB reach the limits these targets guard: the
# chunk-size line (4 KiB) and trailers (8 KiB) of a request, metadata (16 KiB) of a job.
max_len() {
  case $1 in
    http | job_request | batch_line) echo 20000 ;;
    *) echo 4096 ;;
  esac
}

run_one() {
  local name=$1 dir=$work/$1
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp "$root/fuzz/corpus/$name/"* "$dir/corpus/"
  local args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
              -max_len="$(max_len "$name")" -artifact_prefix="$dir/artifacts/")
  [ -f "$root/fuzz/dict/$name.dict" ] && args+=(-dict="$root/fuzz/dict/$name.dict")
  # The outer timeout only guards against a fuzzer that never stops on its own.
  timeout $((seconds + 300)) "$build/fuzz/fuzz_$name" "${args[@]}" "$dir/corpus" \
    >"$dir/log" 2>&1
  echo $? >"$dir/rc"
}

pids=()
for name in "$@"; do
  if [ ! -x "$build/fuzz/fuzz_$name" ]; then
    echo "fuzz: $build/fuzz/fuzz_$name is not built" >&2
    exit 2
  fi
done
echo "fuzz: ${#@} targets, ${seconds}s each, $parallel at a time; logs in $work/<name>/log"
for name in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  echo "fuzz: running $name"
  run_one "$name" &
  pids+=($!)
done
wait

failed=0
printf '%-12s %-8s %12s %9s %7s %7s %7s\n' target result executions exec/s cov ft corpus
for name in "$@"; do
  dir=$work/$name
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  log=$dir/log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # The last status line ("#N DONE cov: X ft: Y corp: C/...") holds the final coverage.
  status=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status")
  result=ok
  artifacts=$(find "$dir/artifacts" -type f 2>/dev/null)
  if [ "$rc" != 0 ] || [ -n "$artifacts" ]; then
    result=FOUND
    failed=1
  fi
  printf '%-12s %-8s %12s %9s %7s %7s %7s\n' "$name" "$result" "${execs:--}" "${rate:--}" \
    "${cov:--}" "${ft:--}" "${corp:--}"
done
if [ "$failed" != 0 ]; then
  for name in "$@"; do
    dir=$work/$name
    artifacts=$(find "$dir/artifacts" -type f 2>/dev/null)
    [ "$(cat "$dir/rc" 2>/dev/null)" = 0 ] && [ -z "$artifacts" ] && continue
    echo
    echo "fuzz: $name failed (exit $(cat "$dir/rc" 2>/dev/null)); log: $dir/log"
    grep -m4 -E 'ERROR: |runtime error|Assertion|assertion|terminate called|what\(\)|__builtin_trap|SUMMARY' "$dir/log"
    for a in $artifacts; do
      echo "  reproducer: $a"
      echo "  replay:     $build/fuzz/fuzz_$name $a"
    done
  done
  exit 1
fi
