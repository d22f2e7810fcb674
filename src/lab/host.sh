#!/bin/bash
# PID 1 of one lab host. Runs inside `ip netns exec NS unshare --mount --uts --pid --fork`.
# Builds the host's private root (overlay of /), then either runs the machine's real sshd in it (init
# "initd": this script stays PID 1 and reaps) or execs systemd as the namespace's PID 1 (init "systemd").
# Usage: host.sh NAME STATE_DIR [initd|systemd]
# The production profile sets ORCH_LAB_SSH_PORT (sshd's port), ORCH_LAB_HOSTNAME and ORCH_LAB_SUDO_PASSWORD
# (deploy's password: sudo asks for it).
set -euo pipefail
name=$1 state=$2 init=${3:-initd}
dir=$state/hosts/$name
m=$dir/merged
hn=${ORCH_LAB_HOSTNAME:-$name}

hostname "$hn"
mkdir -p "$dir/upper" "$dir/work" "$m"
if [ ! -e "$dir/upper/etc/orch-lab-host" ]; then
  # The machine's own /tmp and /var/tmp must not show through: each host starts with empty ones.
  for t in tmp var/tmp; do
    mkdir -p "$dir/upper/$t"
    chmod 1777 "$dir/upper/$t"
    setfattr -n trusted.overlay.opaque -v y "$dir/upper/$t"
  done
fi
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$m"

# An overlay of / covers only the root filesystem: give the host its own kernel views.
mount -t proc proc "$m/proc"
# Global sysctls (vm.*, fs.*, kernel.*) must never be changed from a lab host: /proc/sys is read-only,
# except net.*, which belongs to the host's own network namespace.
mount --bind "$m/proc/sys" "$m/proc/sys"
mount -o remount,bind,ro "$m/proc/sys"
mount --bind "$m/proc/sys/net" "$m/proc/sys/net"
mount -o remount,bind,rw "$m/proc/sys/net"
# The kernel's boot id is the machine's: each boot of a host gets its own (what Ansible's reboot module
# and journald compare), read-only like the real one.
cat /proc/sys/kernel/random/uuid > "$dir/boot_id"
mount --bind "$dir/boot_id" "$m/proc/sys/kernel/random/boot_id"
mount -o remount,bind,ro "$m/proc/sys/kernel/random/boot_id"
if [ "$init" = systemd ]; then
  # systemd must not see (or write to) the control machine's console, kmsg or block devices: a private /dev.
  mount -t tmpfs -o mode=0755,nosuid tmpfs "$m/dev"
  for d in null zero full random urandom tty; do
    touch "$m/dev/$d"
    mount --bind "/dev/$d" "$m/dev/$d"
  done
  touch "$m/dev/console"
  mount --bind /dev/null "$m/dev/console"
  mkdir -p "$m/dev/pts" "$m/dev/shm" "$m/dev/mqueue"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$m/dev/pts"
  ln -s pts/ptmx "$m/dev/ptmx"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$m/dev/shm"
  ln -s /proc/self/fd "$m/dev/fd"
  ln -s /proc/self/fd/0 "$m/dev/stdin"
  ln -s /proc/self/fd/1 "$m/dev/stdout"
  ln -s /proc/self/fd/2 "$m/dev/stderr"
else
  mount --rbind /dev "$m/dev"
fi
mount -t sysfs -o ro sysfs "$m/sys"
mount -t tmpfs -o mode=0755 tmpfs "$m/run"
mkdir -p "$m/run/sshd" "$m/run/lock"
# Hide the lab's private keys and the other hosts' layers.
mount -t tmpfs -o mode=0700 tmpfs "$m$state"
# The control machine's home directories leak in through the overlay (pyenv/cargo in .bashrc make
# every remote command slow): the host gets a pristine root home.
mount -t tmpfs -o mode=0700 tmpfs "$m/root"
cp /usr/share/base-files/dot.bashrc "$m/root/.bashrc"
cp /usr/share/base-files/dot.profile "$m/root/.profile"
if [ -d "$m/home" ]; then mount -t tmpfs -o mode=0755 tmpfs "$m/home"; fi

