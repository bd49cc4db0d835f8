//! MetaROUTER virtual devices: vdma rings, control, console, virtual ethernet (portable, no_std)
#![no_std]
