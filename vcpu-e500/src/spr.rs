//! Names of the e500v2 special-purpose registers and of the bits the model uses (the e500 core
//! reference manual's numbering; bit values as 32-bit masks, least significant bit = 1).
//!
//! SPR privilege is architectural: `mfspr`/`mtspr` of a number with bit 4 set (`n & 0x10`) is
//! privileged and traps in problem state; the others (LR, CTR, XER, USPRG0, the time base and
//! SPRG3..7 read aliases, SPEFSCR, L1CFG0/1...) execute natively in the guest.

/// SPR numbers.
pub mod num {
    pub const DEC: u16 = 22;
    pub const SRR0: u16 = 26;
    pub const SRR1: u16 = 27;
    pub const PID0: u16 = 48;
    pub const DECAR: u16 = 54;
    pub const CSRR0: u16 = 58;
    pub const CSRR1: u16 = 59;
    pub const DEAR: u16 = 61;
    pub const ESR: u16 = 62;
    pub const IVPR: u16 = 63;
    /// SPRG0..SPRG7 (supervisor numbers; SPRG3..7 also have user-readable aliases 259..263).
    pub const SPRG0: u16 = 272;
    pub const SPRG7: u16 = 279;
    /// Time base write numbers (the read numbers 268/269 are user-level).
    pub const TBL_WRITE: u16 = 284;
    pub const TBU_WRITE: u16 = 285;
    pub const PIR: u16 = 286;
    pub const PVR: u16 = 287;
    pub const DBSR: u16 = 304;
    pub const DBCR0: u16 = 308;
    pub const DBCR1: u16 = 309;
    pub const DBCR2: u16 = 310;
    pub const IAC1: u16 = 312;
    pub const IAC2: u16 = 313;
    pub const DAC1: u16 = 316;
    pub const DAC2: u16 = 317;
    pub const TSR: u16 = 336;
    pub const TCR: u16 = 340;
    /// IVOR0..IVOR15.
    pub const IVOR0: u16 = 400;
    pub const IVOR15: u16 = 415;
    /// IVOR32..IVOR35 (SPE and performance monitor).
    pub const IVOR32: u16 = 528;
    pub const IVOR35: u16 = 531;
    pub const MCSRR0: u16 = 570;
    pub const MCSRR1: u16 = 571;
    pub const MCSR: u16 = 572;
    pub const MCAR: u16 = 573;
    pub const DSRR0: u16 = 574;
    pub const DSRR1: u16 = 575;
    pub const MAS0: u16 = 624;
    pub const MAS1: u16 = 625;
    pub const MAS2: u16 = 626;
    pub const MAS3: u16 = 627;
    pub const MAS4: u16 = 628;
    pub const MAS6: u16 = 630;
    pub const PID1: u16 = 633;
    pub const PID2: u16 = 634;
    pub const TLB0CFG: u16 = 688;
    pub const TLB1CFG: u16 = 689;
    pub const MAS7: u16 = 944;
    pub const HID0: u16 = 1008;
    pub const HID1: u16 = 1009;
    pub const L1CSR0: u16 = 1010;
    pub const L1CSR1: u16 = 1011;
    pub const MMUCSR0: u16 = 1012;
    pub const BUCSR: u16 = 1013;
    pub const MMUCFG: u16 = 1015;
    /// System version register; `mtspr 1023, r0` is the MetaROUTER hypercall.
    pub const SVR: u16 = 1023;
}

/// Whether `mfspr`/`mtspr` of SPR `n` is privileged (traps in problem state).
pub const fn is_privileged(n: u16) -> bool {
    n & 0x10 != 0
}

/// MSR bits.
pub mod msr {
    pub const UCLE: u32 = 0x0400_0000;
    pub const SPE: u32 = 0x0200_0000;
    pub const WE: u32 = 0x0004_0000;
    pub const CE: u32 = 0x0002_0000;
    pub const EE: u32 = 0x0000_8000;
    pub const PR: u32 = 0x0000_4000;
    pub const FP: u32 = 0x0000_2000;
    pub const ME: u32 = 0x0000_1000;
    pub const FE0: u32 = 0x0000_0800;
    pub const DE: u32 = 0x0000_0200;
    pub const FE1: u32 = 0x0000_0100;
    pub const IS: u32 = 0x0000_0020;
    pub const DS: u32 = 0x0000_0010;
    pub const PMM: u32 = 0x0000_0004;
    /// The bits an e500v2 implements (`mtmsr`, `rfi` and interrupts keep only these).
    pub const IMPLEMENTED: u32 =
        UCLE | SPE | WE | CE | EE | PR | FP | ME | FE0 | DE | FE1 | IS | DS | PMM;
    /// The bits that select the guest's translation context: privilege and address spaces.
    pub const CONTEXT: u32 = PR | IS | DS;
}

