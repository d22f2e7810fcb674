#!/bin/bash
# First boot of a systemd lab host: prepares its root (the overlay's merged dir) for systemd as PID 1
# in a namespace. Units that would touch hardware, the shared kernel (clock, modules, binfmt, audit,
# debugfs) or reconfigure eth0 are masked; sshd and cron run as their own units.
# Usage: systemd-root.sh MERGED_ROOT
set -euo pipefail
m=$1
etc=$m/etc/systemd/system

masked=(
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-udev-trigger.service
  systemd-udev-settle.service getty.target getty@.service serial-getty@.service console-getty.service
  container-getty@.service getty-static.service systemd-timesyncd.service systemd-networkd.service
  systemd-networkd.socket systemd-networkd-wait-online.service systemd-resolved.service networking.service
  ifupdown-pre.service systemd-remount-fs.service systemd-modules-load.service kmod-static-nodes.service
  kmod.service systemd-random-seed.service systemd-hwdb-update.service systemd-firstboot.service
  systemd-pstore.service systemd-machine-id-commit.service systemd-binfmt.service
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount sys-kernel-debug.mount
  sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount dev-hugepages.mount
  systemd-journald-audit.socket auditd.service chrony.service chronyd.service ntp.service ntpsec.service
  apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
)
for u in "${masked[@]}"; do ln -sfn /dev/null "$etc/$u"; done
rm -f "$etc/getty.target.wants/getty@tty1.service" "$etc/sysinit.target.wants/systemd-timesyncd.service" \
  "$etc/sysinit.target.wants/systemd-pstore.service" "$etc/dbus-org.freedesktop.timesync1.service"
ln -sfn /lib/systemd/system/multi-user.target "$etc/default.target"

# sshd with the lab's host key (sshd_config.d drop-in) and its own log file; cron as cron.service.
mkdir -p "$etc/ssh.service.d" "$etc/multi-user.target.wants"
cat > "$etc/ssh.service.d/orch-lab.conf" <<'CONF'
[Service]
ExecStart=
ExecStart=/usr/sbin/sshd -D -E /var/log/orch-lab-sshd.log $SSHD_OPTS
CONF
for u in ssh cron; do ln -sfn "/lib/systemd/system/$u.service" "$etc/multi-user.target.wants/$u.service"; done
ln -sfn /lib/systemd/system/ssh.service "$etc/sshd.service"

# A machine id of its own (journald and D-Bus use it).
tr -d '-' < /proc/sys/kernel/random/uuid > "$m/etc/machine-id"
mkdir -p "$m/var/lib/dbus"
ln -sfn /etc/machine-id "$m/var/lib/dbus/machine-id"

# The control machine's image carries PostgreSQL's main cluster, enabled: a fresh server here has the
# package but no database running until a role enables it.
rm -f "$etc/multi-user.target.wants/postgresql.service"
