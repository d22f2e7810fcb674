#!/bin/bash
# host-cpu.sh PREFIX: CPU seconds used on the lab hosts orch-PREFIX-N since they started (or last reset).
# Puts their sshd listeners in a cpuacct cgroup orch-bench-PREFIX (what they fork later follows them:
# sessions, sudo, runners, every command) and prints what that cgroup has used. Needs cgroup v1 cpuacct
# (this machine); prints "-" without it. Not part of npm test: the benchmark's host CPU column.
pre=$1; cg=/sys/fs/cgroup/cpuacct/orch-bench-$pre
[ -d /sys/fs/cgroup/cpuacct ] || { echo -; exit 0; }
mkdir -p "$cg"
for pid in $(pgrep -f 'sshd: /usr/sbin/sshd -D.*listener'); do
  ns=$(ip netns identify "$pid" 2>/dev/null); [[ $ns == orch-${pre}-* ]] || continue
  grep -qx "$pid" "$cg/cgroup.procs" || echo "$pid" > "$cg/cgroup.procs"
done
awk '{ printf "%.2f\n", $1 / 1e9 }' "$cg/cpuacct.usage"
