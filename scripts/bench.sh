#!/usr/bin/env bash
# Times whole z2jh-policy processes against the performance budget in
# docs/hardening.md, next to `helm template` of the z2jh chart when helm is
# available, and measures peak memory.
#
# Usage: scripts/bench.sh [--bin PATH] [--helm PATH] [--chart DIR] [--runs N] [--batch N]
#   --bin PATH         z2jh-policy binary (env Z2JH_POLICY_BIN; default: `cargo build --release` and use target/release)
#   --helm PATH        helm binary (env HELM; default: `helm` on PATH; skipped when absent)
#   --chart DIR        unpacked jupyterhub chart for `helm template` (env HELM_CHART; skipped when absent)
#   --runs N           runs per measurement (env BENCH_RUNS; default 20)
#   --batch N          policies in the batch measurement (env BENCH_BATCH; default 1000)
#
# Uses hyperfine when installed (apt-get install hyperfine), else a timing loop,
# and GNU time (/usr/bin/time -v) for peak RSS. Prints one line per measurement
# with the target it is held to.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${Z2JH_POLICY_BIN:-}
helm=${HELM:-$(command -v helm || true)}
chart=${HELM_CHART:-}
runs=${BENCH_RUNS:-20}
batch=${BENCH_BATCH:-1000}

while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --helm) helm=$2; shift 2 ;;
    --chart) chart=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release --quiet)
  bin=${CARGO_TARGET_DIR:-$root/target}/release/z2jh-policy
fi
[ -x "$bin" ] || { echo "no z2jh-policy binary at $bin" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
policy=$root/examples/restricted-hub.yaml

# The batch: copies of the example, each with its own metadata.name.
mkdir -p "$work/policies"
for i in $(seq 1 "$batch"); do
  sed "s/name: research-hub/name: hub-$i/" "$policy" > "$work/policies/p$i.yaml"
done
"$bin" compile "$policy" -q -o "$work/one"
"$bin" compile "$policy" -q --chart-version 3.3.8 -o "$work/one-3.3.8"

have_hyperfine=$(command -v hyperfine || true)

# mean_seconds NAME PREPARE COMMAND: prints "mean min" in seconds.
mean_seconds() {
  local name=$1 prepare=$2 cmd=$3
  if [ -n "$have_hyperfine" ]; then
    hyperfine -N --style none --warmup 2 --runs "$runs" --prepare "$prepare" \
      --export-csv "$work/$name.csv" "$cmd" > /dev/null 2> "$work/$name.err"
    awk -F, 'NR==2 { printf "%.6f %.6f\n", $2, $7 }' "$work/$name.csv"
  else
    local total=0 min= t0 t1 dt
    for _ in $(seq 1 "$runs"); do
      sh -c "$prepare"
      t0=$(date +%s%N); sh -c "$cmd" > /dev/null 2>&1; t1=$(date +%s%N)
      dt=$((t1 - t0)); total=$((total + dt))
      if [ -z "$min" ] || [ "$dt" -lt "$min" ]; then min=$dt; fi
    done
    awk -v t="$total" -v n="$runs" -v m="$min" 'BEGIN { printf "%.6f %.6f\n", t / n / 1e9, m / 1e9 }'
  fi
}

# peak_rss_kib COMMAND...
peak_rss_kib() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }'
}

ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "meets" : "MISSES" }'; }

echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
echo "binary:  $bin ($("$bin" --version))"
echo "timing:  $([ -n "$have_hyperfine" ] && echo hyperfine || echo 'shell loop'), $runs runs each; mean (min)"
echo

# One policy, three ways: all outputs as one stream on stdout, into an
# output directory that is already up to date, and into a new directory
# (every file synced before it is renamed into place).
read -r one_mean one_min < <(mean_seconds compile-one "true" "$bin compile $policy -q")
"$bin" compile "$policy" -q -o "$work/same"
read -r same1_mean same1_min < <(mean_seconds compile-one-same "true" "$bin compile $policy -q -o $work/same")
read -r new1_mean new1_min < <(mean_seconds compile-one-new "rm -rf $work/o" "$bin compile $policy -q -o $work/o")
echo "compile, one policy, stdout:        $(ms "$one_mean") ($(ms "$one_min"))"
echo "compile, one policy, dir unchanged: $(ms "$same1_mean") ($(ms "$same1_min"))"
echo "compile, one policy, new dir:       $(ms "$new1_mean") ($(ms "$new1_min"))"

if [ -n "$helm" ] && [ -x "$helm" ] && [ -n "$chart" ] && [ -d "$chart" ]; then
  read -r helm_mean helm_min < <(mean_seconds helm "true" "$helm template jhub $chart -f $work/one/values.yaml")
  echo "helm template (same values):        $(ms "$helm_mean") ($(ms "$helm_min"))"
  for what in "stdout $one_mean" "dir unchanged $same1_mean" "new dir $new1_mean"; do
    t=${what##* }
    ratio=$(awk -v a="$t" -v b="$helm_mean" 'BEGIN { printf "%.3f", a / b }')
    echo "  compile (${what% *}) / helm template = $ratio (target <= 0.050): $(verdict "$ratio" 0.05)"
  done
else
  echo "helm template: skipped (give --helm and --chart)"
fi

read -r fresh_mean fresh_min < <(mean_seconds batch-fresh "true" "sh -c '$bin compile $work/policies -q -o \$(mktemp -d -p $work)/{name}'")
echo "compile, $batch policies, new dirs:  $(ms "$fresh_mean") ($(ms "$fresh_min")) (target <= 1000 ms): $(verdict "$fresh_mean" 1.0)"
"$bin" compile "$work/policies" -q -o "$work/batch/{name}"
read -r same_mean same_min < <(mean_seconds batch-same "true" "$bin compile $work/policies -q -o $work/batch/{name}")
echo "compile, $batch policies, unchanged: $(ms "$same_mean") ($(ms "$same_min")) (target <= 1000 ms): $(verdict "$same_mean" 1.0)"
read -r out_mean out_min < <(mean_seconds batch-stdout "true" "$bin compile $work/policies -q")
echo "compile, $batch policies, stdout:    $(ms "$out_mean") ($(ms "$out_min")) (target <= 1000 ms): $(verdict "$out_mean" 1.0)"

for v in 4.4.0 3.3.8; do
  values=$work/one/values.yaml
  [ "$v" = 3.3.8 ] && values=$work/one-3.3.8/values.yaml
  read -r val_mean val_min < <(mean_seconds "validate-$v" "true" "$bin validate --chart-version $v $values")
  echo "validate against chart $v:        $(ms "$val_mean") ($(ms "$val_min")) (target <= 50 ms): $(verdict "$val_mean" 0.05)"
done

rss_one=$(peak_rss_kib "$bin" compile "$policy" -q -o "$work/rss")
rss_val=$(peak_rss_kib "$bin" validate --chart-version 4.4.0 "$work/one/values.yaml")
rss_batch=$(peak_rss_kib "$bin" compile "$work/policies" -q -o "$work/rss-batch/{name}")
echo
echo "peak RSS, compile one policy:       $rss_one KiB (target <= 20480 KiB): $(verdict "$rss_one" 20480)"
echo "peak RSS, validate:                 $rss_val KiB"
echo "peak RSS, compile $batch policies:   $rss_batch KiB"
