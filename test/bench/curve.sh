#!/bin/bash
# curve.sh "50 200 500 960" [FORKS] [ORCH]: the benchmark playbook on the first N hosts of a lab already up with
# the largest N (`ORCH_LAB_PREFIX=cv ORCH_LAB_SUBNET=10.236.0 orch lab up 960`, same variables set here): for
# each N the hosts are reset, then a first run and a converged run; prints wall, controller CPU (and per
# host-task: 30 tasks + facts), controller peak RSS, CPU used on the hosts (host-cpu.sh), round trips per host,
# KB the hosts received each (their eth0, SSH and TCP included) and unreachable hosts. Not part of npm test
# (README, Benchmark).
root=$(cd "$(dirname "$0")/../.." && pwd); forks=${2:-50}; orch=${3:-$root/bin/orch}
pre=${ORCH_LAB_PREFIX:?set the lab variables}; src=${ORCH_LAB_INVENTORY:-$root/.orch/$pre-lab/inventory}
# bytes received on eth0 by hosts 1..N of the lab, together
rx() { for i in $(seq 1 "$1"); do ip netns exec "orch-$pre-$i" cat /sys/class/net/eth0/statistics/rx_bytes; done |
  awk '{ s += $1 } END { print s }'; }
for n in $1; do
  inv=$(mktemp); { echo '[lab]'; grep "^$pre[0-9]" "$src" | head -"$n"; sed -n '/^\[all:vars\]/,$p' "$src"; } > "$inv"
  "$root/bin/orch" lab reset $(seq -f "$pre%g" 1 "$n") > /dev/null || exit 1
  for kind in first converged; do
    h0=$("$root/test/bench/host-cpu.sh" "$pre"); b0=$(rx "$n"); log=$(mktemp)
    /usr/bin/time -f "%e %U %S %M" -o "$log.time" "$orch" run "$inv" "$root/test/bench/playbook.yml" --forks "$forks" --output json > "$log" 2>/dev/null
    h1=$("$root/test/bench/host-cpu.sh" "$pre"); b1=$(rx "$n"); read -r e u s m < <(tail -1 "$log.time")
    rt=$(grep '"recap"' "$log" | grep -o '"roundTrips":{[^}]*}' | grep -o ':[0-9]*' | tr -d ':' | awk '$1 > 0 { s += $1; n++ } END { printf "%.1f", s / n }')
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    echo "hosts=$n forks=$forks $kind wall=${e}s controller_cpu=${cpu}s per_host_task=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.2f", c * 1000 / (n * 31) }')ms rss=$((m / 1024))MB host_cpu=$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.1f", b - a }')s round_trips=$rt rx_per_host=$(((b1 - b0) / n / 1024))KB unreachable=$(grep -c '"status":"unreachable"' "$log") load=$(cut -d' ' -f1 /proc/loadavg)"
    rm -f "$log" "$log.time"
  done
  rm -f "$inv"
done
