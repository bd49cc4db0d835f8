//! The boundary between the management plane and the machine it runs on.
//!
//! The management plane never touches hardware. Everything it needs from the machine goes through
//! the object-safe [`Platform`] trait (system facts, guests, files, ports, network programming,
//! flash), and everything it prints goes to a [`Terminal`]. The hypervisor implements both for
//! real; the host simulator implements them with a documented model.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::network::NetworkConfig;

/// The host's IP endpoint's vocabulary (`/ip arp`, `/ipv6 neighbor`, `/ping`): its interface
/// ids are indexes into [`NetworkConfig::interfaces`].
pub use hostip::{
    Datagram, IfaceId, Neighbor, NeighborState, PingError, PingEvent, PingRequest, PingSummary,
    UdpError,
};

/// Raw byte sink for the console. Guest console output passes through unchanged, so this must
/// not interpret or translate anything.
pub trait Terminal {
    /// Writes bytes to the console (blocking or buffering is up to the implementation).
    fn write(&mut self, bytes: &[u8]);
}

/// Guest slots and how many there are: the guest crate's (`vmm`), re-exported where the
/// management plane's users expect them.
pub use vmm::{GuestId, MAX_GUESTS};

/// Mebibyte, for memory sizes.
pub const MIB: u64 = 1024 * 1024;

/// What the platform must know to run a guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestConfig {
    /// The `/metarouter` name. The guest's disk (its imported file tree) is kept under this name.
    pub name: String,
    /// RAM for the guest in MiB (16..=256).
    pub memory_mib: u32,
    /// Disk quota in KiB; `None` is unlimited.
    pub disk_limit_kib: Option<u32>,
    /// The file in the file store its image was imported from; `None` boots the built-in
    /// guest.
    pub image: Option<String>,
    /// The MAC the guest's kernel is told (`kmac=`) when it has no interface: derived from the
    /// box's identity and the slot (`crate::identity`), locally administered unicast.
    pub mac: [u8; 6],
}

/// Run state of a guest as `/metarouter print` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestState {
    Booting,
    Running,
    Rebooting,
    ShuttingDown,
    Stopped,
    Disabled,
}

impl GuestState {
    /// The RouterOS word for this state.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestState::Booting => "booting",
            GuestState::Running => "running",
            GuestState::Rebooting => "rebooting",
            GuestState::ShuttingDown => "shutting-down",
            GuestState::Stopped => "stopped",
            GuestState::Disabled => "disabled",
        }
    }

    /// Whether the guest holds its RAM in this state.
    pub fn holds_memory(self) -> bool {
        matches!(
            self,
            GuestState::Booting
                | GuestState::Running
                | GuestState::Rebooting
                | GuestState::ShuttingDown
        )
    }
}

/// Run-time facts about one guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestStatus {
    pub state: GuestState,
    /// KiB used by the guest's file tree.
    pub used_disk_kib: u64,
    pub disk_reads: u64,
    pub disk_writes: u64,
    /// Why it last stopped (e.g. "halted by guest", "guest fault: ..."), if it did.
    pub last_message: Option<String>,
}

/// RAM the platform can give to guests, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestMemory {
    pub total: u64,
    /// Not held by any guest right now.
    pub free: u64,
}

/// Progress of an image import started with [`Platform::image_import_start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportProgress {
    /// Still working; percent done (0..=100).
    Working(u8),
    /// Finished; the guest's disk now holds the image.
    Done,
    /// Gave up; the guest's disk is as it was.
    Failed(PlatformError),
}

/// Facts for `/system resource print`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInfo {
    /// Software version, e.g. "0.1.0".
    pub version: String,
    pub board_name: String,
    /// CPU model, e.g. "MIPS 24Kc V7.4".
    pub cpu: String,
    pub cpu_count: u32,
    /// Clock in MHz when known.
    pub cpu_frequency_mhz: Option<u32>,
    /// RouterOS architecture word: "mipsbe" or "powerpc".
    pub architecture_name: String,
    /// RAM of the whole machine and the part the hypervisor has not handed out, in bytes.
    pub total_memory: u64,
    pub free_memory: u64,
}

/// A file in the platform's file store (`/file print`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    /// RouterOS type word, e.g. ".tgz file", "directory".
    pub kind: String,
    pub size: u64,
    /// Seconds since 1970-01-01 UTC, when known.
    pub created: Option<u64>,
}

/// A physical Ethernet port, numbered from 0 in board order (ether1 is port 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortInfo {
    pub mac: [u8; 6],
    /// Link up.
    pub running: bool,
}

/// Traffic counters of an interface since boot (`/interface print stats`), seen from the host
/// side of the interface: `rx` is what arrived at it (for a vif: what its guest sent), `tx` what
/// it sent out (for a vif: what was delivered to its guest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
    /// Frames that arrived and were dropped (no room, not admitted).
    pub rx_drops: u64,
    /// Frames that could not be sent.
    pub tx_drops: u64,
    /// Frames dropped because the transmit queue was full.
    pub tx_queue_drops: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
}

