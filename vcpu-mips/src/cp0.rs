//! The virtual CP0: register state and `mfc0`/`mtc0` semantics of a MIPS32r2 24Kc.
//!
//! Every register keeps only the bits the architecture lets software write; read-only fields are
//! composed on read. Reads of unimplemented registers (WatchLo/Hi, PerfCnt, ErrCtl, CacheErr,
//! Debug, DEPC, UserLocal, Config5+...) return 0 and writes to them are ignored, as on hardware.
//! Per-register rules are in [`Cp0::read`] and [`Cp0::write`].

use crate::config::{VcpuConfig, PRID_24KC};
use crate::timer::VirtualTimer;
use crate::tlb::{Tlb, ENTRYHI_MASK, ENTRYLO_MASK, PAGEMASK_MASK};

/// Status.IE.
pub const ST_IE: u32 = 1;
/// Status.EXL.
pub const ST_EXL: u32 = 1 << 1;
/// Status.ERL.
pub const ST_ERL: u32 = 1 << 2;
/// Status.KSU field.
pub const ST_KSU: u32 = 3 << 3;
/// Status.IM7..IM0.
pub const ST_IM: u32 = 0xFF << 8;
/// Status.BEV.
pub const ST_BEV: u32 = 1 << 22;
/// Status.CU0.
pub const ST_CU0: u32 = 1 << 28;
/// Status bits a guest may write: CU0, RP, BEV, IM, KSU, ERL, EXL, IE. CU1-3 (no FPU, no
/// COP2), FR, RE, MX (no DSP) read 0; TS, SR, NMI are only ever set by hardware events a
/// guest never experiences, so they read 0 too.
pub const STATUS_WRITABLE: u32 = 0x1840_FF1F;

/// Cause.BD.
pub const CAUSE_BD: u32 = 1 << 31;
/// Cause.TI.
pub const CAUSE_TI: u32 = 1 << 30;
/// Cause.DC (Count stopped).
pub const CAUSE_DC: u32 = 1 << 27;
/// Cause.IV (interrupts use the special vector, offset 0x200).
pub const CAUSE_IV: u32 = 1 << 23;
/// Cause.IP7 (the timer, since IntCtl.IPTI = 7).
pub const CAUSE_IP7: u32 = 1 << 15;
/// Cause.IP1: software interrupt 1, also raised by the host for device virqs.
pub const CAUSE_IP1: u32 = 1 << 9;
/// Cause.IP0: software interrupt 0.
pub const CAUSE_IP0: u32 = 1 << 8;
/// Cause bits a guest may write: DC, IV, IP1, IP0.
pub const CAUSE_WRITABLE: u32 = CAUSE_DC | CAUSE_IV | CAUSE_IP1 | CAUSE_IP0;
/// Cause bits stored here (the rest is composed: TI and IP7 from the timer).
pub const CAUSE_STORED: u32 = CAUSE_BD | (3 << 28) | CAUSE_IV | CAUSE_IP1 | CAUSE_IP0 | (0x1F << 2);

/// Context.PTEBase, the only writable part of Context.
pub const CONTEXT_PTEBASE: u32 = 0xFF80_0000;
/// EBase bits a guest may write (exception base 29:12); 31:30 read as `10`, CPUNum reads 0.
pub const EBASE_WRITABLE: u32 = 0x3FFF_F000;
/// HWREna bits that exist (CPUNum, SYNCI_Step, CC, CCRes; no UserLocal on a 24Kc).
pub const HWRENA_WRITABLE: u32 = 0xF;
/// IntCtl as read: IPTI = 7 (timer on IP7), IPPCI = 0 (no performance counters), VS = 0.
pub const INTCTL_VALUE: u32 = 7 << 29;

/// Register number and select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegId {
    /// Register (0..31).
    pub rd: u8,
    /// Select (0..7).
    pub sel: u8,
}

