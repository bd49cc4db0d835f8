//! Guests on this machine: guest management (`vmm::Manager`, portable and host-tested) on the
//! hypervisor's hardware.
//!
//! [`HvMachine`] is the [`vmm::Machine`] the manager runs on: the CPU counter and the tick,
//! console input (which ends a guest's turn), the console for guest messages, partitions from
//! the RAM allocator shared with the heap ([`crate::ram`]) and the built-in guest. A partition's
//! bytes are handed over as a [`PartitionRam`], made by the one `unsafe` constructor that turns
//! a partition into a byte slice; guest management owns it while the guest holds its RAM and
//! only ever borrows it. The rest of this module translates between the management plane's
//! types (`mgmt`) and guest management's.

use core::fmt;
use core::ops::{Deref, DerefMut};

use guest_mem::PhysRange;
use mgmt::hostip::IfaceId;
use mgmt::network::NetInterfaceKind;
use mgmt::{
    GuestConfig, GuestMemory, GuestState, GuestStatus, ImportProgress, NetworkConfig, PlatformError,
};
use vmm::lifecycle::State;
use vmm::{
    BridgePortPlan, EtherPortPlan, GuestError, GuestReport, GuestSpec, HostAttach, ImportStatus,
    NetworkPlan, VifPlan, VlanParent, VlanPortPlan,
};
use vswitch::BridgeConfig;

use crate::{arch, console, time};

/// Guest management on this machine.
pub type Manager = vmm::Manager<HvMachine>;

/// The guest linked into this hypervisor image (the SDK's `hello`), or empty.
static BUILTIN_GUEST: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin-guest.elf"));

/// The hypervisor's machine, as guest management sees it.
pub struct HvMachine;

/// A guest partition's bytes: the only view of that RAM while a guest holds it.
pub struct PartitionRam(&'static mut [u8]);

impl PartitionRam {
    /// The bytes of `partition`.
    ///
    /// # Safety
    /// `partition` must be RAM the hypervisor maps (from `arch::guest_ram_map`) that nothing
    /// else reads or writes for as long as the value lives, and no other `PartitionRam` of it
    /// may exist: a partition the RAM allocator has just handed out, whose value goes back with
    /// it when it is freed.
    /// `len` is the partition's size, which the caller has checked fits `usize`.
    unsafe fn new(partition: PhysRange, len: usize) -> Self {
        // SAFETY: the caller's contract: mapped RAM, this value its only user.
        PartitionRam(unsafe { arch::guest_ram(partition.base, len) })
    }
}

impl Deref for PartitionRam {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0
    }
}

impl DerefMut for PartitionRam {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.0
    }
}

impl vmm::Machine for HvMachine {
    type Cpu = arch::GuestCpu;
    type Ram = PartitionRam;

    fn counter(&self) -> u64 {
        arch::counter()
    }

    fn uptime_ms(&self) -> u64 {
        time::uptime_ms()
    }

    fn host_work_pending(&self) -> bool {
        console::has_input() || crate::kernel::ethernet_pending()
    }

    /// A guest event on the console, on a line of its own (it may interrupt a half-typed
    /// command, as RouterOS's console log messages do): `metarouter: <text>`.
    fn log(&self, text: fmt::Arguments<'_>) {
        crate::print!("\nmetarouter: ");
        crate::println!("{}", text);
    }

    fn allocate_partition(
        &mut self,
        size: u64,
        align: u64,
        limit: u64,
    ) -> Option<(PhysRange, PartitionRam)> {
        // A partition the hypervisor could not address is as good as no room. (The allocator
        // hands out exactly `size` bytes.)
        let len = usize::try_from(size).ok()?;
        let partition = crate::ram::with(|p| p.allocate_aligned(size, align, limit))?.ok()?;
        // SAFETY: the RAM allocator manages only RAM from `arch::guest_ram_map` and has just
        // handed this partition out; it is not handed out again until `free_partition` returns
        // it, and the `PartitionRam` made here goes back (and is dropped) there.
        Some((partition, unsafe { PartitionRam::new(partition, len) }))
    }

    // The view ends before the allocator can hand the range out again.
    #[allow(clippy::drop_non_drop)]
    fn free_partition(&mut self, partition: PhysRange, ram: PartitionRam) {
        drop(ram);
        crate::ram::with(|p| p.free(partition));
    }

