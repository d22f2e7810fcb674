#!/bin/bash
# site.yml, first and converged run, on a plain 4-host systemd lab and on the production profile (bastion,
# port 2222, sudo password), both with inventory/production's group_vars. Not part of npm test.
# Usage: bash test/bench/production.sh   (env: BENCH_PREFIX, BENCH_SUBNET, BENCH_PROD_SUBNET, BENCH_INNER_SUBNET)
set -u
cd "$(dirname "$0")/../.."
npm run build >/dev/null
p=${BENCH_PREFIX:-obench}
tmp=$(mktemp -d)
recap() { grep '"type":"recap"' "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`${(r.durationMs/1000).toFixed(1)} s, round trips ${JSON.stringify(r.roundTrips)}`)})'; }
twice() { # LABEL INVENTORY [orch args...]
  local label=$1 inv=$2; shift 2
  for run in first converged; do
    local t0; t0=$(date +%s.%N)
    ./bin/orch apply "$inv" playbooks/site.yml --output json "$@" > "$tmp/$label-$run.json"
    echo "$label $run: rc=$? wall $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s; recap $(recap "$tmp/$label-$run.json")"
  done
}
( export ORCH_LAB_PREFIX=${p}a ORCH_LAB_SUBNET=${BENCH_SUBNET:-10.216.0} ORCH_LAB_DIR=/var/lib/orch-${p}a ORCH_LAB_INVENTORY=$tmp/plain/hosts
  mkdir -p "$tmp/plain" && cp -r inventory/production/group_vars "$tmp/plain/"
  ./bin/orch lab up 4 --init systemd >/dev/null && twice plain "$tmp/plain"
  ./bin/orch lab down >/dev/null )
( export ORCH_LAB_PREFIX=${p}b ORCH_LAB_SUBNET=${BENCH_PROD_SUBNET:-10.220.0} ORCH_LAB_INNER_SUBNET=${BENCH_INNER_SUBNET:-10.224.0} ORCH_LAB_DIR=/var/lib/orch-${p}b
  ./bin/orch lab up --profile production >/dev/null && twice production "$ORCH_LAB_DIR/production" --vault-password-file "$ORCH_LAB_DIR/vault-pass"
  ./bin/orch lab down >/dev/null )
rm -rf "$tmp"
