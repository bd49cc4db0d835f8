//! What the virtual CPU reports about itself: a 24Kc with the host's cache geometry.
//!
//! The guest sees a MIPS32 release 2 24Kc (PRId 0x0001_9374, as on the AR7161), big-endian,
//! with a standard TLB of [`VcpuConfig::tlb_entries`] entries, no FPU, no watchpoints, no
//! performance counters, no EJTAG, no vectored interrupts, no shadow register sets. Everything
//! the guest executes natively is reported as the host has it: the L1 cache geometry (the guest's
//! index cache operations are replayed on the real caches, so they must cover them), and MIPS16e
//! (`Config1.CA`), which the real core executes without trapping.

use crate::addr::Partition;

/// PRId of the virtual CPU: company MIPS (0x01), processor 24K (0x93), revision 0x74.
pub const PRID_24KC: u32 = 0x0001_9374;
/// Config7.WII: `wait` wakes on a pending interrupt even when Status.IE masks it.
pub const CONFIG7_WII: u32 = 1 << 31;
/// Config7.AR: the data cache has hardware alias removal (behaves as physically indexed).
pub const CONFIG7_AR: u32 = 1 << 16;

/// Geometry of one L1 cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheGeometry {
    /// Line size in bytes (16 or 32 on a 24Kc).
    pub line_bytes: u32,
    /// Sets per way.
    pub sets_per_way: u32,
    /// Associativity.
    pub ways: u32,
}

impl CacheGeometry {
    /// Decode the three Config1 fields (S, L, A) of one cache; `None` when L says "no cache".
    pub const fn from_config1_fields(s: u32, l: u32, a: u32) -> Option<Self> {
        if l == 0 || l == 7 || s == 7 {
            return None;
        }
        Some(Self {
            line_bytes: 2 << l,
            sets_per_way: 64 << s,
            ways: a + 1,
        })
    }

    /// Encode back into (S, L, A).
    pub const fn config1_fields(&self) -> (u32, u32, u32) {
        (
            self.sets_per_way.trailing_zeros() - 6,
            self.line_bytes.trailing_zeros() - 1,
            self.ways - 1,
        )
    }

    /// Whether Config1 can encode this geometry: lines 4..=128 bytes, 64..=8192 sets, 1..=8
    /// ways, sizes powers of two.
    pub const fn is_valid(&self) -> bool {
        self.line_bytes.is_power_of_two()
            && self.line_bytes >= 4
            && self.line_bytes <= 128
            && self.sets_per_way.is_power_of_two()
            && self.sets_per_way >= 64
            && self.sets_per_way <= 8192
            && self.ways >= 1
            && self.ways <= 8
    }

    /// Bytes per way (the span of the index bits).
    pub const fn way_bytes(&self) -> u32 {
        self.line_bytes * self.sets_per_way
    }
}

/// The host's L1 caches, read once from the real Config1/Config7 at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCpu {
    /// Instruction cache.
    pub icache: CacheGeometry,
    /// Data cache.
    pub dcache: CacheGeometry,
    /// Whether one physical line can sit at two cache indexes (way larger than a 4 KiB page and
    /// no hardware alias removal).
    pub dcache_aliases: bool,
    /// Whether the core executes MIPS16e (Config1.CA).
    pub mips16e: bool,
}

/// The virtual TLB size guests get (Config1 says 64, Config4.MMUSizeExt the rest). Chosen with
/// `./x bench guest`: a guest's user loads over 128 pages (64 page pairs) plus its code and
/// stack need more than 64 entries; 256 entries (5 KiB per guest) cover 1 MiB of 4 KiB pages.
pub const GUEST_TLB_ENTRIES: usize = 256;

/// Why the host registers could not describe a usable host CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Config1 reports no L1 instruction or data cache.
    NoL1Cache,
    /// The virtual TLB size must be 16, 32, 64, 128 or 256 entries.
    BadTlbSize,
    /// A cache geometry no MIPS32 Config1 can express (hand-built `HostCpu`).
    BadCacheGeometry,
    /// The partition breaks the MIPS rules ([`crate::addr::mips_partition`]).
    Partition(crate::addr::PartitionError),
}