    fn builtin_guest(&self) -> &'static [u8] {
        BUILTIN_GUEST
    }

    fn cpu_hz(&self) -> Option<u64> {
        crate::board::installed().and_then(|board| board.info().cpu_hz)
    }
}

/// Guest RAM: all of it, and what no guest (and no heap region) holds.
pub fn memory() -> GuestMemory {
    crate::ram::with(|p| GuestMemory {
        total: p.total(),
        free: p.free_bytes(),
    })
    .unwrap_or(GuestMemory { total: 0, free: 0 })
}

/// A guest's definition, as guest management takes it.
pub fn spec(config: &GuestConfig) -> GuestSpec {
    GuestSpec {
        name: config.name.clone(),
        memory_mib: config.memory_mib,
        disk_limit_kib: config.disk_limit_kib,
        image: config.image.clone(),
        mac: config.mac,
    }
}

/// A guest-management failure as the management plane reports it.
pub fn platform_error(e: GuestError) -> PlatformError {
    match e {
        GuestError::OutOfMemory => PlatformError::OutOfMemory,
        GuestError::NoSuchGuest => PlatformError::NoSuchGuest,
        GuestError::WrongState => PlatformError::WrongState,
        GuestError::NoSuchFile => PlatformError::NoSuchFile,
        GuestError::BadImage => PlatformError::BadImage,
        GuestError::DiskFull => PlatformError::DiskFull,
        GuestError::Unsupported => PlatformError::Unsupported,
    }
}

/// A guest's run-time facts as `/metarouter print` shows them.
pub fn status(report: GuestReport) -> GuestStatus {
    GuestStatus {
        state: match report.state {
            State::Stopped => GuestState::Stopped,
            State::Booting => GuestState::Booting,
            State::Running => GuestState::Running,
            State::Rebooting => GuestState::Rebooting,
            State::ShuttingDown => GuestState::ShuttingDown,
            State::Disabled => GuestState::Disabled,
        },
        used_disk_kib: report.used_disk_kib,
        disk_reads: 0,
        disk_writes: 0,
        last_message: report.last_message,
    }
}

/// An import's progress as the management plane follows it.
pub fn import_progress(status: ImportStatus) -> ImportProgress {
    match status {
        ImportStatus::Working(percent) => ImportProgress::Working(percent),
        ImportStatus::Done => ImportProgress::Done,
        ImportStatus::Failed(e) => ImportProgress::Failed(platform_error(e)),
    }
}