/// An interface whose frames the platform may count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountedInterface {
    /// Physical port `index` (ether1 is 0).
    Port(usize),
    /// The host side of guest `guest`'s virtual interface `interface_id` (1..=7).
    Vif { guest: GuestId, interface_id: u8 },
}

/// Failures the platform reports; each says who is to blame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformError {
    /// Not enough free guest RAM (the user asked for more than there is).
    OutOfMemory,
    /// The guest slot is not defined (a management-plane bug).
    NoSuchGuest,
    /// The request does not fit the guest's current state (e.g. start while running).
    WrongState,
    /// The named file is not in the file store.
    NoSuchFile,
    /// The image is not a valid guest image (the file's fault).
    BadImage,
    /// The guest's disk quota is too small for the image.
    DiskFull,
    /// Not enough free space in the file store.
    NoSpace,
    /// Not a file name the store takes.
    BadName,
    /// This platform cannot do it.
    Unsupported,
    /// The hardware failed.
    Hardware,
}

impl PlatformError {
    /// Human-readable reason, printed after `failure: `.
    pub fn message(self) -> &'static str {
        match self {
            PlatformError::OutOfMemory => "not enough memory for guests",
            PlatformError::NoSuchGuest => "no such virtual machine",
            PlatformError::WrongState => "virtual machine is not in a state that allows this",
            PlatformError::NoSuchFile => "no such file",
            PlatformError::BadImage => "file is not a valid guest image",
            PlatformError::DiskFull => "image does not fit the disk size",
            PlatformError::NoSpace => "not enough free space on the disk",
            PlatformError::BadName => "invalid file name",
            PlatformError::Unsupported => "not supported on this machine",
            PlatformError::Hardware => "hardware error",
        }
    }
}

/// Errors of a [`Flash`] device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// Offset or length outside the device, or an erase not on a block boundary (caller's bug).
    OutOfRange,
    /// The device reported a failed erase or program (hardware).
    Device,
    /// Power was lost (only the simulated flash reports this).
    PowerLost,
}

/// Raw NOR-style flash region for the configuration store: erased bytes read 0xFF, programming
/// can only clear bits, erase works on whole blocks. The store keeps two copies with checksums
/// inside this region, so the region should be at least two erase blocks.
pub trait Flash {
    /// Size of the region in bytes (a multiple of the erase block size).
    fn size(&self) -> u32;
    /// Erase block size in bytes.
    fn erase_block_size(&self) -> u32;
    /// Reads `buf.len()` bytes at `offset`.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), FlashError>;
    /// Erases the block that starts at `offset` (must be block aligned).
    fn erase(&mut self, offset: u32) -> Result<(), FlashError>;
    /// Programs `data` at `offset` into erased flash (any alignment; the driver splits it).
    fn program(&mut self, offset: u32, data: &[u8]) -> Result<(), FlashError>;
    /// Where, inside this region, an earlier layout of the board kept copies in the store's
    /// first format (`(offset, size)` of each half): read when the region holds no
    /// configuration, so that a box keeps its configuration across the layout change.
    fn earlier_copies(&self) -> &'static [(u32, u32)] {
        &[]
    }
}

/// Everything the management plane needs from the machine. Object safe: the shell takes
/// `&mut dyn Platform` on every call and keeps no reference to it.
///
/// Calls happen only from inside [`crate::Shell::input`] and [`crate::Shell::poll`] (never
/// concurrently). None may block for long, except `Flash` writes.
pub trait Platform {
    /// Monotonic milliseconds since boot (uptime, login delays, timeouts).
    fn now_ms(&self) -> u64;
    /// Facts for `/system resource print`.
    fn system_info(&self) -> SystemInfo;
    /// Reboot the machine soon. Called after the user confirmed.
    fn request_reboot(&mut self);
    /// Power the machine off soon. Called after the user confirmed.
    fn request_shutdown(&mut self);
    /// Something that differs between boxes and between moments, for the box's identity
    /// (`crate::identity`): e.g. a free-running CPU counter read now (the management plane
    /// calls this while a typed command runs, an input-dependent moment), mixed with a
    /// real-time clock if the board has one. It need not be uniform: it is mixed before use.
    fn entropy(&self) -> u64;

