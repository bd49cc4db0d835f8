//! Freescale MPC85xx global utilities (GUTS, CCSR + 0xE_0000): reset control and the SoC's
//! identification registers.
//!
//! Only what the hypervisor uses: `RSTCR[HRESET_REQ]` asserts the SoC's hard reset (QEMU's
//! ppce500/mpc8544ds model it as a system reset request, so with `-no-reboot` QEMU exits), and
//! SVR names the SoC (MPC8544: 0x8034_00xx, 0x803C_00xx with the security engine).

use crate::mmio::Mmio;

/// Bytes of MMIO the block occupies.
pub const WINDOW_LEN: usize = 0x1000;
/// Offset of the block inside CCSR on every MPC85xx.
pub const CCSR_OFFSET: usize = 0xE_0000;

const SVR: usize = 0xA4; // system version
const RSTCR: usize = 0xB0; // reset control
const RSTCR_HRESET_REQ: u32 = 1 << 1;

/// The global utilities block.
#[derive(Clone, Copy, Debug)]
pub struct Guts {
    regs: Mmio,
}

impl Guts {
    /// `regs` must cover [`WINDOW_LEN`] bytes.
    pub fn new(regs: Mmio) -> Self {
        assert!(regs.len() >= WINDOW_LEN, "GUTS window too small");
        Self { regs }
    }

    /// The system version register (which SoC, which revision).
    pub fn system_version(&self) -> u32 {
        self.regs.read_be32(SVR)
    }

    /// Request a hard reset of the SoC. Returns if the request had no effect.
    pub fn request_reset(&self) {
        self.regs.write_be32(RSTCR, RSTCR_HRESET_REQ);
    }
}
