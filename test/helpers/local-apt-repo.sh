# Builds a signed apt repository at /srv/orch-repo on a lab host, offline: package orch-hello 1.0 in suite
# orchstable and 2.0 in suite orchbackports (NotAutomatic, as Debian's backports), signed with a throwaway
# gpg key whose public part is key.asc (armored) and key.gpg (binary keyring). Run as root.
set -e
R=/srv/orch-repo
rm -rf "$R"; mkdir -p "$R/build" "$R/pool"
export GNUPGHOME="$R/build/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg -q --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'orch test repo <repo@orch.test>' ed25519 sign never 2>/dev/null
gpg -q --armor --export > "$R/key.asc"
gpg -q --export > "$R/key.gpg"
gpg --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/{print $10; exit}' > "$R/fingerprint"
for v in 1.0 2.0; do
  d="$R/build/orch-hello-$v"; mkdir -p "$d/DEBIAN" "$d/usr/share/orch-hello"
  printf 'Package: orch-hello\nVersion: %s\nArchitecture: all\nMaintainer: orch <repo@orch.test>\nDescription: orch test package\n' "$v" > "$d/DEBIAN/control"
  echo "$v" > "$d/usr/share/orch-hello/version"
  dpkg-deb -Zgzip -b "$d" "$R/pool/orch-hello_${v}_all.deb" >/dev/null
done
for s in orchstable:1.0 orchbackports:2.0; do
  suite=${s%%:*}; v=${s##*:}; dir="$R/dists/$suite/main/binary-all"; mkdir -p "$dir"
  (cd "$R" && apt-ftparchive packages pool | awk -v v="$v" 'BEGIN{RS="";ORS="\n\n"} $0 ~ "\nVersion: " v "\n"' > "dists/$suite/main/binary-all/Packages")
  extra=""; [ "$suite" = orchbackports ] && extra="-o APT::FTPArchive::Release::NotAutomatic=yes -o APT::FTPArchive::Release::ButAutomaticUpgrades=yes"
  (cd "$R/dists/$suite" && apt-ftparchive -o APT::FTPArchive::Release::Suite="$suite" -o APT::FTPArchive::Release::Codename="$suite" \
    -o APT::FTPArchive::Release::Architectures="all amd64" -o APT::FTPArchive::Release::Components=main $extra release . > Release.tmp && mv Release.tmp Release)
  gpg -q --batch --yes --clearsign -o "$R/dists/$suite/InRelease" "$R/dists/$suite/Release"
done
chmod -R a+rX "$R"
