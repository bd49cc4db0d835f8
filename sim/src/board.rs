//! The simulated board: a [`Platform`] with a virtual clock, `ports` Ethernet ports with fixed
//! MACs (all links up), 256 MiB of guest RAM, guests following the model in
//! [`crate::guest`], a small file store with two images, and a 4 MiB NOR flash in memory (64 KiB
//! erase blocks) for the configuration.
//!
//! Options for tests: `entropy_seed` (the box identity's source; 0 unless set) and
//! `refuse_start` (a board that cannot run guests).
//!
//! Image import model: a listed image file imports in four 100 ms steps (0, 25, 50, 75 %, then
//! done); `openwrt-mr-mips-rootfs.tgz` unpacks to 7383 KiB, `broken.tgz` fails at 50 % as not a
//! valid image. A fresh guest disk uses 3 KiB. Disks are kept by virtual machine name, across a
//! simulated reboot too.
//!
//! Traffic model (`/interface print stats`): each port whose link is up receives
//! [`PORT_RX_PER_S`] frames of [`PORT_RX_BYTES`] bytes and sends one frame of [`PORT_TX_BYTES`]
//! bytes per second of virtual time since boot; drops and errors stay 0. Guest models send and
//! receive no frames, so a vif of a defined guest counts 0; a vif of a slot without a guest is
//! not counted.

use std::collections::BTreeMap;

use mgmt::{
    CountedInterface, FileInfo, Flash, GuestConfig, GuestId, GuestMemory, GuestState, GuestStatus,
    ImportProgress, InterfaceStats, MemFlash, NetworkConfig, Platform, PlatformError, PortInfo,
    SystemInfo, MAX_GUESTS, MIB,
};

use crate::guest::GuestModel;

/// Guest RAM of the simulated board.
pub const GUEST_RAM: u64 = 256 * MIB;
/// Flash geometry.
pub const FLASH_BLOCK: u32 = 64 * 1024;
pub const FLASH_BLOCKS: u32 = 64;
/// Duration of one import step.
pub const IMPORT_STEP_MS: u64 = 100;
/// Frames a port with its link up receives per second (traffic model).
pub const PORT_RX_PER_S: u64 = 2;
/// Size of each frame a port receives (traffic model).
pub const PORT_RX_BYTES: u64 = 64;
/// Size of the frame a port with its link up sends each second (traffic model).
pub const PORT_TX_BYTES: u64 = 60;

/// A file of the simulated file store and what importing it does.
#[derive(Clone, Debug)]
pub struct SimFile {
    pub info: FileInfo,
    /// Unpacked size in KiB, or `None` if the file is not a valid image.
    pub unpacked_kib: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
struct Import {
    file: usize,
    started: u64,
}

/// The simulated board.
#[derive(Clone)]
pub struct SimBoard {
    pub now: u64,
    pub ports: Vec<PortInfo>,
    guests: Vec<Option<GuestModel>>,
    imports: BTreeMap<u8, Import>,
    /// Used KiB of each guest disk, by virtual machine name.
    pub disks: BTreeMap<String, u64>,
    pub files: Vec<SimFile>,
    pub flash: MemFlash,
    pub reboot_requested: bool,
    pub shutdown_requested: bool,
    /// The last network configuration applied, and how many times one was applied.
    pub network: NetworkConfig,
    pub network_applies: u64,
    /// What [`Platform::entropy`] derives from (with the virtual time): two boards with
    /// different seeds are two boxes with different identities; replays stay deterministic.
    pub entropy_seed: u64,
    /// A board that cannot run guests (as qemu-ppce500 today): every start fails with this.
    pub refuse_start: Option<PlatformError>,
    /// What [`Platform::routing_memory`] says (`None`: derived from the guest RAM).
    pub routing_memory: Option<u64>,
    /// The host's IP endpoint and the guests' peers (`crate::net`).
    pub net: crate::net::SimNet,
    /// Files over the console (`crate::transfer`).
    pub transfers: crate::transfer::SimTransfers,
}

impl SimBoard {
    /// A board with `ports` ports and an erased 4 MiB flash.
    pub fn new(ports: usize) -> SimBoard {
        SimBoard::with_flash(ports, MemFlash::new(FLASH_BLOCK, FLASH_BLOCKS))
    }

