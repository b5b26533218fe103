#!/usr/bin/env bash
# Makes this machine able to run cinder container jobs with Podman, with no registry:
#   1. installs podman, runc and busybox-static (Debian) if missing;
#   2. writes a containers.conf drop-in that works in containers and VMs without systemd
#      (runc, cgroupfs, file events, no default ulimits);
#   3. starts Podman's Docker-compatible API (`podman system service`) on a unix socket,
#      unless something already answers there;
#   4. creates the image localhost/cinder-busybox:latest from /bin/busybox and its applet
#      links (`podman import` of a rootfs tarball), unless it exists;
#   5. prints the image id and the pinned reference for job specs.
# Idempotent: run it as often as you like. Needs root (or sudo).
#
# Environment: CINDER_PODMAN_SOCKET (default /run/podman/podman.sock; a unix:// prefix is
# accepted), CINDER_IMAGE (default localhost/cinder-busybox:latest).
set -euo pipefail

SOCKET=${CINDER_PODMAN_SOCKET:-/run/podman/podman.sock}
SOCKET=${SOCKET#unix://}
IMAGE=${CINDER_IMAGE:-localhost/cinder-busybox:latest}
CONF=/etc/containers/containers.conf.d/50-cinder.conf
LOG=/var/log/cinder-podman-service.log

say() { echo "podman-setup: $*"; }

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo --preserve-env=CINDER_PODMAN_SOCKET,CINDER_IMAGE bash "$0" "$@"
    fi
    say "needs root (or sudo) to install packages and open $SOCKET" >&2
    exit 1
fi

# 1. packages
missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
[ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (apt)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
    say "podman, runc and busybox are installed"
fi
# A dynamically linked busybox would not run inside the image, which has no libc.
ldd_out=$(LC_ALL=C ldd /bin/busybox 2>&1 || true)
if [[ "$ldd_out" != *"not a dynamic executable"* ]]; then
    say "/bin/busybox is not statically linked: installing busybox-static"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static
fi

# 2. containers.conf
want_conf='# Written by cinder scripts/podman-setup.sh: settings that let rootful Podman run
# without systemd (containers, CI machines).
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
mkdir -p "$(dirname "$CONF")"
if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$want_conf" ]; then
    say "$CONF is up to date"
else
    say "writing $CONF (runc, cgroupfs, file events, no default ulimits)"
    printf '%s\n' "$want_conf" >"$CONF"
fi
got=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.EventLogger}}')
if [ "$got" != "runc cgroupfs file" ]; then
    say "podman does not read $CONF (podman info says: $got)" >&2
    exit 1
fi

# 3. API service
answering() {
    curl -fsS --max-time 3 --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1
}
if ! command -v curl >/dev/null 2>&1; then
    say "installing curl (to probe the API socket)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl
fi
# A service started from a directory that was removed since (e.g. an earlier CI clone) still
# answers pings but cannot start containers ("write child: broken pipe"): restart it.
for pid in $(pgrep -f "podman system service.*unix://$SOCKET" || true); do
    if [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == *"(deleted)" ]]; then
        say "restarting the API service (pid $pid): its working directory was removed"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
done
if answering; then
    say "the API already answers on $SOCKET"
else
    say "starting 'podman system service --time=0 unix://$SOCKET' (log: $LOG)"
    mkdir -p "$(dirname "$SOCKET")"
    rm -f "$SOCKET"
    # From /, so that the service never runs in a directory that is later removed.
    (cd / && nohup setsid podman system service --time=0 "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null &)
    for _ in $(seq 1 50); do
        answering && break
        sleep 0.2
    done
    if ! answering; then
        say "the API did not come up on $SOCKET; see $LOG" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    say "the API answers on $SOCKET"
fi

# 4. image
if podman image exists "$IMAGE"; then
    say "image $IMAGE exists"
else
    say "creating $IMAGE from /bin/busybox ($(/bin/busybox --list | wc -l) applets)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    root=$work/rootfs
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/out"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
    echo 'root:x:0:' >"$root/etc/group"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$work/rootfs.tar" .
    podman import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' \
        "$work/rootfs.tar" "$IMAGE" >/dev/null
fi

# 5. what to pin
id=$(podman image inspect "$IMAGE" --format '{{.Id}}')
digest=$(podman image inspect "$IMAGE" --format '{{.Digest}}')
repo=${IMAGE%:*}
say "image id:     sha256:$id"
say "pin it as:    $repo@sha256:$id   (or by manifest digest: $repo@$digest)"
echo "$repo@sha256:$id"