/// ESR bits.
pub mod esr {
    /// Illegal instruction.
    pub const PIL: u32 = 0x0800_0000;
    /// Privileged instruction.
    pub const PPR: u32 = 0x0400_0000;
    /// Trap.
    pub const PTR: u32 = 0x0200_0000;
    /// Floating-point operation.
    pub const FP: u32 = 0x0100_0000;
    /// Store operation.
    pub const ST: u32 = 0x0080_0000;
    /// Data cache locking.
    pub const DLK: u32 = 0x0020_0000;
    /// Instruction cache locking.
    pub const ILK: u32 = 0x0010_0000;
    /// Unimplemented operation.
    pub const PUO: u32 = 0x0004_0000;
    /// Byte ordering.
    pub const BO: u32 = 0x0002_0000;
    /// SPE operation.
    pub const SPV: u32 = 0x0000_0080;
}

/// TCR bits.
pub mod tcr {
    pub const WP: u32 = 0xC000_0000;
    pub const WRC: u32 = 0x3000_0000;
    pub const WIE: u32 = 0x0800_0000;
    pub const DIE: u32 = 0x0400_0000;
    pub const FP: u32 = 0x0300_0000;
    pub const FIE: u32 = 0x0080_0000;
    pub const ARE: u32 = 0x0040_0000;
    pub const WPEXT: u32 = 0x001E_0000;
    pub const FPEXT: u32 = 0x0001_E000;
    /// The bits an e500v2 implements.
    pub const IMPLEMENTED: u32 = WP | WRC | WIE | DIE | FP | FIE | ARE | WPEXT | FPEXT;
}

/// TSR bits (write one to clear).
pub mod tsr {
    pub const ENW: u32 = 0x8000_0000;
    pub const WIS: u32 = 0x4000_0000;
    pub const WRS: u32 = 0x3000_0000;
    pub const DIS: u32 = 0x0800_0000;
    pub const FIS: u32 = 0x0400_0000;
}

/// MAS register fields.
pub mod mas {
    /// MAS0: TLB select (1 = TLB1).
    pub const MAS0_TLBSEL1: u32 = 0x1000_0000;
    /// MAS0: entry select.
    pub const MAS0_ESEL: u32 = 0x000F_0000;
    /// MAS0: next victim (TLB0).
    pub const MAS0_NV: u32 = 0x0000_0003;
    pub const MAS0_MASK: u32 = MAS0_TLBSEL1 | MAS0_ESEL | MAS0_NV;

    pub const MAS1_V: u32 = 0x8000_0000;
    pub const MAS1_IPROT: u32 = 0x4000_0000;
    pub const MAS1_TID: u32 = 0x00FF_0000;
    pub const MAS1_TS: u32 = 0x0000_1000;
    pub const MAS1_TSIZE: u32 = 0x0000_0F00;
    pub const MAS1_MASK: u32 = MAS1_V | MAS1_IPROT | MAS1_TID | MAS1_TS | MAS1_TSIZE;

    pub const MAS2_EPN: u32 = 0xFFFF_F000;
    pub const MAS2_X0: u32 = 0x40;
    pub const MAS2_X1: u32 = 0x20;
    pub const MAS2_W: u32 = 0x10;
    pub const MAS2_I: u32 = 0x08;
    pub const MAS2_M: u32 = 0x04;
    pub const MAS2_G: u32 = 0x02;
    pub const MAS2_E: u32 = 0x01;
    pub const MAS2_MASK: u32 = MAS2_EPN | 0x7F;

    pub const MAS3_RPN: u32 = 0xFFFF_F000;
    pub const MAS3_U0_3: u32 = 0x0000_03C0;
    pub const MAS3_UX: u32 = 0x20;
    pub const MAS3_SX: u32 = 0x10;
    pub const MAS3_UW: u32 = 0x08;
    pub const MAS3_SW: u32 = 0x04;
    pub const MAS3_UR: u32 = 0x02;
    pub const MAS3_SR: u32 = 0x01;
    pub const MAS3_MASK: u32 = MAS3_RPN | MAS3_U0_3 | 0x3F;

    /// MAS4: default TLB select, TID select, size and WIMGE for TLB misses.
    pub const MAS4_TLBSELD1: u32 = 0x1000_0000;
    pub const MAS4_TIDSELD: u32 = 0x0003_0000;
    pub const MAS4_TSIZED: u32 = 0x0000_0F00;
    pub const MAS4_DEFAULTS: u32 = 0x0000_007F;
    pub const MAS4_MASK: u32 = MAS4_TLBSELD1 | MAS4_TIDSELD | MAS4_TSIZED | MAS4_DEFAULTS;

    pub const MAS6_SPID: u32 = 0x00FF_0000;
    pub const MAS6_SAS: u32 = 0x0000_0001;
    pub const MAS6_MASK: u32 = MAS6_SPID | MAS6_SAS;

    pub const MAS7_MASK: u32 = 0x0000_000F;
}

/// MMUCSR0 bits: flash invalidate TLB0 / TLB1 (entries without IPROT).
pub mod mmucsr0 {
    pub const TLB0_FI: u32 = 0x4;
    pub const TLB1_FI: u32 = 0x2;
}

/// BUCSR: branch buffer flash invalidate (self-clearing) and branch prediction enable.
pub mod bucsr {
    pub const BBFI: u32 = 0x0000_0200;
    pub const BPEN: u32 = 0x0000_0001;
}

/// CR0's summary-overflow bit, which the hypercall clears to say "served".
pub const CR0_SO: u32 = 0x1000_0000;
