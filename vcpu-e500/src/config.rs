//! What the virtual CPU reports and how it maps guests: the host's identity registers, the
//! partition, and the smallest page the shadow MMU puts in the host's TLB1.

use crate::addr::{check_e500_partition, Partition, PartitionError};

/// The host core's identity, reported to guests (PVR, SVR): the guest runs on this very core,
/// and a Linux kernel picks its CPU features from PVR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCpu {
    /// Processor version register.
    pub pvr: u32,
    /// System version register (the SoC).
    pub svr: u32,
}

impl HostCpu {
    /// The host's PVR and SVR as the arch read them; the core must be an e500v2 (PVR version
    /// 0x8021), whose MMU, timers and interrupts this model implements.
    pub const fn from_registers(pvr: u32, svr: u32) -> Result<Self, ConfigError> {
        if pvr >> 16 != E500V2_VERSION {
            return Err(ConfigError::NotE500v2 { pvr });
        }
        Ok(HostCpu { pvr, svr })
    }
}

/// PVR\[VERSION\] of the e500v2 core.
pub const E500V2_VERSION: u32 = 0x8021;

/// Why a vcpu cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The partition breaks the e500 rules.
    Partition(PartitionError),
    /// The host core is not an e500v2.
    NotE500v2 { pvr: u32 },
    /// The smallest host TLB1 page is not a power of 4 between 16 KiB and 1 GiB.
    BadTlb1Page,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::Partition(e) => e.fmt(f),
            ConfigError::NotE500v2 { pvr } => write!(f, "PVR {pvr:#010x} is not an e500v2 core"),
            ConfigError::BadTlb1Page => {
                f.write_str("the smallest host TLB1 page must be a power of 4 from 16 KiB to 1 GiB")
            }
        }
    }
}

/// Default smallest page the shadow MMU maps with a host TLB1 entry: 1 MiB. Smaller pieces of
/// large guest pages go to the host's TLB0 as 4 KiB pages, so that the 16-entry host TLB1 holds
/// only mappings that each cover much memory (a Linux guest's lowmem: one 64 MiB entry when
/// the partition is 64 MiB aligned).
pub const DEFAULT_TLB1_MIN_PAGE: u32 = 1 << 20;

/// The configuration of one guest CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcpuConfig {
    /// The guest's RAM.
    pub partition: Partition,
    /// PVR and SVR to report.
    pub host: HostCpu,
    /// Smallest host TLB1 page (see [`DEFAULT_TLB1_MIN_PAGE`]).
    pub tlb1_min_page: u32,
}

impl VcpuConfig {
    /// `partition` on `host`, with the default TLB1 policy.
    pub const fn new(partition: Partition, host: HostCpu) -> Self {
        VcpuConfig {
            partition,
            host,
            tlb1_min_page: DEFAULT_TLB1_MIN_PAGE,
        }
    }

    /// Check the configuration.
    pub const fn validate(&self) -> Result<(), ConfigError> {
        if let Err(e) = check_e500_partition(&self.partition) {
            return Err(ConfigError::Partition(e));
        }
        if self.host.pvr >> 16 != E500V2_VERSION {
            return Err(ConfigError::NotE500v2 { pvr: self.host.pvr });
        }
        let p = self.tlb1_min_page;
        if !p.is_power_of_two()
            || !p.trailing_zeros().is_multiple_of(2)
            || p < 16 << 10
            || p > 1 << 30
        {
            return Err(ConfigError::BadTlb1Page);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Hpa;

    #[test]
    fn validation() {
        let p = Partition::new(Hpa::new(0x0400_0000), 64 << 20).unwrap();
        let host = HostCpu::from_registers(0x8021_0030, 0x8039_0010).unwrap();
        assert_eq!(VcpuConfig::new(p, host).validate(), Ok(()));
        assert_eq!(
            HostCpu::from_registers(0x8020_0020, 0),
            Err(ConfigError::NotE500v2 { pvr: 0x8020_0020 })
        );
        for bad in [0, 4096, 32 << 10, 2 << 30] {
            let c = VcpuConfig {
                tlb1_min_page: bad,
                ..VcpuConfig::new(p, host)
            };
            assert_eq!(c.validate(), Err(ConfigError::BadTlb1Page), "{bad}");
        }
        let q = Partition::new(Hpa::new(0x0100_0000), 64 << 20).unwrap();
        assert!(matches!(
            VcpuConfig::new(q, host).validate(),
            Err(ConfigError::Partition(_))
        ));
    }
}