    /// A board with `ports` ports and the given flash.
    pub fn with_flash(ports: usize, flash: MemFlash) -> SimBoard {
        let ports = (0..ports)
            .map(|i| PortInfo {
                mac: [0x4C, 0x5E, 0x0C, 0x10, 0x00, 0x01 + i as u8],
                running: true,
            })
            .collect();
        let file = |name: &str, size: u64, unpacked_kib: Option<u64>| SimFile {
            info: FileInfo {
                name: String::from(name),
                kind: String::from(".tgz file"),
                size,
                created: Some(1_262_304_000 + 3_600),
            },
            unpacked_kib,
        };
        SimBoard {
            now: 0,
            ports,
            guests: (0..MAX_GUESTS).map(|_| None).collect(),
            imports: BTreeMap::new(),
            disks: BTreeMap::new(),
            files: vec![
                file("openwrt-mr-mips-rootfs.tgz", 2_584_131, Some(7383)),
                file("broken.tgz", 1_000, None),
            ],
            flash,
            reboot_requested: false,
            shutdown_requested: false,
            network: NetworkConfig::default(),
            network_applies: 0,
            entropy_seed: 0,
            refuse_start: None,
            routing_memory: None,
            net: crate::net::SimNet::default(),
            transfers: crate::transfer::SimTransfers::default(),
        }
    }

    /// Advances the guest models to the current time.
    pub fn tick(&mut self) {
        let now = self.now;
        for guest in self.guests.iter_mut().flatten() {
            guest.tick(now);
        }
        self.run_network();
    }

    /// Carries the host IP network's frames at the current time.
    fn run_network(&mut self) {
        for (id, guest) in GuestId::all().zip(&self.guests) {
            let address = guest
                .as_ref()
                .filter(|g| g.state == GuestState::Running)
                .and_then(|g| g.address);
            self.net.set_peer_if_changed(id, address);
        }
        self.net.run(self.now * 1000);
    }

    /// A simulated power cycle: guests and imports are gone; flash, disks and files stay.
    pub fn power_cycle(&mut self) {
        self.guests = (0..MAX_GUESTS).map(|_| None).collect();
        self.imports.clear();
        self.reboot_requested = false;
        self.network = NetworkConfig::default();
    }

    fn guest(&self, id: GuestId) -> Option<&GuestModel> {
        self.guests.get(usize::from(id.0)).and_then(Option::as_ref)
    }

    fn guest_mut(&mut self, id: GuestId) -> Result<&mut GuestModel, PlatformError> {
        self.guests
            .get_mut(usize::from(id.0))
            .and_then(Option::as_mut)
            .ok_or(PlatformError::NoSuchGuest)
    }

    fn used_memory(&self) -> u64 {
        self.guests
            .iter()
            .flatten()
            .filter(|g| g.state.holds_memory())
            .map(|g| u64::from(g.held_mib) * MIB)
            .sum()
    }
}

impl Platform for SimBoard {
    fn now_ms(&self) -> u64 {
        self.now
    }

    fn system_info(&self) -> SystemInfo {
        SystemInfo {
            version: format!("{} (simulator)", env!("CARGO_PKG_VERSION")),
            board_name: String::from("sim"),
            cpu: String::from("simulated"),
            cpu_count: 1,
            cpu_frequency_mhz: None,
            architecture_name: String::from("sim"),
            total_memory: 512 * MIB,
            free_memory: 512 * MIB - GUEST_RAM - 16 * MIB,
        }
    }

    fn request_reboot(&mut self) {
        self.reboot_requested = true;
    }

    fn request_shutdown(&mut self) {
        self.shutdown_requested = true;
    }

    fn entropy(&self) -> u64 {
        self.entropy_seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(self.now)
    }

    fn guest_memory(&self) -> GuestMemory {
        GuestMemory {
            total: GUEST_RAM,
            free: GUEST_RAM - self.used_memory(),
        }
    }

    fn routing_memory(&self) -> u64 {
        self.routing_memory
            .unwrap_or_else(|| mgmt::rib_limits::routing_memory(GUEST_RAM))
    }

    fn guest_define(&mut self, id: GuestId, config: &GuestConfig) -> Result<(), PlatformError> {
        let slot = self
            .guests
            .get_mut(usize::from(id.0))
            .ok_or(PlatformError::NoSuchGuest)?;
        match slot {
            Some(guest) => {
                if guest.config.name != config.name {
                    if let Some(used) = self.disks.remove(&guest.config.name) {
                        self.disks.insert(config.name.clone(), used);
                    }
                }
                guest.config = config.clone();
            }
            None => *slot = Some(GuestModel::new(config.clone())),
        }
        self.disks.entry(config.name.clone()).or_insert(3);
        Ok(())
    }

