#!/usr/bin/env bash
# Installs what wmihunt needs to build, test, fuzz and benchmark on Debian 12.
# Idempotent: packages already present are not touched, so a second run is quick.
# Works as root, or through sudo when it is available.
set -euo pipefail

# Build and test: compiler, CMake, unit-test framework, sanitizer runtimes.
pkgs=(build-essential cmake pkg-config libcmocka-dev clang libclang-rt-14-dev)
# Around the parsers (detect/output): well-kept Debian libraries.
pkgs+=(libsqlite3-dev libyaml-dev libpcre2-dev)
# lib/payload inflates gzip/deflate streams hidden in payloads.
pkgs+=(zlib1g-dev)
# lib/hunt hashes every evidence file with libcrypto (SHA extensions).
pkgs+=(libssl-dev)
# lib/source opens collections given as archives (zip, 7z, tar); the
# archive tests pack trees with Debian's zip and 7z.
pkgs+=(libarchive-dev zip p7zip-full)
# lib/source opens disk images: The Sleuth Kit (partition tables, NTFS;
# E01/VHD(X)/VMDK through libewf/libvhdi/libvmdk), libqcow, libvshadow.
# The image tests build NTFS volumes with ntfs-3g (mkntfs, libntfs-3g),
# partition tables with sfdisk, images with qemu-img and ewfacquire.
pkgs+=(libtsk-dev libqcow-dev libvshadow-dev libbfio-dev)
pkgs+=(ntfs-3g ntfs-3g-dev fdisk qemu-utils ewf-tools sleuthkit)
# Test oracles and reference tools (EVTX/registry), used when present.
pkgs+=(libevtx-utils libregf-utils python3 python3-evtx python3-yaml time)
# The HTML report is rendered in headless Chromium by tests/cli/test_html.py
# (large, but the browser test needs a real browser; it skips without one).
pkgs+=(chromium)
# make windows: Debian's mingw-w64 cross compiler and its zlib; libyaml,
# PCRE2 and SQLite are built from Debian's source packages (dpkg-source);
# the Windows build's tests run under wine.
pkgs+=(mingw-w64 libz-mingw-w64-dev dpkg-dev tcl wine wine64)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
