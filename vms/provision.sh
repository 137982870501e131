#!/bin/bash
# Provision the suite's VM (run by Vagrant as root): the strata engine from the
# project synced to $1, dockerd running, root reachable with the vagrant user's key.
# Nothing is downloaded when the box has the packages baked in (vms/build-box.sh).
set -euo pipefail
PROJECT=$1
PACKAGES="docker.io busybox-static git rsync procps python3-venv python3-aiohttp python3-bcrypt python3-requests python3-seccomp python3-dnslib tini golang-github-containers-common"
missing=$(for p in $PACKAGES; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done)
if [ -n "$missing" ]; then   # only boxes other than ours (VirtualBox's debian/bookworm64)
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# the suite connects as root (commands, files, forwarded ports on one connection)
install -d -m 700 /root/.ssh
install -m 600 /home/vagrant/.ssh/authorized_keys /root/.ssh/authorized_keys

# the engine: a venv over Debian's python3-aiohttp/bcrypt/requests, the project on its
# path, and the `strata` console script the project's pyproject declares
VENV=$PROJECT/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv --system-site-packages --without-pip "$VENV"
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PROJECT" > "$site/strata-project.pth"
cat > "$VENV/bin/strata" <<EOS
#!$VENV/bin/python
import sys
from reference_impl.cli import entry
sys.exit(entry())
EOS
chmod 755 "$VENV/bin/strata"
"$VENV/bin/python" -m compileall -q "$PROJECT/reference_impl" >/dev/null || true

systemctl enable --now containerd docker >/dev/null 2>&1 || systemctl start docker
for _ in $(seq 1 300); do docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break; sleep 0.2; done
echo "provision: docker $(docker version --format '{{.Server.Version}}'), $("$VENV/bin/strata" version --format '{{.Client.Version}}' 2>&1 | head -1) at $VENV/bin/strata"
