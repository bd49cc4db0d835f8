//! Board: MikroTik RB1100 (MPC8544, e500v2)
#![no_std]
#![no_main]