impl HostCpu {
    /// The AR7161's 24Kc: 64 KiB 4-way I-cache and 32 KiB 4-way D-cache, 32-byte lines, D-cache
    /// alias removal present (unverified on hardware here: prefer [`HostCpu::from_registers`]).
    pub const AR7161: HostCpu = HostCpu {
        icache: CacheGeometry {
            line_bytes: 32,
            sets_per_way: 512,
            ways: 4,
        },
        dcache: CacheGeometry {
            line_bytes: 32,
            sets_per_way: 256,
            ways: 4,
        },
        dcache_aliases: false,
        mips16e: true,
    };

    /// Describe the host from its real Config1 and Config7 registers.
    pub const fn from_registers(config1: u32, config7: u32) -> Result<Self, ConfigError> {
        let icache = CacheGeometry::from_config1_fields(
            (config1 >> 22) & 7,
            (config1 >> 19) & 7,
            (config1 >> 16) & 7,
        );
        let dcache = CacheGeometry::from_config1_fields(
            (config1 >> 13) & 7,
            (config1 >> 10) & 7,
            (config1 >> 7) & 7,
        );
        match (icache, dcache) {
            (Some(icache), Some(dcache)) => Ok(HostCpu {
                icache,
                dcache,
                dcache_aliases: dcache.way_bytes() > 4096 && config7 & CONFIG7_AR == 0,
                mips16e: config1 & (1 << 2) != 0,
            }),
            _ => Err(ConfigError::NoL1Cache),
        }
    }
}

/// Everything fixed about one virtual CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuConfig {
    /// The guest's RAM.
    pub partition: Partition,
    /// Virtual TLB entries (16, 32, 64, 128 or 256; the 24Kc has 16 or 32). Above 64 the size
    /// is reported as Config1.MMUSize with Config4.MMUSizeExt (MMUExtDef = 1), which Linux
    /// reads (`decode_config4`); a kernel that reads only Config1 sees 64 and uses 64.
    pub tlb_entries: usize,
    /// The host CPU whose caches the guest sees.
    pub host: HostCpu,
}

impl VcpuConfig {
    /// A configuration with a 16-entry TLB like the AR7161's 24Kc.
    pub const fn new(partition: Partition, host: HostCpu) -> Self {
        Self {
            partition,
            tlb_entries: 16,
            host,
        }
    }

    /// A configuration with the TLB a guest kernel should get: [`GUEST_TLB_ENTRIES`] entries,
    /// so that a guest's user working set is not limited by the 24Kc's 16 (see the README).
    pub const fn for_guest(partition: Partition, host: HostCpu) -> Self {
        Self {
            partition,
            tlb_entries: GUEST_TLB_ENTRIES,
            host,
        }
    }

    pub(crate) const fn validate(&self) -> Result<(), ConfigError> {
        if !self.host.icache.is_valid() || !self.host.dcache.is_valid() {
            return Err(ConfigError::BadCacheGeometry);
        }
        if let Err(e) = crate::addr::GuestArch::MIPS32.check_partition(&self.partition) {
            return Err(ConfigError::Partition(e));
        }
        match self.tlb_entries {
            16 | 32 | 64 | 128 | 256 => Ok(()),
            _ => Err(ConfigError::BadTlbSize),
        }
    }

    /// Config register 0 without the writable K0 field: M, big-endian, MIPS32 release 2,
    /// standard TLB. Implementation bits 24:16 read 0.
    pub const fn config0_fixed(&self) -> u32 {
        (1 << 31) | (1 << 15) | (1 << 10) | (1 << 7)
    }

    /// Config register 1: M, TLB size, host cache geometry, MIPS16e as the host, no FPU, no
    /// EJTAG, no watch registers, no performance counters, no MDMX, no COP2.
    pub const fn config1(&self) -> u32 {
        let (is, il, ia) = self.host.icache.config1_fields();
        let (ds, dl, da) = self.host.dcache.config1_fields();
        (1 << 31)
            | ((((self.tlb_entries as u32) - 1) & 0x3F) << 25)
            | (is << 22)
            | (il << 19)
            | (ia << 16)
            | (ds << 13)
            | (dl << 10)
            | (da << 7)
            | if self.host.mips16e { 1 << 2 } else { 0 }
    }

    /// Config register 2: M (Config3 follows), no L2/L3 cache.
    pub const fn config2(&self) -> u32 {
        1 << 31
    }

    /// Config register 3: nothing optional (no VInt, VEIC, small pages, UserLocal, DSP, MT);
    /// M (Config4 follows) when the TLB is larger than Config1 can say.
    pub const fn config3(&self) -> u32 {
        if self.tlb_entries > 64 {
            1 << 31
        } else {
            0
        }
    }

