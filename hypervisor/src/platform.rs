//! The management plane's view of the machine: [`mgmt::Platform`] implemented on the real
//! hypervisor (board facts, guests through [`crate::vm`], the file store, the configuration
//! flash, the host's own IP: its tables and `/ping`), and [`mgmt::Terminal`] on the console.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mgmt::{
    CountedInterface, FileInfo, Flash, FlashError, GuestConfig, GuestId, GuestMemory, GuestStatus,
    ImportProgress, InterfaceStats, NetworkConfig, Platform, PlatformError, PortInfo, SystemInfo,
    Terminal,
};

use mgmt::platform::{Datagram, IfaceId, Neighbor, PingError, PingEvent, PingRequest, UdpError};

use crate::board::{Board, ConfigFlash};
use crate::disk::{HostDisk, RemoveError, TransferError};
use crate::vm::{self, Manager};
use crate::{console, heap, time};
use filestore::AreaId;
use vmm::{ImportStatus, MAX_GUESTS};

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
    /// The file store on the board's disk (`/file`, the guests' disks), when it has one.
    pub disk: Option<HostDisk>,
    /// Each guest slot's disk area.
    areas: [Option<AreaId>; MAX_GUESTS],
    /// The guest whose image is being unpacked into its area (one transaction: metafs waits).
    importing: Option<GuestId>,
}

impl HvPlatform {
    pub fn new(board: &'static dyn Board, vms: Manager) -> Self {
        let flash = board.config_flash().map(FlashAdapter);
        Self {
            board,
            vms,
            flash,
            power: None,
            disk: None,
            areas: [None; MAX_GUESTS],
            importing: None,
        }
    }

    /// Host-side disk work: the guests' pending metafs requests (not while an import holds the
    /// store's transaction open).
    pub fn serve_disks(&mut self) {
        if self.importing.is_none() {
            if let Some(disk) = self.disk.as_mut() {
                disk.serve(&mut self.vms);
            }
        }
    }

    fn area(&self, id: GuestId) -> Option<AreaId> {
        *self.areas.get(usize::from(id.0))?
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
            .map_err(vm::platform_error)?;
        let had = self.area(id);
        let Some(disk) = self.disk.as_mut() else {
            return Ok(());
        };
        let quota = config.disk_limit_kib.map(|kib| u64::from(kib) * 1024);
        match disk.guest_area(had, &config.name, quota) {
            Ok(area) => {
                if let Some(slot) = self.areas.get_mut(usize::from(id.0)) {
                    *slot = Some(area);
                }
                self.vms.set_disk(id, crate::disk::volume(area));
            }
            Err(e) => crate::println!("disk: no disk for {}: {e:?}", config.name),
        }
        Ok(())
    }

    fn guest_undefine(&mut self, id: GuestId) {
        self.vms.undefine(id);
        if self.importing == Some(id) {
            self.importing = None;
            if let Some(disk) = self.disk.as_mut() {
                let _ = disk.finish_import(false);
            }
        }
        let area = self.areas.get_mut(usize::from(id.0)).and_then(Option::take);
        if let (Some(disk), Some(area)) = (self.disk.as_mut(), area) {
            disk.remove_area(area);
        }
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
        let mut status = self.vms.status(id).map(vm::status)?;
        if let (Some(disk), Some(area)) = (self.disk.as_ref(), self.area(id)) {
            if let Some(used) = disk.used(area) {
                status.used_disk_kib = used.div_ceil(1024);
            }
            let stats = self.vms.disk_stats(id).unwrap_or_default();
            status.disk_reads = stats.disk_reads;
            status.disk_writes = stats.disk_writes;
        }
        Some(status)
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
        if self.importing.is_some() {
            return Err(PlatformError::WrongState);
        }
        self.vms
            .import_start(id, file_name)
            .map_err(vm::platform_error)?;
        let area = self.area(id);
        if let (Some(disk), Some(_)) = (self.disk.as_mut(), area) {
            disk.begin_import().map_err(|_| PlatformError::Hardware)?;
            self.importing = Some(id);
        }
        Ok(())
    }

    fn image_import_poll(&mut self, id: GuestId) -> ImportProgress {
        let area = self.area(id);
        let status = match (self.importing, self.disk.as_mut(), area) {
            (Some(importing), Some(disk), Some(area)) if importing == id => {
                let status = self.vms.import_poll_into(id, &mut disk.import_sink(area));
                match status {
                    ImportStatus::Working(_) => return vm::import_progress(status),
                    ImportStatus::Done => {
                        self.importing = None;
                        if disk.finish_import(true).is_err() {
                            return ImportProgress::Failed(PlatformError::Hardware);
                        }
                    }
                    ImportStatus::Failed(_) => {
                        self.importing = None;
                        let _ = disk.finish_import(false);
                    }
                }
                status
            }
            _ => self.vms.import_poll(id),
        };
        vm::import_progress(status)
    }

    fn file_count(&self) -> usize {
        match &self.disk {
            Some(disk) => disk.files().len(),
            None => self.vms.files().count(),
        }
    }

    fn file(&self, index: usize) -> Option<FileInfo> {
        if let Some(disk) = &self.disk {
            let f = disk.files().get(index)?;
            return Some(FileInfo {
                name: f.name.clone(),
                kind: file_kind(&f.name),
                size: f.size,
                created: (f.created != 0).then_some(f.created),
            });
        }
        let f = self.vms.files().nth(index)?;
        Some(FileInfo {
            name: String::from(f.name),
            kind: file_kind(f.name),
            size: f.data.len() as u64,
            created: (f.created != 0).then_some(f.created),
        })
    }

