//! Device drivers shared by boards: 16550 UART, i8259, MPIC, CFI flash
#![no_std]
