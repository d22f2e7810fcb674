#!/bin/bash
# Installs what orch and its lab need on a fresh Debian machine (run as root), then builds orch.
# Packages that roles install on lab hosts are only downloaded here: `apt` inside a lab host then
# installs them for real, offline, from the shared cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

# apt-utils, gnupg: the local signed apt repository of the apt_repository tests; iptables, ufw: the firewall modules.
# ansible (not only ansible-core): its collections (ansible.posix, community.general, ...) run the corpus roles for comparison.
CONTROL_PACKAGES=(openssh-server openssh-client sudo cron iproute2 curl procps tmux attr time ansible-core ansible python3-apt python3 tar xz-utils bzip2 unzip git openssl apt-utils gnupg iptables ufw strace)
LAB_PACKAGES=(postgresql postgresql-contrib varnish haproxy uwsgi uwsgi-emperor uwsgi-plugin-python3 python3-django python3-psycopg2 jq)
# What the public roles of the compatibility corpus (../shared/corpus/roles/MANIFEST.yml) install.
LAB_PACKAGES+=(postgresql-client auditd libpam-passwdqc kmod chrony logrotate postfix mailutils libsasl2-2 sasl2-bin libsasl2-modules locales tzdata redis-server ruby rubygems-integration)

if [ "$(id -u)" != 0 ]; then echo "setup: run as root (it installs Debian packages)" >&2; exit 1; fi

missing=()
for p in "${CONTROL_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
cached=1
for p in "${LAB_PACKAGES[@]}"; do ls /var/cache/apt/archives/"${p}"_*.deb >/dev/null 2>&1 || dpkg -s "$p" >/dev/null 2>&1 || cached=0; done

if [ ${#missing[@]} -gt 0 ] || [ $cached = 0 ]; then
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  # Services must not start on the control machine itself.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_added=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $policy_added = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
if [ $cached = 0 ]; then
  apt-get install -y -qq --download-only "${LAB_PACKAGES[@]}" >/dev/null
fi
# Keep downloaded packages: apt's docker-clean hook would delete them after each install.
rm -f /etc/apt/apt.conf.d/docker-clean
echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/99orch-keep-debs

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi
npm run build --silent
echo "setup: done"