# First boot of this host: deploy user, host key, sshd drop-in. Later boots keep the upper layer.
if [ ! -e "$dir/upper/etc/orch-lab-host" ]; then
  rm -f "$m/usr/sbin/policy-rc.d"
  # An init.d host: PID 1 is not systemd, so /sbin/init must not name it either (Ansible's service_mgr
  # fact and service module would decide "systemd, offline" and start nothing).
  if [ "$init" != systemd ]; then rm -f "$m/usr/sbin/init"; fi
  install -m 0600 "$state/keys/$name" "$m/etc/ssh/orch_lab_host_ed25519_key"
  install -m 0644 "$state/keys/$name.pub" "$m/etc/ssh/orch_lab_host_ed25519_key.pub"
  cat > "$m/etc/ssh/sshd_config.d/00-orch-lab.conf" <<CONF
HostKey /etc/ssh/orch_lab_host_ed25519_key
PidFile /run/sshd.pid
UseDNS no
MaxSessions 100
MaxStartups 200:30:400
CONF
  if [ -n "${ORCH_LAB_SSH_PORT:-}" ]; then echo "Port $ORCH_LAB_SSH_PORT" >> "$m/etc/ssh/sshd_config.d/00-orch-lab.conf"; fi
  # The benchmark counts exec requests in sshd's log (DEBUG1 logs each one).
  if [ -n "${ORCH_LAB_SSHD_LOGLEVEL:-}" ]; then echo "LogLevel $ORCH_LAB_SSHD_LOGLEVEL" >> "$m/etc/ssh/sshd_config.d/00-orch-lab.conf"; fi
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$hn" > "$m/etc/hosts"
  echo "$hn" > "$m/etc/hostname"
  echo "$name" > "$m/etc/orch-lab-host"
  if [ "$init" = systemd ]; then bash "$(dirname "$0")/systemd-root.sh" "$m"; fi
fi
# /home is a tmpfs (the control machine's users stay out): recreate deploy's home each boot.
chroot "$m" /bin/bash -euc '
  id deploy >/dev/null 2>&1 || useradd -s /bin/bash deploy
  install -d -o deploy -g deploy -m 0755 /home/deploy
  install -d -o deploy -g deploy -m 0700 /home/deploy/.ssh
  cp /usr/share/base-files/dot.bashrc /home/deploy/.bashrc
  cp /usr/share/base-files/dot.profile /home/deploy/.profile
  chown deploy:deploy /home/deploy/.bashrc /home/deploy/.profile
  if [ -n "${ORCH_LAB_SUDO_PASSWORD:-}" ]; then
    echo "deploy:$ORCH_LAB_SUDO_PASSWORD" | chpasswd
    echo "deploy ALL=(ALL) ALL" > /etc/sudoers.d/orch-lab-deploy
  else
    echo "deploy ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/orch-lab-deploy
  fi
  chmod 0440 /etc/sudoers.d/orch-lab-deploy'
install -o "$(chroot "$m" id -u deploy)" -m 0600 "$state/id_ed25519.pub" "$m/home/deploy/.ssh/authorized_keys"

if [ "$init" = systemd ]; then
  # A cgroup of its own in the unified hierarchy, seen as "/" from inside (cgroup namespace): systemd runs
  # in unified mode there and never touches the control machine's cgroups (v1 controllers stay outside).
  # (`ip netns exec` mounted a fresh /sys here: reach the unified hierarchy through a private mount.)
  rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
  rel=${rel%/}/orch-lab-$name
  mkdir -p "$dir/cgroup2"
  mount -t cgroup2 cgroup2 "$dir/cgroup2"
  mkdir -p "$dir/cgroup2$rel"
  # After a reboot the cgroups of the last boot are left, empty (a cgroup with children takes no process).
  for _ in $(seq 50); do
    find "$dir/cgroup2$rel" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null && break
    sleep 0.1
  done
  echo "/sys/fs/cgroup/unified$rel" > "$state/run/$name.cgroup"
  echo $$ > "$dir/cgroup2$rel/cgroup.procs"
  umount "$dir/cgroup2"
  echo ready > "$state/run/$name.ready"
  exec unshare --cgroup --ipc /bin/bash -euc '
    mount -t cgroup2 -o nsdelegate cgroup2 "$1/sys/fs/cgroup"
    exec env -i container=orch-lab PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$1" /lib/systemd/systemd' _ "$m"
fi
chroot "$m" /usr/sbin/sshd -D -E /var/log/orch-lab-sshd.log &
echo ready > "$state/run/$name.ready"
# PID 1 of the namespace: reap orphans (daemons started by `service`) until the lab goes down.
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $! || true; done
