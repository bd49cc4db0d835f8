//! The hypervisor kernel: arch layer, traps, scheduling, console, board interface
#![no_std]