/// CP0 register state (the TLB and its Wired/Random live in [`Tlb`]).
#[derive(Clone, Debug)]
pub struct Cp0 {
    /// Index (P bit 31 and the index field).
    pub index: u32,
    /// EntryLo0.
    pub entry_lo0: u32,
    /// EntryLo1.
    pub entry_lo1: u32,
    /// Context (PTEBase and BadVPN2).
    pub context: u32,
    /// PageMask as written (masked to existing bits).
    pub page_mask: u32,
    /// HWREna.
    pub hwrena: u32,
    /// BadVAddr.
    pub bad_vaddr: u32,
    /// EntryHi.
    pub entry_hi: u32,
    /// Status.
    pub status: u32,
    /// Cause, without TI/IP7 and DC (kept by the timer).
    pub cause: u32,
    /// EPC.
    pub epc: u32,
    /// EBase.
    pub ebase: u32,
    /// Config.K0 (kseg0 cacheability; stored, no effect: the guest never uses kseg0).
    pub config_k0: u32,
    /// TagLo.
    pub tag_lo: u32,
    /// DataLo.
    pub data_lo: u32,
    /// ErrorEPC.
    pub error_epc: u32,
    /// DESAVE (EJTAG scratch, readable and writable like on the 24K).
    pub desave: u32,
    /// Count/Compare.
    pub timer: VirtualTimer,
}

impl Cp0 {
    /// State at guest boot: kernel mode, BEV = 0 (vectors at 0xC000_0000), interrupts off,
    /// EBase 0x8000_0000, Count 0 at host time `now`, K0 = 3.
    pub const fn at_boot(now: u32) -> Self {
        Cp0 {
            index: 0,
            entry_lo0: 0,
            entry_lo1: 0,
            context: 0,
            page_mask: 0,
            hwrena: 0,
            bad_vaddr: 0,
            entry_hi: 0,
            status: 0,
            cause: 0,
            epc: 0,
            ebase: 0x8000_0000,
            config_k0: 3,
            tag_lo: 0,
            data_lo: 0,
            error_epc: 0,
            desave: 0,
            timer: VirtualTimer::new(now, 0),
        }
    }

    /// Current guest ASID.
    pub const fn asid(&self) -> u8 {
        self.entry_hi as u8
    }

    /// Full Cause as the guest reads it at host time `now` (after a timer update).
    pub fn cause_value(&self) -> u32 {
        let mut c = self.cause & CAUSE_STORED;
        if self.timer.pending() {
            c |= CAUSE_TI | CAUSE_IP7;
        }
        if self.timer.frozen() {
            c |= CAUSE_DC;
        }
        c
    }

    /// Pending interrupt lines (Cause.IP7..IP0 as a byte).
    pub fn pending_lines(&self) -> u8 {
        (self.cause_value() >> 8) as u8
    }

    /// `mfc0`: the value of register `id` at host time `now`.
    pub fn read(&mut self, id: RegId, now: u32, tlb: &Tlb, config: &VcpuConfig) -> u32 {
        self.timer.update(now);
        match (id.rd, id.sel) {
            (0, 0) => self.index,
            (1, 0) => tlb.random(),
            (2, 0) => self.entry_lo0,
            (3, 0) => self.entry_lo1,
            (4, 0) => self.context,
            (5, 0) => self.page_mask,
            (6, 0) => tlb.wired(),
            (7, 0) => self.hwrena,
            (8, 0) => self.bad_vaddr,
            (9, 0) => self.timer.count(now),
            (10, 0) => self.entry_hi,
            (11, 0) => self.timer.compare(),
            (12, 0) => self.status,
            (12, 1) => INTCTL_VALUE,
            (13, 0) => self.cause_value(),
            (14, 0) => self.epc,
            (15, 0) => PRID_24KC,
            (15, 1) => 0x8000_0000 | (self.ebase & EBASE_WRITABLE),
            (16, 0) => config.config0_fixed() | self.config_k0,
            (16, 1) => config.config1(),
            (16, 2) => config.config2(),
            (16, 3) => config.config3(),
            (16, 4) => config.config4(),
            (16, 7) => config.config7(),
            (28, 0) => self.tag_lo,
            (28, 1) => self.data_lo,
            (30, 0) => self.error_epc,
            (31, 0) => self.desave,
            // SRSCtl, SRSMap (no shadow sets), LLAddr, Watch*, Debug, DEPC, PerfCnt, ErrCtl,
            // CacheErr, TagHi/DataHi, UserLocal and everything else: not implemented.
            _ => 0,
        }
    }

