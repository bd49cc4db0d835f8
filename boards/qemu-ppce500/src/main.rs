//! Board: QEMU ppce500 (e500v2)
#![no_std]
#![no_main]
