//! Freescale MPIC, the OpenPIC-derived interrupt controller of the e500 SoCs (MPC85xx; QEMU
//! ppce500, RB1100).
//!
//! Layout (offsets in the controller's 256 KiB window, CCSR + 0x4_0000 on the MPC85xx):
//! global registers at 0x1000 (feature reporting, global configuration, spurious vector), one
//! 32-byte block per interrupt source at 0x1_0000 + 0x20 * n (vector/priority at +0x00,
//! destination at +0x10), and one 4 KiB block per CPU at 0x2_0000 (current task priority,
//! interrupt acknowledge, end of interrupt). All registers are 32-bit big-endian.
//!
//! Source numbers are the device tree's: the first cell of an `interrupts` specifier whose
//! parent is the MPIC (0..15 external pins, 16.. internal sources, e.g. 42 = DUART on the
//! MPC8544). The vector a source presents on acknowledge is chosen by [`Mpic::configure`].

use crate::mmio::Mmio;

/// Bytes of MMIO the controller occupies.
pub const WINDOW_LEN: usize = 0x4_0000;
/// The vector [`Mpic::acknowledge`] reads when nothing is pending.
pub const SPURIOUS_VECTOR: u16 = 0xFFFF;
/// Highest priority; sources at priority 0 never interrupt.
pub const MAX_PRIORITY: u8 = 15;
/// Source register blocks the window holds (0x1_0000 .. 0x1_2000).
const SOURCE_SLOTS: u16 = 256;

const FRR: usize = 0x1000; // feature reporting
const GCR: usize = 0x1020; // global configuration
const SVR: usize = 0x10E0; // spurious vector
const SOURCE_BASE: usize = 0x1_0000;
const SOURCE_STRIDE: usize = 0x20;
const SOURCE_VPR: usize = 0x00; // vector/priority
const SOURCE_DR: usize = 0x10; // destination
const CPU_BASE: usize = 0x2_0000;
const CPU_STRIDE: usize = 0x1000;
const CPU_CTPR: usize = 0x80; // current task priority
const CPU_IACK: usize = 0xA0; // interrupt acknowledge
const CPU_EOI: usize = 0xB0; // end of interrupt

const GCR_RESET: u32 = 1 << 31;
const GCR_MIXED_MODE: u32 = 1 << 29;
const VPR_MASK: u32 = 1 << 31;
const VPR_ACTIVITY: u32 = 1 << 30;
const VPR_POLARITY_POSITIVE: u32 = 1 << 23;
const VPR_SENSE_LEVEL: u32 = 1 << 22;
const VPR_PRIORITY_SHIFT: u32 = 16;
const FRR_NIRQ_SHIFT: u32 = 16;
const FRR_NIRQ_MASK: u32 = 0x7FF;
const FRR_NCPU_SHIFT: u32 = 8;
const FRR_NCPU_MASK: u32 = 0x1F;
/// Bounded wait for the reset bit to clear (it takes a few bus cycles on hardware).
const RESET_POLLS: u32 = 100_000;

/// An interrupt source, numbered as in the device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source(pub u16);

/// How a source signals, as the second cell of an MPIC interrupt specifier encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sense {
    EdgeRising,
    LevelLow,
    LevelHigh,
    EdgeFalling,
}

impl Sense {
    /// Decode the sense cell of a Freescale MPIC interrupt specifier (0 = rising edge,
    /// 1 = active-low level, 2 = active-high level, 3 = falling edge).
    pub fn from_tree_cell(cell: u32) -> Option<Sense> {
        match cell {
            0 => Some(Sense::EdgeRising),
            1 => Some(Sense::LevelLow),
            2 => Some(Sense::LevelHigh),
            3 => Some(Sense::EdgeFalling),
            _ => None,
        }
    }

    fn vpr_bits(self) -> u32 {
        match self {
            Sense::EdgeRising => VPR_POLARITY_POSITIVE,
            Sense::EdgeFalling => 0,
            Sense::LevelHigh => VPR_SENSE_LEVEL | VPR_POLARITY_POSITIVE,
            Sense::LevelLow => VPR_SENSE_LEVEL,
        }
    }
}

/// How [`Mpic::configure`] sets up one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceConfig {
    /// What [`Mpic::acknowledge`] returns for this source (not [`SPURIOUS_VECTOR`]).
    pub vector: u16,
    /// 1..=[`MAX_PRIORITY`]; delivered only while above the CPU's task priority.
    pub priority: u8,
    pub sense: Sense,
    /// CPUs that receive it, bit n = CPU n (normal interrupt output, not critical).
    pub cpus: u32,
}

/// What went wrong in a request to the controller (all caller mistakes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MpicError {
    /// The source number has no register block in this controller.
    NoSuchSource(u16),
    /// Priority above [`MAX_PRIORITY`].
    BadPriority(u8),
    /// The vector is [`SPURIOUS_VECTOR`], which means "nothing pending".
    ReservedVector,
    /// The CPU number is not one the controller reports.
    NoSuchCpu(usize),
}

/// One MPIC.
#[derive(Clone, Copy, Debug)]
pub struct Mpic {
    regs: Mmio,
}