/// The switch's part of the network configuration: bridges, vifs, physical ports (enabled or
/// not), which of them is in which bridge, and the host's own IP (its interfaces, addresses,
/// and where each interface with an address meets the switch: a bridge, or a vif or port in no
/// bridge).
pub fn network_plan(config: &NetworkConfig) -> NetworkPlan {
    let mut plan = NetworkPlan::default();
    let mut bridge_of = alloc::vec![None; config.interfaces.len()];
    let mut vif_of = alloc::vec![None; config.interfaces.len()];
    let mut ether_of = alloc::vec![None; config.interfaces.len()];
    for (i, iface) in config.interfaces.iter().enumerate() {
        match &iface.kind {
            NetInterfaceKind::Bridge { ageing_time_s, .. } => {
                bridge_of[i] = Some(plan.bridges.len());
                plan.bridges.push(BridgeConfig {
                    ageing_time: *ageing_time_s,
                    vlan_filtering: false,
                });
            }
            NetInterfaceKind::Vif { link } => {
                vif_of[i] = Some(plan.vifs.len());
                plan.vifs.push(VifPlan {
                    guest: link.guest,
                    interface: u16::from(link.interface_id),
                    mac: link.guest_mac,
                });
            }
            // A port bound to a guest (a static interface) is not switched yet.
            NetInterfaceKind::Ethernet { port, guest: None } => {
                ether_of[i] = Some(plan.ethers.len());
                plan.ethers.push(EtherPortPlan {
                    port: usize::from(*port),
                    bridge: None,
                    horizon: None,
                    enabled: iface.enabled,
                });
            }
            NetInterfaceKind::Ethernet { .. } => {}
            // VLANs are bridge ports (below) or the host's interfaces (further below).
            NetInterfaceKind::Vlan { .. } => {}
        }
    }
    for bp in &config.bridge_ports {
        let horizon = bp.horizon.and_then(|h| u16::try_from(h).ok());
        if let (Some(Some(bridge)), Some(Some(ether))) =
            (bridge_of.get(bp.bridge), ether_of.get(bp.interface))
        {
            plan.ethers[*ether].bridge = Some(*bridge);
            plan.ethers[*ether].horizon = horizon;
            continue;
        }
        let in_a_bridge = |i: usize| config.bridge_ports.iter().any(|p| p.interface == i);
        if let (Some(Some(bridge)), Some(NetInterfaceKind::Vlan { parent, vlan_id })) = (
            bridge_of.get(bp.bridge),
            config.interfaces.get(bp.interface).map(|i| &i.kind),
        ) {
            // A VLAN of a port or vif that is itself in no bridge.
            let parent = match (ether_of.get(*parent), vif_of.get(*parent)) {
                _ if in_a_bridge(*parent) => continue,
                (Some(Some(e)), _) => VlanParent::Ether(plan.ethers[*e].port),
                (_, Some(Some(v))) => VlanParent::Vif(*v),
                _ => continue,
            };
            plan.vlan_ports.push(VlanPortPlan {
                parent,
                vid: *vlan_id,
                bridge: *bridge,
                horizon,
            });
            continue;
        }
        let (Some(Some(bridge)), Some(Some(vif))) =
            (bridge_of.get(bp.bridge), vif_of.get(bp.interface))
        else {
            continue;
        };
        plan.ports.push(BridgePortPlan {
            vif: *vif,
            bridge: *bridge,
            horizon,
        });
    }
    let (ifaces, addrs) = config.host_ip();
    let in_bridge = |i: usize| config.bridge_ports.iter().any(|p| p.interface == i);
    let has_addr = |i: usize| addrs.iter().any(|a| usize::from(a.iface.0) == i);
    let enabled = |i: usize| ifaces.iter().any(|f| usize::from(f.id.0) == i);
    // The VLANs the host has an address on, and their parents (which need a place too).
    let vlan_of = |i: usize| match config.interfaces[i].kind {
        NetInterfaceKind::Vlan { parent, vlan_id } => Some((parent, vlan_id)),
        _ => None,
    };
    let live_vlans: alloc::vec::Vec<(usize, usize, u16)> = (0..config.interfaces.len())
        .filter(|&i| enabled(i) && has_addr(i) && !in_bridge(i))
        .filter_map(|i| vlan_of(i).map(|(parent, vid)| (i, parent, vid)))
        .filter(|&(_, parent, _)| enabled(parent))
        .collect();
    for iface in &ifaces {
        let i = usize::from(iface.id.0);
        if !has_addr(i) && !live_vlans.iter().any(|&(_, parent, _)| parent == i) {
            continue;
        }
        // An address on a vif or port that is a bridge port is not the host's: the bridge is.
        // So is a VLAN on such a port: the bridge takes the port's frames.
        let attach = match (bridge_of.get(i), vif_of.get(i), ether_of.get(i)) {
            (Some(Some(b)), _, _) => HostAttach::Bridge(*b),
            (_, Some(Some(v)), _) if !in_bridge(i) => HostAttach::Vif(*v),
            (_, _, Some(Some(e))) if !in_bridge(i) => HostAttach::Ether(*e),
            _ => continue,
        };
        plan.host.links.push((iface.id, attach));
    }
    for &(i, parent, vid) in &live_vlans {
        let (Ok(i), Ok(parent)) = (u16::try_from(i), u16::try_from(parent)) else {
            continue;
        };
        let attach = HostAttach::Vlan {
            parent: IfaceId(parent),
            vid,
        };
        plan.host.links.push((IfaceId(i), attach));
    }
    plan.host.static_arp = config.host_static_arp();
    let s = config.ip_settings;
    plan.host.forwarding = vmm::forward::Config {
        forward_v4: s.ip_forward,
        forward_v6: s.ipv6_forward,
        icmp_peer_interval_ms: s.icmp_rate_limit,
        icmp_type_mask: s.icmp_rate_mask,
        ..Default::default()
    };
    plan.host.ifaces = ifaces;
    plan.host.addrs = addrs;
    plan
}
