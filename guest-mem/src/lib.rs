//! Guest address newtypes and bounds-checked guest memory access (portable, no_std)
#![no_std]
