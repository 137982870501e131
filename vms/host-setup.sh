#!/usr/bin/env bash
# Host set-up for the suite's Vagrant VMs (libvirt provider), as root on Debian 12.
# Idempotent: a second run installs nothing and starts nothing new.
#
#   bash vms/host-setup.sh          install, configure, start libvirt's daemons
#   bash vms/host-setup.sh stop     stop the daemons this script started (machines
#                                   without systemd; a systemd machine keeps its units)
#
# What it does (../shared/notes/vagrant.md says why):
# - Debian's vagrant + vagrant-libvirt, libvirt, qemu, debootstrap and the tools the
#   box build uses (grub-pc-bin, e2fsprogs, fdisk, qemu-utils);
# - qemu runs as root (/etc/libvirt/qemu.conf user/group): /dev/kvm is 0600 root here,
#   and with the default user libvirt re-probes QEMU's capabilities on every define
#   (about 30 s each time);
# - virtlogd, virtlockd and libvirtd: systemd units where systemd runs, else started by
#   hand with pid files in /run/strata-vms/ (so that `stop` ends only what it started);
# - the network: vagrant-libvirt defines and starts its own NAT network
#   (`vagrant-libvirt`, 192.168.121.0/24) at `vagrant up` and removes it at `destroy`;
#   this script only checks that libvirt answers and that the storage pool exists.
set -euo pipefail

RUN_DIR=/run/strata-vms
URI=qemu:///system

have_systemd() { [ -d /run/systemd/system ]; }

stop_started() {
  # newest first: libvirtd, then the helpers
  for d in libvirtd virtlockd virtlogd; do
    pidfile=$RUN_DIR/$d.pid
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$d" ]; then
      kill "$pid"
      for _ in $(seq 1 100); do [ -d /proc/"$pid" ] || break; sleep 0.1; done
      [ -d /proc/"$pid" ] && kill -9 "$pid"
      echo "host-setup: stopped $d ($pid)"
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = stop ]; then
  have_systemd || stop_started
  exit 0
fi

PACKAGES=(qemu-system-x86 qemu-utils debootstrap libvirt-daemon-system libvirt-clients
          vagrant vagrant-libvirt dnsmasq-base iptables ebtables rsync openssh-client
          grub-pc-bin grub2-common e2fsprogs fdisk)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "host-setup: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

changed=0
conf=/etc/libvirt/qemu.conf
if ! grep -Eq '^\s*user\s*=\s*"root"' "$conf"; then
  [ -f "$conf.strata-orig" ] || cp -p "$conf" "$conf.strata-orig"
  sed -i -E '/^\s*(user|group)\s*=/d' "$conf"
  printf '\n# strata vms/host-setup.sh: qemu as root (see ../shared/notes/vagrant.md)\nuser = "root"\ngroup = "root"\n' >> "$conf"
  changed=1
fi

if have_systemd; then
  systemctl enable --now virtlogd.socket virtlockd.socket libvirtd.service >/dev/null
  [ "$changed" = 1 ] && systemctl restart libvirtd.service
else
  mkdir -p "$RUN_DIR"
  running() { pgrep -x "$1" >/dev/null; }
  if [ "$changed" = 1 ] && running libvirtd; then
    # pick up the new qemu.conf; a libvirtd we did not start is restarted as well,
    # since it would re-probe QEMU on every define otherwise
    kill "$(pgrep -xo libvirtd)"; sleep 1
  fi
  running virtlogd  || { virtlogd -d -p "$RUN_DIR/virtlogd.pid"; echo "host-setup: started virtlogd"; }
  running virtlockd || { virtlockd -d -p "$RUN_DIR/virtlockd.pid"; echo "host-setup: started virtlockd"; }
  running libvirtd  || { libvirtd -d -p "$RUN_DIR/libvirtd.pid"; echo "host-setup: started libvirtd"; }
fi

for _ in $(seq 1 100); do virsh -c "$URI" version >/dev/null 2>&1 && break; sleep 0.2; done
virsh -c "$URI" version >/dev/null
# vagrant-libvirt keeps box and machine volumes in the pool `default`
if ! virsh -c "$URI" pool-info default >/dev/null 2>&1; then
  mkdir -p /var/lib/libvirt/images
  virsh -c "$URI" pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
fi
# (libvirtd may be autostarting it right now: then the start fails and the pool is up)
pool_running() { [[ "$(virsh -c "$URI" pool-info default 2>/dev/null)" =~ State:[[:space:]]+running ]]; }
pool_running || virsh -c "$URI" pool-start default >/dev/null 2>&1 || pool_running
echo "host-setup: libvirt answers on $URI (qemu as root; pool default)"
