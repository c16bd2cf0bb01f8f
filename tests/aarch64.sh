#!/usr/bin/env bash
# Run the unit tests (lib/, _tools/) on the aarch64 build of Deno under qemu-user, as they
# would run on a Jetson Orin. Needs qemu-user-static, libc6-arm64-cross and
# libgcc-s1-arm64-cross (Debian). Type checking is architecture-independent and done
# by `deno task check` on the host, so it is skipped here (it is 10x slower under qemu).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(deno --version | head -n 1 | awk '{print $2}')
cache=${WRAPP_ARM64_DENO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wrapp/deno-arm64-$version}
arm_deno="$cache/package/deno"
if [ ! -x "$arm_deno" ]; then
  mkdir -p "$cache"
  # npm refuses to install a foreign-arch package (and its --cpu/--libc flags misjudge
  # glibc), so fetch the tarball and unpack it.
  (cd "$cache" && npm pack --silent "@deno/linux-arm64-glibc@$version" >/dev/null &&
    tar xzf deno-linux-arm64-glibc-"$version".tgz && rm deno-linux-arm64-glibc-"$version".tgz)
fi
sysroot=${WRAPP_ARM64_SYSROOT:-/usr/aarch64-linux-gnu}
command -v qemu-aarch64-static >/dev/null || {
  echo "tests/aarch64.sh: qemu-aarch64-static is missing: apt-get install qemu-user-static libc6-arm64-cross libgcc-s1-arm64-cross" >&2
  exit 1
}
arch=$(qemu-aarch64-static -L "$sysroot" "$arm_deno" eval 'console.log(Deno.build.arch)')
[ "$arch" = aarch64 ] || { echo "tests/aarch64.sh: expected aarch64 Deno, got \"$arch\"" >&2; exit 1; }
echo "aarch64 lane: Deno $version (Deno.build.arch = $arch) under qemu-aarch64-static"
WRAPP_TEST_EMULATED=1 exec qemu-aarch64-static -L "$sysroot" "$arm_deno" test -A --no-check lib/ _tools/ "$@"