    fn guest_undefine(&mut self, id: GuestId) {
        if let Some(slot) = self.guests.get_mut(usize::from(id.0)) {
            if let Some(guest) = slot.take() {
                self.disks.remove(&guest.config.name);
            }
        }
        self.imports.remove(&id.0);
    }

    fn guest_start(&mut self, id: GuestId) -> Result<(), PlatformError> {
        if let Some(error) = self.refuse_start {
            self.guest(id).ok_or(PlatformError::NoSuchGuest)?;
            return Err(error);
        }
        let free = GUEST_RAM - self.used_memory();
        let now = self.now;
        let used = self
            .guest(id)
            .map(|g| self.disks.get(&g.config.name).copied().unwrap_or(0))
            .unwrap_or(0);
        let guest = self.guest_mut(id)?;
        if guest.state != GuestState::Stopped {
            return Err(PlatformError::WrongState);
        }
        if u64::from(guest.config.memory_mib) * MIB > free {
            return Err(PlatformError::OutOfMemory);
        }
        guest.start(now, used);
        Ok(())
    }

    fn guest_shutdown(&mut self, id: GuestId) -> Result<(), PlatformError> {
        let now = self.now;
        let guest = self.guest_mut(id)?;
        if !guest.state.holds_memory() {
            return Err(PlatformError::WrongState);
        }
        guest.shutdown(now, "shut down by host");
        Ok(())
    }

    fn guest_reboot(&mut self, id: GuestId) -> Result<(), PlatformError> {
        let now = self.now;
        let guest = self.guest_mut(id)?;
        if !guest.state.holds_memory() {
            return Err(PlatformError::WrongState);
        }
        guest.reboot(now);
        Ok(())
    }

    fn guest_status(&self, id: GuestId) -> Option<GuestStatus> {
        let guest = self.guest(id)?;
        Some(GuestStatus {
            state: guest.state,
            used_disk_kib: self.disks.get(&guest.config.name).copied().unwrap_or(0),
            disk_reads: guest.disk_reads,
            disk_writes: guest.disk_writes,
            last_message: guest.last_message.clone(),
        })
    }

    fn guest_console_read(&mut self, id: GuestId, buf: &mut [u8]) -> usize {
        self.guest_mut(id).map_or(0, |g| g.console_read(buf))
    }

    fn guest_console_write(&mut self, id: GuestId, bytes: &[u8]) -> usize {
        let now = self.now;
        match self.guest_mut(id) {
            Ok(guest) => {
                guest.console_input(bytes, now);
                bytes.len()
            }
            Err(_) => 0,
        }
    }

    fn guest_console_break(&mut self, id: GuestId) {
        if let Ok(guest) = self.guest_mut(id) {
            guest.console_break();
        }
    }

    fn image_import_start(&mut self, id: GuestId, file_name: &str) -> Result<(), PlatformError> {
        let file = self
            .files
            .iter()
            .position(|f| f.info.name == file_name)
            .ok_or(PlatformError::NoSuchFile)?;
        let guest = self.guest(id).ok_or(PlatformError::NoSuchGuest)?;
        if guest.state != GuestState::Stopped {
            return Err(PlatformError::WrongState);
        }
        self.imports.insert(
            id.0,
            Import {
                file,
                started: self.now,
            },
        );
        Ok(())
    }

    fn image_import_poll(&mut self, id: GuestId) -> ImportProgress {
        let Some(import) = self.imports.get(&id.0).copied() else {
            return ImportProgress::Failed(PlatformError::NoSuchGuest);
        };
        let step = (self.now - import.started) / IMPORT_STEP_MS;
        let file = self.files[import.file].clone();
        let Some(unpacked) = file.unpacked_kib else {
            if step >= 2 {
                self.imports.remove(&id.0);
                return ImportProgress::Failed(PlatformError::BadImage);
            }
            return ImportProgress::Working(step as u8 * 25);
        };
        if step < 4 {
            return ImportProgress::Working(step as u8 * 25);
        }
        self.imports.remove(&id.0);
        let Some(guest) = self
            .guests
            .get_mut(usize::from(id.0))
            .and_then(Option::as_mut)
        else {
            return ImportProgress::Failed(PlatformError::NoSuchGuest);
        };
        if guest
            .config
            .disk_limit_kib
            .is_some_and(|limit| u64::from(limit) < unpacked)
        {
            return ImportProgress::Failed(PlatformError::DiskFull);
        }
        guest.disk_writes += unpacked.div_ceil(4);
        let name = guest.config.name.clone();
        self.disks.insert(name, unpacked);
        ImportProgress::Done
    }

