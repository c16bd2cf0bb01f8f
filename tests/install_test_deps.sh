#!/usr/bin/env bash
# What the test suite needs from Debian, installed when missing. `deno task test` runs this
# first: as root it installs the missing packages (apt-get) and mounts tracefs; otherwise it
# names the exact command to run and fails, so a newcomer never has to read .ci/run.
set -euo pipefail

# systemd: only for systemd-notify, which tests/watchdog_test.ts runs as a service would.
packages=(
  bash coreutils util-linux procps gcc libc6-dev redis-server redis-sentinel redis-tools bpftrace
  gdb gdbserver strace binutils systemd chromium linux-libc-dev-arm64-cross python3 socat tmux
  qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross nginx-light wrk postgresql curl
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The tests need these Debian packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "then run the tests as root (many start bpftrace, gdb and services as other users)." >&2
    exit 1
  fi
  echo "Installing ${#missing[@]} Debian packages the tests need: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpftrace's tracepoints need tracefs; mount it where Debian leaves it unmounted.
if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs nodev /sys/kernel/tracing || echo "Could not mount tracefs at /sys/kernel/tracing" >&2
fi
