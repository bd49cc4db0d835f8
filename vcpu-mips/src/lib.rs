//! MIPS32 guest CPU model: privileged-instruction decode, virtual CP0, virtual TLB, exception reflection (portable, no_std)
#![no_std]