    fn file_count(&self) -> usize {
        self.files.len()
    }

    fn file(&self, index: usize) -> Option<FileInfo> {
        self.files.get(index).map(|f| f.info.clone())
    }

    fn file_receive_begin(&mut self, name: &str, size: Option<u64>) -> Result<(), PlatformError> {
        self.receive_begin(name, size)
    }

    fn file_receive_write(&mut self, offset: u64, data: &[u8]) -> Result<(), PlatformError> {
        self.receive_write(offset, data)
    }

    fn file_receive_end(&mut self, keep: bool) -> Result<(), PlatformError> {
        self.receive_end(keep)
    }

    fn file_read(
        &mut self,
        name: &str,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, PlatformError> {
        self.read_file(name, offset, buf)
    }

    fn file_remove(&mut self, name: &str) -> Result<(), PlatformError> {
        let index = self
            .files
            .iter()
            .position(|f| f.info.name == name)
            .ok_or(PlatformError::NoSuchFile)?;
        // An import reads its file until it is done.
        if self.imports.values().any(|i| i.file == index) {
            return Err(PlatformError::WrongState);
        }
        self.files.remove(index);
        self.transfers.contents.remove(name);
        for import in self.imports.values_mut() {
            if import.file > index {
                import.file -= 1;
            }
        }
        Ok(())
    }

    fn port_count(&self) -> usize {
        self.ports.len()
    }

    fn port(&self, index: usize) -> Option<PortInfo> {
        self.ports.get(index).copied()
    }

    fn apply_network(&mut self, config: &NetworkConfig) {
        self.network = config.clone();
        self.network_applies += 1;
        self.net.apply(config);
    }

    fn arp_entries(&self) -> Vec<mgmt::hostip::Neighbor<std::net::Ipv4Addr>> {
        self.net.host.arp_entries().collect()
    }

    fn nd_entries(&self) -> Vec<mgmt::hostip::Neighbor<std::net::Ipv6Addr>> {
        self.net.host.nd_entries().collect()
    }

    fn ping_start(
        &mut self,
        request: &mgmt::platform::PingRequest,
    ) -> Result<(), Option<mgmt::platform::PingError>> {
        self.net
            .host
            .ping_start(self.now * 1000, request)
            .map_err(Some)?;
        self.run_network();
        Ok(())
    }

    fn ping_next_event(&mut self) -> Option<mgmt::platform::PingEvent> {
        self.run_network();
        self.net.host.ping_next_event()
    }

    fn ping_stop(&mut self) {
        self.net.host.ping_stop();
    }

    fn udp_open(&mut self, port: u16) -> Result<(), PlatformError> {
        self.net.host.udp_bind(port);
        Ok(())
    }

    fn udp_send(
        &mut self,
        peer: std::net::IpAddr,
        port: u16,
        payload: &[u8],
        via: Option<(mgmt::platform::IfaceId, std::net::IpAddr)>,
    ) -> Result<(), mgmt::platform::UdpError> {
        let now = self.now * 1000;
        match via {
            Some(via) => self.net.host.udp_send_via(now, via, peer, port, payload)?,
            None => self.net.host.udp_send(now, peer, port, payload)?,
        }
        self.run_network();
        Ok(())
    }

    fn udp_recv(&mut self, buf: &mut [u8]) -> Option<mgmt::platform::Datagram> {
        self.run_network();
        self.net.host.udp_recv(buf)
    }

    fn udp_close(&mut self) {
        self.net.host.udp_unbind();
    }

    fn interface_stats(&self, iface: CountedInterface) -> Option<InterfaceStats> {
        match iface {
            CountedInterface::Port(index) => {
                let port = self.ports.get(index)?;
                let seconds = if port.running { self.now / 1000 } else { 0 };
                let rx_packets = seconds * PORT_RX_PER_S;
                Some(InterfaceStats {
                    rx_packets,
                    rx_bytes: rx_packets * PORT_RX_BYTES,
                    tx_packets: seconds,
                    tx_bytes: seconds * PORT_TX_BYTES,
                    ..InterfaceStats::default()
                })
            }
            CountedInterface::Vif { guest, .. } => {
                self.guest(guest).map(|_| InterfaceStats::default())
            }
        }
    }

    fn flash(&mut self) -> Option<&mut dyn Flash> {
        Some(&mut self.flash)
    }
}