    fn file_remove(&mut self, name: &str) -> Result<(), PlatformError> {
        let Some(disk) = self.disk.as_mut() else {
            return Err(PlatformError::Unsupported);
        };
        if self.importing.is_some() {
            return Err(PlatformError::WrongState);
        }
        disk.remove(name).map_err(|e| match e {
            RemoveError::NoSuchFile => PlatformError::NoSuchFile,
            RemoveError::Store(_) => PlatformError::Hardware,
        })
    }

    fn file_receive_begin(&mut self, name: &str, size: Option<u64>) -> Result<(), PlatformError> {
        if self.importing.is_some() {
            return Err(PlatformError::WrongState);
        }
        let disk = self.disk.as_mut().ok_or(PlatformError::Unsupported)?;
        disk.receive_begin(name, size).map_err(transfer_error)
    }

    fn file_receive_write(&mut self, offset: u64, data: &[u8]) -> Result<(), PlatformError> {
        let disk = self.disk.as_mut().ok_or(PlatformError::Unsupported)?;
        disk.receive_write(offset, data).map_err(transfer_error)
    }

    fn file_receive_end(&mut self, keep: bool) -> Result<(), PlatformError> {
        let disk = self.disk.as_mut().ok_or(PlatformError::Unsupported)?;
        let name = disk.receiving_name().map(String::from);
        disk.receive_end(keep).map_err(transfer_error)?;
        if let (true, Some(name)) = (keep, name) {
            self.offer_image(&name);
        }
        Ok(())
    }

    fn file_read(
        &mut self,
        name: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, PlatformError> {
        let disk = self.disk.as_mut().ok_or(PlatformError::Unsupported)?;
        disk.read(name, offset, buf).map_err(transfer_error)
    }

    fn port_count(&self) -> usize {
        self.vms.net().port_count()
    }

    fn port(&self, index: usize) -> Option<PortInfo> {
        let port = self.vms.net().port(index)?;
        Some(PortInfo {
            mac: port.mac(),
            running: port.link_up(),
        })
    }

    fn interface_stats(&self, iface: CountedInterface) -> Option<InterfaceStats> {
        let CountedInterface::Port(index) = iface else {
            return None;
        };
        let c = self.vms.net().port_counters(index)?;
        Some(InterfaceStats {
            rx_bytes: c.rx_bytes,
            tx_bytes: c.tx_bytes,
            rx_packets: c.rx_frames,
            tx_packets: c.tx_frames,
            rx_drops: c.rx_drops,
            tx_drops: c.tx_drops,
            tx_queue_drops: c.tx_queue_drops,
            rx_errors: c.rx_errors,
            tx_errors: c.tx_errors,
        })
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

    fn forwarding_stats(&self) -> Option<vmm::forward::Stats> {
        self.vms.net().host().forwarder().map(|f| f.stats().clone())
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

    fn udp_open(&mut self, port: u16) -> Result<(), PlatformError> {
        self.vms.host_ip_mut().udp_bind(port);
        Ok(())
    }

    fn udp_send(
        &mut self,
        peer: IpAddr,
        port: u16,
        payload: &[u8],
        via: Option<(IfaceId, IpAddr)>,
    ) -> Result<(), UdpError> {
        let now = self.vms.now_us();
        let ip = self.vms.host_ip_mut();
        match via {
            Some(via) => ip.udp_send_via(now, via, peer, port, payload),
            None => ip.udp_send(now, peer, port, payload),
        }
    }

    fn udp_recv(&mut self, buf: &mut [u8]) -> Option<Datagram> {
        self.vms.host_ip_mut().udp_recv(buf)
    }

    fn udp_close(&mut self) {
        self.vms.host_ip_mut().udp_unbind();
    }

    fn flash(&mut self) -> Option<&mut dyn Flash> {
        self.flash.as_mut().map(|f| f as &mut dyn Flash)
    }
}

impl HvPlatform {
    /// An import archive (`.tgz`) just kept in the store becomes an image guests import and
    /// boot from, as the files read at boot are: its bytes are copied into RAM until the next
    /// boot (`vmm::image_files`), up to what the boot's RAM copy may take.
    fn offer_image(&mut self, name: &str) {
        let Some(disk) = self.disk.as_mut() else {
            return;
        };
        let Some(file) = disk.files().iter().find(|f| f.name == name) else {
            return;
        };
        let created = file.created;
        if !name.ends_with(".tgz") || file.size > crate::disk::RAM_STORE_MAX {
            return;
        }
        let Ok(size) = usize::try_from(file.size) else {
            return;
        };
        let mut data = alloc::vec![0u8; size];
        let mut at = 0;
        while at < size {
            match disk.read(name, at as u64, &mut data[at..]) {
                Ok(n) if n > 0 => at += n,
                _ => {
                    crate::println!("disk: {name} cannot be read; not available to guests");
                    return;
                }
            }
        }
        let data: &'static [u8] = alloc::boxed::Box::leak(data.into_boxed_slice());
        let name: &'static str = alloc::boxed::Box::leak(String::from(name).into_boxed_str());
        self.vms.add_file(guest_loader::store::StoredFile {
            name,
            created,
            data,
        });
    }
}

/// RouterOS-style type word for a file name (`.tgz file`, `.npk file`, ...).
fn transfer_error(e: TransferError) -> PlatformError {
    match e {
        TransferError::NoSuchFile => PlatformError::NoSuchFile,
        TransferError::NoSpace => PlatformError::NoSpace,
        TransferError::Busy => PlatformError::WrongState,
        TransferError::Store(filestore::Error::BadName | filestore::Error::NameTooLong) => {
            PlatformError::BadName
        }
        TransferError::Store(_) => PlatformError::Hardware,
    }
}

fn file_kind(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() => format!(".{ext} file"),
        _ => String::from("file"),
    }
}
