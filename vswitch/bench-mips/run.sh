#!/bin/sh
# Builds the bench for QEMU malta (MIPS 24Kc, big-endian) and runs it with -icount shift=0, so
# that CP0 Count measures executed instructions. Needs the cross toolchain the project uses
# (Debian's /usr/bin/cargo and rustc with the library sources, as `./x build` does), ld.lld and
# qemu-system-mips.
set -eu
cd "$(dirname "$0")"
target_dir=${CARGO_TARGET_DIR:-target}
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C linker=ld.lld -C link-arg=-Tlink.ld" /usr/bin/cargo build --release \
    --target mips-mti-none-elf -Zbuild-std=core -Zbuild-std-features=compiler-builtins-mem
exec qemu-system-mips -M malta -cpu 24Kc -m 64 -vga none -display none -serial stdio -monitor none \
    -nic none -no-reboot -icount shift=0 -kernel "$target_dir/mips-mti-none-elf/release/vswitch-bench-mips"
