//! RouterOS-semantics RIB and fixed-capacity FIB (portable, no_std)
#![no_std]
