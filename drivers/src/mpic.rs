//! OpenPIC / Freescale MPIC (e500 SoCs): see the PowerPC boards.