    /// Config register 4 (read only when Config3.M): MMUExtDef = 1 and MMUSizeExt, the bits of
    /// (TLB size - 1) above Config1's six; 0 for TLBs of at most 64 entries.
    pub const fn config4(&self) -> u32 {
        if self.tlb_entries > 64 {
            (1 << 14) | (((self.tlb_entries as u32) - 1) >> 6)
        } else {
            0
        }
    }

    /// Config register 7 (24K implementation register): WII, and AR when the host D-cache has no
    /// aliases.
    pub const fn config7(&self) -> u32 {
        CONFIG7_WII
            | if self.host.dcache_aliases {
                0
            } else {
                CONFIG7_AR
            }
    }

    /// SYNCI step reported by `rdhwr $1`: the smaller L1 line size.
    pub const fn synci_step(&self) -> u32 {
        let i = self.host.icache.line_bytes;
        let d = self.host.dcache.line_bytes;
        if i < d {
            i
        } else {
            d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Hpa;

    #[test]
    fn ar7161_config1_round_trips() {
        let part = Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap();
        let cfg = VcpuConfig::new(part, HostCpu::AR7161);
        // M | MMU=15 | IS=3 IL=4 IA=3 | DS=2 DL=4 DA=3 | CA
        assert_eq!(cfg.config1(), 0x9EE3_5184);
        let host = HostCpu::from_registers(cfg.config1(), CONFIG7_AR).unwrap();
        assert_eq!(host, HostCpu::AR7161);
        assert_eq!(cfg.config0_fixed(), 0x8000_8480);
        assert_eq!(cfg.config7(), 0x8001_0000);
        assert_eq!(cfg.synci_step(), 32);
    }

    #[test]
    fn large_tlbs_use_config4() {
        let part = Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap();
        for (entries, config3, config4) in [
            (16, 0, 0),
            (64, 0, 0),
            (128, 1 << 31, 0x4001),
            (256, 1 << 31, 0x4003),
        ] {
            let cfg = VcpuConfig {
                tlb_entries: entries,
                ..VcpuConfig::new(part, HostCpu::AR7161)
            };
            // Linux's decode_config1 + decode_config4: MMUSize + 1 + MMUSizeExt * 64.
            let size = ((cfg.config1() >> 25) & 0x3F) + 1 + (cfg.config4() & 0xFF) * 64;
            assert_eq!(size as usize, entries);
            assert_eq!(cfg.config3(), config3);
            assert_eq!(cfg.config4(), config4);
        }
    }

    #[test]
    fn qemu_24kc_caches() {
        // QEMU's 24Kc Config1: MMU 15, IS=0 IL=3 IA=1, DS=0 DL=3 DA=1, CA, EP.
        let config1 = (1 << 31) | (15 << 25) | (3 << 19) | (1 << 16) | (3 << 10) | (1 << 7) | 0b110;
        let host = HostCpu::from_registers(config1, 0).unwrap();
        assert_eq!(
            host.icache,
            CacheGeometry {
                line_bytes: 16,
                sets_per_way: 64,
                ways: 2
            }
        );
        assert!(!host.dcache_aliases);
        assert!(host.mips16e);
        // 32 KiB 4-way without alias removal aliases.
        let aliasing = HostCpu::from_registers(0x9EE3_5184, 0).unwrap();
        assert!(aliasing.dcache_aliases);
        assert_eq!(HostCpu::from_registers(0, 0), Err(ConfigError::NoL1Cache));
    }

    #[test]
    fn hand_built_geometry_is_checked() {
        let part = Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap();
        let mut host = HostCpu::AR7161;
        host.dcache.line_bytes = 0;
        assert_eq!(
            VcpuConfig::new(part, host).validate(),
            Err(ConfigError::BadCacheGeometry)
        );
        let bad_tlb = VcpuConfig {
            tlb_entries: 48,
            ..VcpuConfig::new(part, HostCpu::AR7161)
        };
        assert_eq!(bad_tlb.validate(), Err(ConfigError::BadTlbSize));
        let big = VcpuConfig::for_guest(part, HostCpu::AR7161);
        assert_eq!(big.validate(), Ok(()));
        assert_eq!(VcpuConfig::new(part, HostCpu::AR7161).validate(), Ok(()));
    }
}