impl Mpic {
    /// `regs` must cover [`WINDOW_LEN`] bytes.
    pub fn new(regs: Mmio) -> Self {
        assert!(regs.len() >= WINDOW_LEN, "MPIC window too small");
        Self { regs }
    }

    /// Interrupt sources the controller reports (`FRR[NIRQ]` + 1). Device-tree source numbers
    /// may lie beyond it (message and MSI sources); [`Self::configure`] accepts any source with
    /// a register block.
    pub fn source_count(&self) -> u16 {
        (((self.regs.read_be32(FRR) >> FRR_NIRQ_SHIFT) & FRR_NIRQ_MASK) + 1) as u16
    }

    /// CPUs the controller serves (`FRR[NCPU]` + 1).
    pub fn cpu_count(&self) -> usize {
        (((self.regs.read_be32(FRR) >> FRR_NCPU_SHIFT) & FRR_NCPU_MASK) + 1) as usize
    }

    /// Reset the controller (every source masked, nothing in service), select mixed mode (the
    /// core's interrupt input is driven by the MPIC, not passed through from IRQ0), set the
    /// spurious vector and block delivery to `cpu` (task priority 15) until
    /// [`Self::set_task_priority`] lowers it.
    pub fn reset(&self, cpu: usize) -> Result<(), MpicError> {
        self.check_cpu(cpu)?;
        self.regs.write_be32(GCR, GCR_RESET);
        let mut polls = 0;
        while self.regs.read_be32(GCR) & GCR_RESET != 0 {
            polls += 1;
            assert!(polls < RESET_POLLS, "MPIC reset did not complete");
            core::hint::spin_loop();
        }
        self.regs.write_be32(GCR, GCR_MIXED_MODE);
        self.regs.write_be32(SVR, u32::from(SPURIOUS_VECTOR));
        self.regs
            .write_be32(cpu_reg(cpu, CPU_CTPR), u32::from(MAX_PRIORITY));
        Ok(())
    }

    /// Program one source's vector, priority, sense and destination. The source stays masked
    /// (call [`Self::unmask`]).
    pub fn configure(&self, source: Source, config: SourceConfig) -> Result<(), MpicError> {
        let base = source_block(source)?;
        if config.priority > MAX_PRIORITY {
            return Err(MpicError::BadPriority(config.priority));
        }
        if config.vector == SPURIOUS_VECTOR {
            return Err(MpicError::ReservedVector);
        }
        self.regs.write_be32(base + SOURCE_VPR, VPR_MASK);
        self.regs.write_be32(base + SOURCE_DR, config.cpus);
        let vpr = VPR_MASK
            | config.sense.vpr_bits()
            | (u32::from(config.priority) << VPR_PRIORITY_SHIFT)
            | u32::from(config.vector);
        self.regs.write_be32(base + SOURCE_VPR, vpr);
        Ok(())
    }

    /// Let `source` interrupt.
    pub fn unmask(&self, source: Source) -> Result<(), MpicError> {
        let vpr = source_block(source)? + SOURCE_VPR;
        let value = self.regs.read_be32(vpr) & !(VPR_MASK | VPR_ACTIVITY);
        self.regs.write_be32(vpr, value);
        Ok(())
    }

    /// Stop `source` from interrupting.
    pub fn mask(&self, source: Source) -> Result<(), MpicError> {
        let vpr = source_block(source)? + SOURCE_VPR;
        let value = self.regs.read_be32(vpr) & !VPR_ACTIVITY;
        self.regs.write_be32(vpr, value | VPR_MASK);
        Ok(())
    }

    /// Deliver to `cpu` only sources with a priority above `priority`.
    pub fn set_task_priority(&self, cpu: usize, priority: u8) -> Result<(), MpicError> {
        self.check_cpu(cpu)?;
        if priority > MAX_PRIORITY {
            return Err(MpicError::BadPriority(priority));
        }
        self.regs
            .write_be32(cpu_reg(cpu, CPU_CTPR), u32::from(priority));
        Ok(())
    }

    /// Acknowledge the highest-priority pending interrupt of `cpu`: its vector, now in service
    /// until [`Self::end_of_interrupt`]; `None` when nothing is pending (spurious vector).
    pub fn acknowledge(&self, cpu: usize) -> Option<u16> {
        let vector = self.regs.read_be32(cpu_reg(cpu, CPU_IACK)) as u16;
        (vector != SPURIOUS_VECTOR).then_some(vector)
    }

    /// End the interrupt `cpu` is servicing (the last one [`Self::acknowledge`] returned).
    pub fn end_of_interrupt(&self, cpu: usize) {
        self.regs.write_be32(cpu_reg(cpu, CPU_EOI), 0);
    }

    fn check_cpu(&self, cpu: usize) -> Result<(), MpicError> {
        if cpu < self.cpu_count() {
            Ok(())
        } else {
            Err(MpicError::NoSuchCpu(cpu))
        }
    }
}

fn source_block(source: Source) -> Result<usize, MpicError> {
    if source.0 < SOURCE_SLOTS {
        Ok(SOURCE_BASE + SOURCE_STRIDE * usize::from(source.0))
    } else {
        Err(MpicError::NoSuchSource(source.0))
    }
}

fn cpu_reg(cpu: usize, reg: usize) -> usize {
    CPU_BASE + CPU_STRIDE * cpu + reg
}

#[cfg(test)]
mod tests;
