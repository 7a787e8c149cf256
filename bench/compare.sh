#!/usr/bin/env bash
# Benchmarks nemotron4j against llama.cpp (CPU build through node-llama-cpp 3.21.1) on the same GGUF file:
# prompt throughput (pp) and decode throughput (tg), tokens/s, and their ratio; with --depth D, both after D tokens
# already in the cache (llama-bench's -d).
#
# usage: bench/compare.sh (--model FILE.gguf | --arch ARCH --type TYPE [--layers N] [--seed S])
#                         [--pp 512] [--tg 128] [--depth 0] [--reps 3] [--threads 2] [--rounds 1]
# --rounds N runs the two engines N times, alternating, and reports the medians over the rounds and the ratio of each
# round: on a shared VM the memory bandwidth can move by half within minutes, which one pair of runs cannot tell from
# a difference between the engines.
# With --arch/--type the file is synthesized (nemotron4j synth) under $NEMOTRON4J_SYNTH_DIR (default
# /tmp/nemotron4j-synth) unless it is already there. node-llama-cpp is installed once into
# $NEMOTRON4J_BENCH_CACHE (default ~/.cache/nemotron4j-bench) from bench/package-lock.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
CACHE="${NEMOTRON4J_BENCH_CACHE:-$HOME/.cache/nemotron4j-bench}"
SYNTH_DIR="${NEMOTRON4J_SYNTH_DIR:-/tmp/nemotron4j-synth}"

model="" arch="" type="" layers="" seed=0 pp=512 tg=128 depth=0 reps=3 threads=2 rounds=1
while [ $# -gt 0 ]; do
  case "$1" in -h|--help) ;; *) [ $# -ge 2 ] || { echo "compare.sh: $1 needs a value" >&2; exit 2; } ;; esac
  case "$1" in
    --model) model="$2" ;;
    --arch) arch="$2" ;;
    --type) type="$2" ;;
    --layers) layers="$2" ;;
    --seed) seed="$2" ;;
    --pp) pp="$2" ;;
    --tg) tg="$2" ;;
    --depth) depth="$2" ;;
    --reps) reps="$2" ;;
    --threads) threads="$2" ;;
    --rounds) rounds="$2" ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

case "$rounds" in ''|*[!0-9]*|0) echo "compare.sh: --rounds needs a positive whole number" >&2; exit 2 ;; esac

if [ -z "$model" ]; then
  [ -n "$arch" ] && [ -n "$type" ] || { echo "compare.sh: give --model, or --arch and --type" >&2; exit 2; }
  mkdir -p "$SYNTH_DIR"
  model="$SYNTH_DIR/$arch-$type${layers:+-l$layers}-s$seed.gguf"
  if [ ! -f "$model" ]; then
    "$ROOT/nemotron4j" synth --arch "$arch" --type "$type" --seed "$seed" ${layers:+--layers "$layers"} --out "$model"
  fi
fi
[ -f "$model" ] || { echo "compare.sh: no such model file: $model" >&2; exit 2; }

# node-llama-cpp: installed outside the repo; bench/node_modules (git-ignored) links to it so the scripts find it.
if [ ! -d "$CACHE/node_modules/node-llama-cpp" ]; then
  mkdir -p "$CACHE"
  cp "$BENCH/package.json" "$BENCH/package-lock.json" "$CACHE/"
  (cd "$CACHE" && npm ci --no-audit --no-fund >&2)
fi
ln -sfn "$CACHE/node_modules" "$BENCH/node_modules"

echo "model $model: pp $pp, tg $tg, depth $depth, reps $reps, threads $threads, rounds $rounds" >&2
ours="" theirs=""
for ((round = 1; round <= rounds; round++)); do
  ours+="$("$ROOT/nemotron4j" bench --model "$model" --threads "$threads" --pp "$pp" --tg "$tg" --depth "$depth" \
    --reps "$reps" --json)"$'\n'
  theirs+="$(node "$BENCH/llamacpp-bench.mjs" "$model" --threads "$threads" --pp "$pp" --tg "$tg" --depth "$depth" \
    --reps "$reps")"$'\n'
done

node --input-type=module - "$ours" "$theirs" <<'JS'
const [ours, theirs] = process.argv.slice(2).map(s => s.trim().split("\n").map(line => JSON.parse(line)));
const median = values => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const of = (runs, key) => median(runs.map(run => run[key]));
const row = (name, key) => {
  const a = of(ours, key);
  const b = of(theirs, key);
  const each = ours.map((run, i) => (run[key] / theirs[i][key]).toFixed(3));
  const rounds = ours.length > 1 ? "   rounds " + each.join(" ") : "";
  console.log(`${name.padEnd(16)} ${a.toFixed(2).padStart(12)} ${b.toFixed(2).padStart(12)} ${(b > 0 ? a / b : NaN)
      .toFixed(3).padStart(10)}${rounds}`);
};
const first = ours[0];
console.log(`${first.arch} ${first.type}, ${first.layers} layers, ${first.threads} threads, ${ours.length} round(s)`);
console.log(`${"test".padEnd(16)} ${"nemotron4j".padStart(12)} ${"llama.cpp".padStart(12)} ${"ratio".padStart(10)}`);
const at = first.depth > 0 ? ` @ d${first.depth}` : "";
row(`pp${first.pp}${at}`, "pp_tok_s");
row(`tg${first.tg}${at}`, "tg_tok_s");
row("load s", "load_s");
const bandwidth = of(ours, "membw_gbs").toFixed(1);
console.log(`nemotron4j: rss ${of(ours, "rss_mb").toFixed(0)} MB, memory bw ${bandwidth} GB/s, decode at ${
    (100 * of(ours, "tg_bw_fraction")).toFixed(0)}% of it, weight cache ${first.weight_cache}`);
console.log(JSON.stringify({nemotron4j: ours, llamacpp: theirs}));
JS