    /// `mtc0`: write `value` to register `id` at host time `now`.
    pub fn write(&mut self, id: RegId, value: u32, now: u32, tlb: &mut Tlb) {
        self.timer.update(now);
        match (id.rd, id.sel) {
            (0, 0) => self.index = (self.index & 0x8000_0000) | (value & tlb.index_mask()),
            (2, 0) => self.entry_lo0 = value & ENTRYLO_MASK,
            (3, 0) => self.entry_lo1 = value & ENTRYLO_MASK,
            (4, 0) => self.context = (self.context & !CONTEXT_PTEBASE) | (value & CONTEXT_PTEBASE),
            (5, 0) => self.page_mask = value & PAGEMASK_MASK,
            (6, 0) => tlb.set_wired(value),
            (7, 0) => self.hwrena = value & HWRENA_WRITABLE,
            (9, 0) => self.timer.write_count(now, value),
            (10, 0) => self.entry_hi = value & ENTRYHI_MASK,
            (11, 0) => self.timer.write_compare(now, value),
            (12, 0) => self.status = (self.status & !STATUS_WRITABLE) | (value & STATUS_WRITABLE),
            (13, 0) => {
                self.cause = (self.cause & !CAUSE_WRITABLE & CAUSE_STORED)
                    | (value & CAUSE_WRITABLE & CAUSE_STORED);
                self.timer.set_frozen(now, value & CAUSE_DC != 0);
            }
            (14, 0) => self.epc = value,
            (15, 1) => self.ebase = 0x8000_0000 | (value & EBASE_WRITABLE),
            (16, 0) => self.config_k0 = value & 7,
            (28, 0) => self.tag_lo = value,
            (28, 1) => self.data_lo = value,
            (30, 0) => self.error_epc = value,
            (31, 0) => self.desave = value,
            // Random, BadVAddr, PRId, Config1-7, IntCtl, SRSCtl and the unimplemented registers
            // ignore writes.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::{Hpa, Partition};
    use crate::config::HostCpu;

    fn fixture() -> (Cp0, Tlb, VcpuConfig) {
        let p = Partition::new(Hpa::new(0x0100_0000), 16 << 20).unwrap();
        (
            Cp0::at_boot(0),
            Tlb::new(16),
            VcpuConfig::new(p, HostCpu::AR7161),
        )
    }

    fn r(rd: u8, sel: u8) -> RegId {
        RegId { rd, sel }
    }

    #[test]
    fn masks_and_read_only_fields() {
        let (mut c, mut t, cfg) = fixture();
        let cases: &[(u8, u8, u32, u32)] = &[
            (0, 0, 0xFFFF_FFFF, 0x0000_000F), // Index: 4 bits for 16 entries, P not writable
            (2, 0, 0xFFFF_FFFF, 0x03FF_FFFF), // EntryLo0: PFN 25:6, C, D, V, G
            (3, 0, 0xFFFF_FFFF, 0x03FF_FFFF), // EntryLo1
            (4, 0, 0xFFFF_FFFF, 0xFF80_0000), // Context: PTEBase only
            (5, 0, 0xFFFF_FFFF, 0x1FFF_E000), // PageMask
            (6, 0, 0xFFFF_FFFF, 0x0000_000F), // Wired
            (7, 0, 0xFFFF_FFFF, 0x0000_000F), // HWREna
            (8, 0, 0xFFFF_FFFF, 0),           // BadVAddr: read-only
            (10, 0, 0xFFFF_FFFF, 0xFFFF_E0FF), // EntryHi
            (12, 0, 0xFFFF_FFFF, 0x1840_FF1F), // Status
            (12, 1, 0xFFFF_FFFF, 0xE000_0000), // IntCtl: read-only
            (12, 2, 0xFFFF_FFFF, 0),          // SRSCtl: no shadow sets
            (14, 0, 0xFFFF_FFFF, 0xFFFF_FFFF), // EPC
            (15, 0, 0, 0x0001_9374),          // PRId: read-only 24Kc
            (15, 1, 0xFFFF_FFFF, 0xBFFF_F000), // EBase: 31:30 = 10, CPUNum 0
            (16, 0, 0xFFFF_FFFF, 0x8000_8487), // Config: K0 only
            (16, 1, 0, 0x9EE3_5184),          // Config1
            (16, 2, 0, 0x8000_0000),          // Config2
            (16, 3, 0xFFFF_FFFF, 0),          // Config3
            (16, 7, 0, 0x8001_0000),          // Config7: WII, AR
            (17, 0, 0xFFFF_FFFF, 0),          // LLAddr
            (18, 0, 0xFFFF_FFFF, 0),          // WatchLo: none
            (19, 0, 0xFFFF_FFFF, 0),          // WatchHi: none
            (23, 0, 0xFFFF_FFFF, 0),          // Debug
            (25, 0, 0xFFFF_FFFF, 0),          // PerfCnt
            (26, 0, 0xFFFF_FFFF, 0),          // ErrCtl: never passed through
            (28, 0, 0x1234_5678, 0x1234_5678), // TagLo
            (28, 1, 0x9ABC_DEF0, 0x9ABC_DEF0), // DataLo
            (30, 0, 0xC000_0180, 0xC000_0180), // ErrorEPC
            (31, 0, 0xDEAD_BEEF, 0xDEAD_BEEF), // DESAVE
            (4, 2, 0xFFFF_FFFF, 0),           // UserLocal: not on a 24Kc
        ];
        for &(rd, sel, write, expect) in cases {
            c.write(r(rd, sel), write, 0, &mut t);
            assert_eq!(
                c.read(r(rd, sel), 0, &t, &cfg),
                expect,
                "register {rd} select {sel}"
            );
        }
    }

    #[test]
    fn wired_resets_random_and_random_is_read_only() {
        let (mut c, mut t, cfg) = fixture();
        assert_eq!(c.read(r(1, 0), 0, &t, &cfg), 15);
        t.take_random();
        c.write(r(6, 0), 4, 0, &mut t);
        assert_eq!(c.read(r(1, 0), 0, &t, &cfg), 15);
        c.write(r(1, 0), 3, 0, &mut t);
        assert_eq!(c.read(r(1, 0), 0, &t, &cfg), 15);
    }

    #[test]
    fn cause_software_bits_and_timer() {
        let (mut c, mut t, cfg) = fixture();
        c.write(r(13, 0), !CAUSE_DC, 0, &mut t);
        assert_eq!(
            c.read(r(13, 0), 0, &t, &cfg),
            CAUSE_IV | CAUSE_IP1 | CAUSE_IP0
        );
        c.write(r(11, 0), 100, 0, &mut t);
        assert_eq!(
            c.read(r(13, 0), 150, &t, &cfg) & (CAUSE_TI | CAUSE_IP7),
            CAUSE_TI | CAUSE_IP7
        );
        assert_eq!(c.read(r(9, 0), 150, &t, &cfg), 150);
        // Writing Compare clears TI/IP7.
        c.write(r(11, 0), 1000, 160, &mut t);
        assert_eq!(c.read(r(13, 0), 160, &t, &cfg) & (CAUSE_TI | CAUSE_IP7), 0);
        // DC stops Count.
        c.write(r(13, 0), CAUSE_DC, 200, &mut t);
        assert_eq!(c.read(r(9, 0), 5000, &t, &cfg), 200);
        assert_ne!(c.read(r(13, 0), 5000, &t, &cfg) & CAUSE_DC, 0);
    }
}