    /// Guest RAM: total and currently free.
    fn guest_memory(&self) -> GuestMemory;
    /// Bytes the routing tables (the live RIB and its FIBs) may grow to, fixed at boot: by
    /// default the guest RAM less one smallest guest (`crate::rib_limits`).
    fn routing_memory(&self) -> u64 {
        crate::rib_limits::routing_memory(self.guest_memory().total)
    }
    /// Defines (or redefines) guest `id` with `config`; does not start it. A running guest keeps
    /// its current RAM until it is next started.
    fn guest_define(&mut self, id: GuestId, config: &GuestConfig) -> Result<(), PlatformError>;
    /// Stops guest `id` at once if needed and forgets it; its disk is deleted.
    fn guest_undefine(&mut self, id: GuestId);
    /// Boots a defined, stopped guest (state goes booting, then running).
    fn guest_start(&mut self, id: GuestId) -> Result<(), PlatformError>;
    /// Asks the guest to halt (state shutting-down, then stopped; forced after a timeout).
    fn guest_shutdown(&mut self, id: GuestId) -> Result<(), PlatformError>;
    /// Asks the guest to restart (state rebooting, then booting, running).
    fn guest_reboot(&mut self, id: GuestId) -> Result<(), PlatformError>;
    /// Current run state and disk counters of a defined guest (`None` if not defined).
    fn guest_status(&self, id: GuestId) -> Option<GuestStatus>;
    /// Takes pending output of the guest's console (the platform buffers a little while nobody
    /// reads). Returns the number of bytes written into `buf`.
    fn guest_console_read(&mut self, id: GuestId, buf: &mut [u8]) -> usize;
    /// Gives console input to the guest; returns how many bytes it accepted.
    fn guest_console_write(&mut self, id: GuestId, bytes: &[u8]) -> usize;
    /// Sends a break on the guest's console.
    fn guest_console_break(&mut self, id: GuestId);
    /// Starts importing image `file_name` from the file store onto the disk of defined guest `id`.
    fn image_import_start(&mut self, id: GuestId, file_name: &str) -> Result<(), PlatformError>;
    /// Advances and reports the import started for `id`.
    fn image_import_poll(&mut self, id: GuestId) -> ImportProgress;

    /// Number of files in the file store.
    fn file_count(&self) -> usize;
    /// File number `index` (0-based, stable order).
    fn file(&self, index: usize) -> Option<FileInfo>;
    /// Removes file `name` from the file store for good. The default: files cannot be removed
    /// (a store preloaded into RAM).
    fn file_remove(&mut self, _name: &str) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported)
    }

    /// Number of physical Ethernet ports (named ether1.. by default).
    /// `/file receive`: starts writing file `name` (`size` bytes when known) to a temporary
    /// place in the store; refused ([`PlatformError::NoSpace`]) when it cannot fit.
    fn file_receive_begin(&mut self, _name: &str, _size: Option<u64>) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported)
    }

    /// The received file's bytes at `offset` (always the end of what came before).
    fn file_receive_write(&mut self, _offset: u64, _data: &[u8]) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported)
    }

    /// Ends the received file: kept under its name (replacing a file there, at once) or
    /// dropped without a trace.
    fn file_receive_end(&mut self, _keep: bool) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported)
    }

    /// `/file send`: reads file `name` from `offset`; the bytes read (0 at its end).
    fn file_read(
        &mut self,
        _name: &str,
        _offset: u64,
        _buf: &mut [u8],
    ) -> Result<usize, PlatformError> {
        Err(PlatformError::Unsupported)
    }

    fn port_count(&self) -> usize;
    /// Port `index` (0-based).
    fn port(&self, index: usize) -> Option<PortInfo>;

    /// Programs the switch: the complete network configuration after a change.
    fn apply_network(&mut self, config: &NetworkConfig);

    /// Traffic counters of `iface` if the platform counts its frames. The default counts
    /// nothing (`print stats` then shows the interface without counters).
    fn interface_stats(&self, _iface: CountedInterface) -> Option<InterfaceStats> {
        None
    }

    /// The host's ARP table (`/ip arp print`). The default has none.
    fn arp_entries(&self) -> Vec<Neighbor<Ipv4Addr>> {
        Vec::new()
    }
    /// The host's IPv6 neighbour table (`/ipv6 neighbor print`). The default has none.
    fn nd_entries(&self) -> Vec<Neighbor<Ipv6Addr>> {
        Vec::new()
    }
    /// The forwarding path's counters (`/ip settings print`); `None` before the host had an
    /// interface, and on platforms that do not route.
    fn forwarding_stats(&self) -> Option<vmm::forward::Stats> {
        None
    }
    /// Starts a ping from the host (one at a time). `Err(None)`: this platform has no host IP.
    fn ping_start(&mut self, _request: &PingRequest) -> Result<(), Option<PingError>> {
        Err(None)
    }
    /// The next line of the running ping's output, if one is ready.
    fn ping_next_event(&mut self) -> Option<PingEvent> {
        None
    }
    /// Stops the running ping; its summary is the next event.
    fn ping_stop(&mut self) {}

    /// `/tool fetch`: opens the host's UDP socket on local `port` (one at a time, replacing
    /// an open one). The default: this platform has no host IP.
    fn udp_open(&mut self, _port: u16) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported)
    }
    /// Sends `payload` from the open socket to `peer`:`port`: through `via` (the interface
    /// and next hop the routes chose), else to `peer` on the connected network that holds it;
    /// once the next hop's MAC is known.
    fn udp_send(
        &mut self,
        _peer: IpAddr,
        _port: u16,
        _payload: &[u8],
        _via: Option<(IfaceId, IpAddr)>,
    ) -> Result<(), UdpError> {
        Err(UdpError::NotBound)
    }
    /// The next datagram received on the open socket, into `buf`.
    fn udp_recv(&mut self, _buf: &mut [u8]) -> Option<Datagram> {
        None
    }
    /// Closes the socket; its port answers port unreachable again.
    fn udp_close(&mut self) {}

    /// The configuration flash region, if the machine has one.
    fn flash(&mut self) -> Option<&mut dyn Flash>;
}
