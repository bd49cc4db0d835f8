//! L2 switch: bridges, MAC learning with ageing, flooding, VLANs (portable, no_std)
#![no_std]
