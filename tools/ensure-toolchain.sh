#!/bin/sh
# Ensures the build toolchain and QEMU are present; installs what is missing with apt.
#
# Cross builds need a Rust compiler with the standard library sources (`-Zbuild-std`). A rustup
# nightly with `rust-src` works as it is (set X_CROSS_CARGO=cargo, or just have rust-src in the
# active toolchain). Otherwise this script installs Debian's matched set (rustc-web, cargo-web,
# rust-web-src, and rust-web-clippy for `./x lint`'s cross clippy) plus lld, and QEMU 10 from
# bookworm-backports.
#
# Fast path: when everything is present it runs a handful of `command -v`/`test` checks and exits.
set -eu

say() { printf 'x: %s\n' "$*" >&2; }

need_pkgs=""
# Debian's Rust: /usr/bin/cargo + library sources under /usr/lib/rustlib/src.
if [ -z "${X_CROSS_CARGO:-}" ]; then
    if [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library/core ]; then
        need_pkgs="$need_pkgs rustc-web cargo-web rust-web-src"
    fi
    # `./x lint`: clippy of the same release, for the cross builds.
    [ -x /usr/bin/clippy-driver ] || need_pkgs="$need_pkgs rust-web-clippy"
fi
# `./x lint`: rustfmt for the host cargo (rustup installs `cargo-fmt`; on a machine with only
# Debian's Rust it is rustfmt-web).
command -v cargo-fmt >/dev/null 2>&1 || need_pkgs="$need_pkgs rustfmt-web"
command -v ld.lld >/dev/null 2>&1 || need_pkgs="$need_pkgs lld"
# llvm-objcopy/llvm-size: stripped images and section sizes.
command -v llvm-objcopy >/dev/null 2>&1 || need_pkgs="$need_pkgs llvm"
# The QEMU tests with real peers: network namespaces and tap devices (`ip`), `ping`.
command -v ip >/dev/null 2>&1 || need_pkgs="$need_pkgs iproute2"
command -v ping >/dev/null 2>&1 || need_pkgs="$need_pkgs iputils-ping"
# The routing tests: `traceroute` from a namespace through the box.
command -v traceroute >/dev/null 2>&1 || need_pkgs="$need_pkgs traceroute"
# The QEMU tests of files over the serial console: the ZMODEM peers `sz` and `rz`.
command -v sz >/dev/null 2>&1 || need_pkgs="$need_pkgs lrzsz"
# `/tool fetch mode=tftp`'s QEMU test: a TFTP server in a namespace (`in.tftpd`, in /usr/sbin).
[ -x /usr/sbin/in.tftpd ] || need_pkgs="$need_pkgs tftpd-hpa"
need_backports=""
qemu_ok() {
    command -v "$1" >/dev/null 2>&1 || return 1
    # QEMU 7.2 (bookworm main) lacks what we rely on; want 10.x from backports.
    v=$("$1" --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p')
    [ "${v:-0}" -ge 10 ]
}
qemu_ok qemu-system-mips || need_backports="$need_backports qemu-system-mips"
qemu_ok qemu-system-ppc || need_backports="$need_backports qemu-system-ppc"

if [ -z "$need_pkgs$need_backports" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
    command -v sudo >/dev/null 2>&1 || {
        say "missing packages:$need_pkgs$need_backports"
        say "run this script as root to install them (apt), or install them yourself"
        exit 1
    }
else
    SUDO=
fi

if [ -n "$need_backports" ]; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "adding the bookworm-backports apt suite (QEMU 10)"
        printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    fi
fi

say "installing:$need_pkgs$need_backports (apt)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ -n "$need_pkgs" ]; then
    $SUDO apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi
if [ -n "$need_backports" ]; then
    $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports $need_backports >/dev/null
fi
say "toolchain ready"
