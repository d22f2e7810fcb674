#!/bin/bash
# Outer process of one systemd lab host, inside its network namespace: boots host.sh in fresh mount, UTS
# and PID namespaces, and boots it again on the same layer when the host rebooted itself.
# A PID 1 that calls reboot(2) in a PID namespace ends the namespace, and the kernel reports it to the
# parent as death by SIGHUP (poweroff and halt: SIGINT); `unshare --fork` dies of the same signal, so
# status 129 is `reboot`/`systemctl reboot` inside the host. Anything else (poweroff, SIGKILL from
# `orch lab down|reset|reboot`) ends the host.
# Usage: boot.sh NAME STATE_DIR INIT
set -u
while :; do
  unshare --mount --uts --pid --fork --kill-child=SIGKILL --propagation private bash "$(dirname "$0")/host.sh" "$@"
  rc=$?
  [ "$rc" = 129 ] || exit "$rc"
  echo "$(date -Is) $1 rebooted itself: booting it again on the same layer"
done
