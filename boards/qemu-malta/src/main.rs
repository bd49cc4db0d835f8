//! Board: QEMU malta (MIPS 24Kc, big-endian)
#![no_std]
#![no_main]
