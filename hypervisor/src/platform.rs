//! The management plane's view of the machine: [`mgmt::Platform`] implemented on the real
//! hypervisor (board facts, guests through [`crate::vm`], the file store, the configuration
//! flash, the host's own IP: its tables and `/ping`), and [`mgmt::Terminal`] on the console.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use mgmt::{
    FileInfo, Flash, FlashError, GuestConfig, GuestId, GuestMemory, GuestStatus, ImportProgress,
    NetworkConfig, Platform, PlatformError, PortInfo, SystemInfo, Terminal,
};

use mgmt::platform::{Neighbor, PingError, PingEvent, PingRequest};

use crate::board::{Board, ConfigFlash};
use crate::vm::{self, Manager};
use crate::{console, heap, time};

/// What the user asked the machine to do once the shell has finished talking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerRequest {
    Reboot,
    Shutdown,
}

/// The hypervisor as the management plane's platform.
pub struct HvPlatform {
    board: &'static dyn Board,
    pub vms: Manager,
    flash: Option<FlashAdapter>,
    pub power: Option<PowerRequest>,
}

impl HvPlatform {
    pub fn new(board: &'static dyn Board, vms: Manager) -> Self {
        let flash = board.config_flash().map(FlashAdapter);
        Self {
            board,
            vms,
            flash,
            power: None,
        }
    }
}

/// The console as the shell's terminal.
pub struct ConsoleTerminal;

impl Terminal for ConsoleTerminal {
    fn write(&mut self, bytes: &[u8]) {
        console::write_bytes(bytes);
    }
}

/// The board's configuration flash as the store's [`Flash`].
pub struct FlashAdapter(&'static dyn ConfigFlash);

impl Flash for FlashAdapter {
    fn size(&self) -> u32 {
        self.0.size()
    }
    fn erase_block_size(&self) -> u32 {
        self.0.erase_block_size()
    }
    fn earlier_copies(&self) -> &'static [(u32, u32)] {
        self.0.earlier_copies()
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        self.0.read(offset, buf).map_err(|_| FlashError::Device)
    }
    fn erase(&mut self, offset: u32) -> Result<(), FlashError> {
        self.0.erase(offset).map_err(|_| FlashError::Device)
    }
    fn program(&mut self, offset: u32, data: &[u8]) -> Result<(), FlashError> {
        self.0.program(offset, data).map_err(|_| FlashError::Device)
    }
}

impl Platform for HvPlatform {
    fn now_ms(&self) -> u64 {
        time::uptime_ms()
    }

    fn system_info(&self) -> SystemInfo {
        let info = self.board.info();
        let total = info.total_ram();
        // Free: guest RAM no guest holds, plus the hypervisor's free heap.
        let free = vm::memory().free + heap::free() as u64;
        SystemInfo {
            version: String::from(crate::VERSION),
            board_name: String::from(info.model),
            cpu: String::from(info.cpu),
            cpu_count: 1,
            cpu_frequency_mhz: info
                .cpu_hz
                .map(|hz| u32::try_from(hz / 1_000_000).unwrap_or(u32::MAX)),
            architecture_name: String::from(info.architecture),
            total_memory: total,
            free_memory: free,
        }
    }

    fn request_reboot(&mut self) {
        self.power = Some(PowerRequest::Reboot);
    }

    fn request_shutdown(&mut self) {
        self.power = Some(PowerRequest::Shutdown);
    }

    /// The CPU's free-running counter (CP0 Count, the e500 timebase) read now, with the timer
    /// ticks since boot: the management plane asks while a typed command runs, so the value
    /// depends on when a person typed. The boards have no real-time-clock driver yet; one
    /// would be mixed in here.
    fn entropy(&self) -> u64 {
        crate::arch::counter() ^ time::ticks().rotate_left(32)
    }

    fn guest_memory(&self) -> GuestMemory {
        vm::memory()
    }

    fn guest_define(&mut self, id: GuestId, config: &GuestConfig) -> Result<(), PlatformError> {
        self.vms
            .define(id, &vm::spec(config))
            .map_err(vm::platform_error)
    }

    fn guest_undefine(&mut self, id: GuestId) {
        self.vms.undefine(id);
    }

    fn guest_start(&mut self, id: GuestId) -> Result<(), PlatformError> {
        self.vms.start(id).map_err(vm::platform_error)
    }

    fn guest_shutdown(&mut self, id: GuestId) -> Result<(), PlatformError> {
        self.vms.shutdown(id).map_err(vm::platform_error)
    }

    fn guest_reboot(&mut self, id: GuestId) -> Result<(), PlatformError> {
        self.vms.reboot(id).map_err(vm::platform_error)
    }

    fn guest_status(&self, id: GuestId) -> Option<GuestStatus> {
        self.vms.status(id).map(vm::status)
    }

    fn guest_console_read(&mut self, id: GuestId, buf: &mut [u8]) -> usize {
        self.vms.console_read(id, buf)
    }

    fn guest_console_write(&mut self, id: GuestId, bytes: &[u8]) -> usize {
        self.vms.console_write(id, bytes)
    }

    fn guest_console_break(&mut self, id: GuestId) {
        self.vms.console_break(id);
    }

    fn image_import_start(&mut self, id: GuestId, file_name: &str) -> Result<(), PlatformError> {
        self.vms
            .import_start(id, file_name)
            .map_err(vm::platform_error)
    }

    fn image_import_poll(&mut self, id: GuestId) -> ImportProgress {
        vm::import_progress(self.vms.import_poll(id))
    }

    fn file_count(&self) -> usize {
        self.vms.files().count()
    }

    fn file(&self, index: usize) -> Option<FileInfo> {
        let f = self.vms.files().nth(index)?;
        Some(FileInfo {
            name: String::from(f.name),
            kind: file_kind(f.name),
            size: f.data.len() as u64,
            created: (f.created != 0).then_some(f.created),
        })
    }

    fn port_count(&self) -> usize {
        0
    }

    fn port(&self, _index: usize) -> Option<PortInfo> {
        None
    }

    fn apply_network(&mut self, config: &NetworkConfig) {
        self.vms.apply_network(&vm::network_plan(config));
    }

    fn arp_entries(&self) -> Vec<Neighbor<Ipv4Addr>> {
        self.vms.host_ip().arp_entries().collect()
    }

    fn nd_entries(&self) -> Vec<Neighbor<Ipv6Addr>> {
        self.vms.host_ip().nd_entries().collect()
    }

    fn ping_start(&mut self, request: &PingRequest) -> Result<(), Option<PingError>> {
        let now = self.vms.now_us();
        self.vms
            .host_ip_mut()
            .ping_start(now, request)
            .map_err(Some)
    }

    fn ping_next_event(&mut self) -> Option<PingEvent> {
        self.vms.host_ip_mut().ping_next_event()
    }

    fn ping_stop(&mut self) {
        self.vms.host_ip_mut().ping_stop();
    }

    fn flash(&mut self) -> Option<&mut dyn Flash> {
        self.flash.as_mut().map(|f| f as &mut dyn Flash)
    }
}

/// RouterOS-style type word for a file name (`.tgz file`, `.npk file`, ...).
fn file_kind(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => format!(".{ext} file"),
        _ => String::from("file"),
    }
}
