//! Management plane: RouterOS-style CLI, configuration model, persistence (portable, no_std + alloc)
#![no_std]
