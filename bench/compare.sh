#!/usr/bin/env bash
# Benchmarks nemotron4j against llama.cpp (CPU build through node-llama-cpp 3.21.1) on the same GGUF file:
# prompt throughput (pp) and decode throughput (tg), tokens/s, and their ratio; with --depth D, both after D tokens
# already in the cache (llama-bench's -d).
#
# usage: bench/compare.sh (--model FILE.gguf | --arch ARCH --type TYPE [--layers N] [--seed S])
#                         [--pp 512] [--tg 128] [--depth 0] [--reps 3] [--threads 2]
# With --arch/--type the file is synthesized (nemotron4j synth) under $NEMOTRON4J_SYNTH_DIR (default
# /tmp/nemotron4j-synth) unless it is already there. node-llama-cpp is installed once into
# $NEMOTRON4J_BENCH_CACHE (default ~/.cache/nemotron4j-bench) from bench/package-lock.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
CACHE="${NEMOTRON4J_BENCH_CACHE:-$HOME/.cache/nemotron4j-bench}"
SYNTH_DIR="${NEMOTRON4J_SYNTH_DIR:-/tmp/nemotron4j-synth}"

model="" arch="" type="" layers="" seed=0 pp=512 tg=128 depth=0 reps=3 threads=2
while [ $# -gt 0 ]; do
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
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2 || { echo "compare.sh: $1 needs a value" >&2; exit 2; }
done

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

echo "model $model: pp $pp, tg $tg, depth $depth, reps $reps, threads $threads" >&2
ours="$("$ROOT/nemotron4j" bench --model "$model" --threads "$threads" --pp "$pp" --tg "$tg" --depth "$depth" \
  --reps "$reps" --json)"
theirs="$(node "$BENCH/llamacpp-bench.mjs" "$model" --threads "$threads" --pp "$pp" --tg "$tg" --depth "$depth" \
  --reps "$reps")"

node --input-type=module - "$ours" "$theirs" <<'JS'
const [ours, theirs] = process.argv.slice(2).map(s => JSON.parse(s));
const row = (name, a, b) => console.log(
    `${name.padEnd(16)} ${a.toFixed(2).padStart(12)} ${b.toFixed(2).padStart(12)} ${(b > 0 ? a / b : NaN).toFixed(3).padStart(10)}`);
console.log(`${ours.arch} ${ours.type}, ${ours.layers} layers, ${ours.threads} threads`);
console.log(`${"test".padEnd(16)} ${"nemotron4j".padStart(12)} ${"llama.cpp".padStart(12)} ${"ratio".padStart(10)}`);
const at = ours.depth > 0 ? ` @ d${ours.depth}` : "";
row(`pp${ours.pp}${at}`, ours.pp_tok_s, theirs.pp_tok_s);
row(`tg${ours.tg}${at}`, ours.tg_tok_s, theirs.tg_tok_s);
row("load s", ours.load_s, theirs.load_s);
console.log(`nemotron4j: rss ${ours.rss_mb} MB, memory bw ${ours.membw_gbs} GB/s, decode at ${(100 * ours.tg_bw_fraction).toFixed(0)}% of it, weight cache ${ours.weight_cache}`);
console.log(JSON.stringify({nemotron4j: ours, llamacpp: theirs}));
JS
