#!/usr/bin/env bash
# Build the Debian bookworm vagrant-libvirt box the suite's VMs boot, from Debian
# packages with debootstrap, and add it to Vagrant. Idempotent and cached:
#
#   bash vms/build-box.sh            prints the box name (strata-bookworm-<recipe hash>)
#
# The box is keyed by a hash of this file (the recipe): an unchanged recipe reuses
# $STRATA_BOX_CACHE/<name>.box (default /var/cache/strata/boxes) and the box already
# added to $VAGRANT_HOME (default /var/cache/strata/vagrant.d). The Debian mirror is read
# at run time from /etc/apt/sources.list.d/debian.sources (never written here).
#
# Everything the guest needs is baked in, so provisioning downloads nothing: docker.io
# (dockerd, containerd, runc), busybox-static, git (docker builds from git URLs),
# python3 3.11 with python3-venv and Debian's python3-aiohttp, python3-bcrypt,
# python3-requests, python3-seccomp and python3-dnslib (the engine's dependencies), tini (--init), the default seccomp
# profile (golang-github-containers-common's /usr/share/containers/seccomp.json), rsync (the project is synced in), dbus.
# AppArmor is off in the guest (apparmor=0), as on the hosts the suite runs on: docker.io
# without the apparmor package refuses to start containers on a kernel that has it on.
# Booting under TCG (software emulation): GRUB installed by hand (no udev for
# grub-install), timeout 0, serial console, timers the tests do not need masked.
# Progress goes to stderr; stdout is the box name only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${STRATA_BOX_CACHE:-/var/cache/strata/boxes}
export VAGRANT_HOME=${VAGRANT_HOME:-/var/cache/strata/vagrant.d}
SIZE_G=8
KEY=$(sha256sum "$here/build-box.sh" | cut -c1-12)
NAME=strata-bookworm-$KEY
BOX=$CACHE/$NAME.box
log() { echo "build-box: $*" >&2; }

mkdir -p "$CACHE" "$VAGRANT_HOME"
exec 9>"$CACHE/.lock"
flock 9   # one build at a time

if vagrant box list 2>/dev/null | grep -q "^$NAME "; then
  log "$NAME is in $VAGRANT_HOME (cached)"; echo "$NAME"; exit 0
fi

