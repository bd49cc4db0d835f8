//! The isolation invariants of the refill cache, checked on demand ([`crate::Vcpu::audit`]).

use crate::interface::AuditError;
use crate::shadow::{Access, Shadow};
use crate::sid::{Context, HostPidAllocator, Owner};
use crate::spr::mas::*;
use crate::vcpu::Vcpu;

pub(crate) fn audit(vcpu: &Vcpu, pids: &HostPidAllocator) -> Result<(), AuditError> {
    let partition = &vcpu.config.partition;
    let mas7 = vcpu.host_mas7();
    for (slot, s) in vcpu.refill.slots().iter().enumerate() {
        if s.tag == 0 {
            continue;
        }
        let sid = s.sid();
        let entry = s.entry(mas7);
        let malformed = entry.sid() != sid
            || entry.mas1 & (MAS1_V | MAS1_TS) != MAS1_V | MAS1_TS
            || entry.mas1 & MAS1_IPROT != 0
            || entry.mas3 & (MAS3_SX | MAS3_SW | MAS3_SR) != 0
            || entry.mas2 & (MAS2_W | MAS2_I | MAS2_M) != 0;
        if malformed {
            return Err(AuditError::RefillMalformed { slot });
        }
        let base = partition.host_base().get();
        let inside = entry.host_base() >= base
            && entry.host_base() + entry.size() <= base + u64::from(partition.size());
        if !inside {
            return Err(AuditError::RefillOutsidePartition { slot });
        }
        let stale = Err(AuditError::RefillStale { slot });
        let (ctx, global) = match vcpu.sids.owner_of(sid, pids) {
            Some(Owner::Context(ctx)) => (ctx, false),
            Some(Owner::Global { address_space, pr }) => (
                Context {
                    is: address_space,
                    ds: address_space,
                    pr,
                    pids: [0; 3],
                },
                true,
            ),
            None => return stale,
        };
        let shadow = Shadow {
            tlb: &vcpu.tlb,
            partition,
            ctx: &ctx,
            tlb1_min_page: vcpu.config.tlb1_min_page,
        };
        let ea = s.tag & 0xFFFF_F000;
        let fresh = [Access::Fetch, Access::Load].into_iter().any(|access| {
            matches!(shadow.map(ea, access), Ok(m) if m.global == global && m.entry(sid) == entry)
        });
        if !fresh {
            return stale;
        }
    }
    Ok(())
}
