//! The configuration store's flash on boards whose device tree lists a CFI NOR flash the
//! hypervisor may own ([`ConfigSetup::TreeNorFlash`]): QEMU ppce500's `-drive if=pflash`, at
//! the start of its platform bus (0xF_0000_0000, inside the [`DeviceWindow`]; 16 bits wide,
//! 64 KiB blocks). The whole device is the store's region. A real board's tree may list the
//! boot loader's flash instead, which must never be written: such a board says
//! [`ConfigSetup::None`].

use drivers::cfi_flash::CfiFlash;
use drivers::fsl_soc::NorFlash;
use hypervisor::board::{ConfigFlash, FlashFailure};

use crate::device_window::DeviceWindow;

/// Where a board keeps its configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigSetup {
    /// Nowhere yet (the configuration lives in RAM until the board's flash has a driver).
    None,
    /// The whole CFI NOR flash the device tree lists, when it is reachable.
    TreeNorFlash,
}

/// The store's region: a whole CFI flash.
pub struct ConfigNor(CfiFlash);

impl ConfigNor {
    /// The flash `nor` describes, if it answers the CFI query through the device window.
    pub fn probe(nor: NorFlash) -> Option<ConfigNor> {
        let len = usize::try_from(nor.size).ok()?;
        let mem = DeviceWindow::shared(nor.phys)?.registers(nor.phys, len)?;
        let flash = CfiFlash::probe(mem, usize::from(nor.bank_width), 1).ok()?;
        (u64::from(flash.geometry().size) == nor.size).then_some(ConfigNor(flash))
    }
}

impl ConfigFlash for ConfigNor {
    fn size(&self) -> u32 {
        self.0.geometry().size
    }
    fn erase_block_size(&self) -> u32 {
        self.0.geometry().erase_block
    }
    fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), FlashFailure> {
        self.0.read(offset, buf).map_err(|_| FlashFailure)
    }
    fn erase(&self, offset: u32) -> Result<(), FlashFailure> {
        self.0.erase(offset).map_err(|_| FlashFailure)
    }
    fn program(&self, offset: u32, data: &[u8]) -> Result<(), FlashFailure> {
        self.0.program(offset, data).map_err(|_| FlashFailure)
    }
}
