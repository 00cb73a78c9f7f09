#!/usr/bin/env bash
# Installs the Debian packages secuxflow builds and tests with. Idempotent: a
# machine that already has them only pays for the dpkg check.
set -euo pipefail

packages=(
  # build: the XDP object and the Node-API addon
  clang llvm libbpf-dev libxdp-dev libelf-dev zlib1g-dev pkg-config bpftool xdp-tools iproute2
  # tests: real clients, capture tools, packet crafting
  tcpdump tcpreplay nmap hping3 python3-scapy tshark dnsutils dnsmasq-base curl openssl openssh-client openssh-server netcat-openbsd
  # the shipped logrotate file is checked with logrotate itself, the unit file with systemd-analyze
  logrotate systemd
  # node-gyp (the addon) and the header layout test compile C with these
  build-essential python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer once, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  # openssh-server's postinst starts (and enables) a system sshd; the tests
  # start their own, in a namespace. Debian's init script and systemd unit
  # both stand down while this file exists, so no system sshd runs, now or
  # after a reboot. Only when this script is the one installing sshd.
  if [[ " ${missing[*]} " == *" openssh-server "* ]]; then
    mkdir -p /etc/ssh
    touch /etc/ssh/sshd_not_to_be_run
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs is not mounted when these machines boot; the pinned maps live there.
if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