if [ ! -f "$BOX" ]; then
  start=$(date +%s)
  # the mirror of the suite "bookworm" in the host's deb822 sources
  MIRROR=$(awk -v RS= '/(^|\n)Suites:[^\n]*bookworm([ \n]|$)/ && !/bookworm-security/' \
             /etc/apt/sources.list.d/debian.sources | awk '/^URIs:/{print $2; exit}')
  [ -n "$MIRROR" ] || { log "no bookworm mirror in /etc/apt/sources.list.d/debian.sources"; exit 1; }
  WORK=$(mktemp -d "$CACHE/.build-$KEY-XXXXXX")
  LOOP=
  cleanup() {
    set +e
    for m in "$WORK/mnt" "$WORK/rootfs/proc" "$WORK/rootfs/sys" "$WORK/rootfs/dev/pts" "$WORK/rootfs/dev"; do
      mountpoint -q "$m" && umount -R "$m"
    done
    [ -n "$LOOP" ] && { partx -d "$LOOP" 2>/dev/null; losetup -d "$LOOP"; }
    rm -rf "$WORK"
  }
  trap cleanup EXIT
  R=$WORK/rootfs
  log "debootstrap bookworm from $MIRROR"
  debootstrap --variant=minbase \
    --include=systemd-sysv,udev,dbus,openssh-server,sudo,linux-image-cloud-amd64,ifupdown,isc-dhcp-client,iproute2,netbase,ca-certificates,python3,kmod,initramfs-tools \
    bookworm "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log" >&2; exit 1; }

  log "installing docker.io, busybox-static, git, python3 packages"
  cp /etc/apt/sources.list.d/debian.sources "$R/etc/apt/sources.list.d/debian.sources"
  rm -f "$R/etc/apt/sources.list"
  printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
  mount -t proc proc "$R/proc"; mount -t sysfs sys "$R/sys"
  mount --bind /dev "$R/dev"; mount --bind /dev/pts "$R/dev/pts"
  chroot "$R" apt-get update -q >"$WORK/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y -q --no-install-recommends \
    docker.io busybox-static git rsync procps python3-venv python3-aiohttp python3-bcrypt \
    python3-requests python3-seccomp python3-dnslib tini golang-github-containers-common iptables e2fsprogs less >>"$WORK/apt.log" 2>&1 || { tail -30 "$WORK/apt.log" >&2; exit 1; }
  chroot "$R" apt-get clean
  umount "$R/dev/pts" "$R/dev" "$R/sys" "$R/proc"
  rm -f "$R/usr/sbin/policy-rc.d"

  log "configuring the rootfs as a Vagrant base box"
  echo vagrant-bookworm > "$R/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 vagrant-bookworm\n' > "$R/etc/hosts"
  echo 'LABEL=root / ext4 defaults,noatime 0 1' > "$R/etc/fstab"
  printf 'auto lo\niface lo inet loopback\nauto eth0\niface eth0 inet dhcp\n' > "$R/etc/network/interfaces"
  chroot "$R" useradd -m -s /bin/bash -G sudo vagrant
  echo 'vagrant:vagrant' | chroot "$R" chpasswd
  echo 'root:vagrant' | chroot "$R" chpasswd
  echo 'vagrant ALL=(ALL) NOPASSWD:ALL' > "$R/etc/sudoers.d/vagrant"; chmod 440 "$R/etc/sudoers.d/vagrant"
  install -d -m 700 -o 1000 -g 1000 "$R/home/vagrant/.ssh"
  install -m 600 -o 1000 -g 1000 \
    "$(ls -d /usr/share/rubygems-integration/all/gems/vagrant-*/keys | head -1)/vagrant.pub" \
    "$R/home/vagrant/.ssh/authorized_keys"
  # UseDNS off; sessions for the suite's parallel workers (one connection each, many channels)
  printf 'UseDNS no\nMaxSessions 100\nMaxStartups 100:30:200\n' > "$R/etc/ssh/sshd_config.d/vagrant.conf"
  for s in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
           systemd-timesyncd.service; do
    chroot "$R" systemctl mask "$s" >/dev/null 2>&1 || true
  done
  chroot "$R" systemctl enable serial-getty@ttyS0.service >/dev/null 2>&1 || true
  # the registries the suite starts listen on 127.0.0.1 and are forwarded into the guest:
  # plain HTTP there is what dockerd allows for 127.0.0.0/8 by default; nothing else to set
  rm -rf "$R/var/lib/apt/lists/"* "$R/var/cache/apt/"*.bin

  log "disk image (GRUB by hand; no udev here)"
  truncate -s ${SIZE_G}G "$WORK/disk.raw"
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$WORK/disk.raw"
  LOOP=$(losetup -f --show -P "$WORK/disk.raw")
  partx -a "$LOOP" 2>/dev/null || partx -u "$LOOP"
  P=$(basename "$LOOP")p1
  [ -b "/dev/$P" ] || mknod "/dev/$P" b $(tr ':' ' ' < "/sys/block/$(basename "$LOOP")/$P/dev")
  mkfs.ext4 -q -L root "/dev/$P"
  mkdir -p "$WORK/mnt"; mount "/dev/$P" "$WORK/mnt"
  cp -a "$R/." "$WORK/mnt/"
  KVER=$(ls "$WORK/mnt/boot/" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
  mkdir -p "$WORK/mnt/boot/grub"; cp -r /usr/lib/grub/i386-pc "$WORK/mnt/boot/grub/"
  grub-mkimage -O i386-pc -o "$WORK/core.img" -p '(hd0,msdos1)/boot/grub' \
    biosdisk part_msdos ext2 search search_label linux normal serial terminal echo test
  dd if=/usr/lib/grub/i386-pc/boot.img of="$LOOP" bs=440 count=1 conv=notrunc status=none
  dd if="$WORK/core.img" of="$LOOP" bs=512 seek=1 conv=notrunc status=none
  cat > "$WORK/mnt/boot/grub/grub.cfg" <<EOG
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "Debian bookworm" {
  search --no-floppy --label --set=root root
  linux /boot/vmlinuz-$KVER root=LABEL=root ro console=tty0 console=ttyS0,115200 net.ifnames=0 biosdevname=0 mitigations=off apparmor=0 quiet
  initrd /boot/initrd.img-$KVER
}
EOG
  sync; umount "$WORK/mnt"; partx -d "$LOOP" 2>/dev/null || true; losetup -d "$LOOP"; LOOP=
  qemu-img convert -O qcow2 -c "$WORK/disk.raw" "$WORK/box.img"
  rm -f "$WORK/disk.raw"
  printf '{"provider":"libvirt","format":"qcow2","virtual_size":%s}\n' "$SIZE_G" > "$WORK/metadata.json"
  printf 'Vagrant.configure("2") do |config|\n  config.vm.provider :libvirt do |libvirt|\n    libvirt.driver = "qemu"\n  end\nend\n' > "$WORK/Vagrantfile"
  tar -C "$WORK" -cf "$BOX.partial" metadata.json Vagrantfile box.img
  mv "$BOX.partial" "$BOX"
  log "built $BOX ($(du -m "$BOX" | cut -f1) MiB) in $(( $(date +%s) - start )) s"
fi

vagrant box add --force --name "$NAME" "$BOX" >&2
log "$NAME added to $VAGRANT_HOME"
echo "$NAME"
