//! Board: MikroTik RB400 series (AR7161, MIPS 24Kc)
#![no_std]
#![no_main]
