//! Guests on the e500v2: the arch half of running a guest CPU.
//!
//! The guest CPU model (virtual MSR, SPRs and TLBs, decoding, reflection, shadow translation,
//! timers) is the portable `vcpu_e500` crate. This module does what needs the real machine:
//! entering the guest ([`vmm::GuestCpu::run`] on [`GuestCpu`], through the world switch in
//! `guest.rs`) in problem state and address space 1 with its shadow IDs in PID0/PID1, handing
//! every guest trap to the model and carrying out its [`Outcome`] (host TLB writes and
//! invalidations, cache and branch-buffer operations, hypercalls through the kernel's
//! [`GuestEnv`]), pointing the TLB-miss handler (`trap.rs`) at the guest's refill cache, and delivering
//! virtual interrupts (the virq word as External Input, the virtual timers) on the way back in.
//! The Program interrupt's hypercall and common privileged instructions take the fast path
//! first (`fast.rs`), with part of the registers saved.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicUsize, Ordering};

use guest_mem::{GuestArch, Hpa, PhysRange, PPC_RAM_WINDOW};
use vcpu_e500::{
    CacheAction, GuestRegs, HaltReason, HostCpu, HostPidAllocator, Hypercall, Interrupt, Outcome,
    Trap, Vcpu, VcpuConfig,
};
use vmm::{CpuError, EntryState, GuestEnv, GuestHalt, RunExit};

use super::spr::{self, mfspr, mtspr};
use super::trap::TrapFrame;
use super::{guest, tlb};

mod fast;
pub(super) use fast::{FAST_DONE, REAL_SPRG};

/// Exit codes of a guest's turn.
const EXIT_PREEMPTED: u32 = 1;
const EXIT_WAITING: u32 = 2;
const EXIT_HALTED: u32 = 3;

/// The real MSR a guest runs with: problem state, address space 1 for fetches and data,
/// external input and decrementer enabled (they are the host's), machine checks enabled.
/// Critical interrupts stay off as in the host; UCLE = 0 (cache locking traps), DE = 0,
/// SPE = 0 (SPE instructions reach the guest's own SPE-unavailable handler).
const GUEST_MSR: u32 = spr::MSR_PR | spr::MSR_IS | spr::MSR_DS | spr::MSR_EE | spr::MSR_ME;

/// MetaROUTER hypercall `vm_setup_irqs(&word, 32)`: the guest's pending-virq word.
const HC_SETUP_IRQS: u32 = 14;

/// The model's reason to stop a guest, as guest management says it.
fn cpu_halt(reason: HaltReason) -> GuestHalt {
    match reason {
        HaltReason::VectorUnmapped { vector } => GuestHalt::VectorOutsideRam { vector },
        HaltReason::Checkstop => GuestHalt::Checkstop,
        HaltReason::WatchdogReset => GuestHalt::WatchdogReset,
    }
}

/// The interrupt of IVOR `n` as the model names it.
fn interrupt_of(n: u32) -> Option<Interrupt> {
    Interrupt::ALL
        .iter()
        .copied()
        .find(|i| u32::from(i.ivor()) == n)
}

/// The running guest's [`RunContext`] (0 when none runs).
static CURRENT: AtomicUsize = AtomicUsize::new(0);

/// Host PIDs ("shadow IDs"), shared by all guests of this CPU.
static PIDS: spin::Mutex<HostPidAllocator> = spin::Mutex::new(HostPidAllocator::new());

/// What the trap handler needs while a guest runs.
struct RunContext<'a> {
    cpu: &'a mut GuestCpu,
    env: &'a mut dyn GuestEnv,
}

/// One guest CPU.
pub struct GuestCpu {
    regs: TrapFrame,
    vcpu: Vcpu,
    halt: Option<GuestHalt>,
    /// The partition (host-physical), kept for a reset.
    partition: PhysRange,
    /// The guest's USPRG0 (user read/write, switched with the guest).
    usprg0: u32,
    /// Guest-physical address of the registered virq word (`vm_setup_irqs`), if any.
    virq_word: Option<u32>,
}

/// Reads guest memory through the hypervisor's one-to-one map of low RAM.
struct HostView;

impl vcpu_e500::GuestMemory for HostView {
    fn read_word(&self, addr: Hpa) -> u32 {
        // SAFETY: the model only reads aligned words inside the guest's partition, which lies
        // in the RAM the hypervisor maps one to one (partitions come from `guest_ram_map`).
        unsafe { (low_ram_va(addr.get()) as *const u32).read_volatile() }
    }
}

/// The hypervisor's address of guest RAM at host-physical `hpa`: partitions lie in the RAM
/// mapped one to one below [`mapped_end`](super::mmu::mapped_end) (`guest_ram_map`), so the
/// address is the physical one and fits 32 bits.
#[allow(clippy::cast_possible_truncation)]
fn low_ram_va(hpa: u64) -> usize {
    debug_assert!(hpa < super::mmu::mapped_end());
    hpa as usize
}

fn host_cpu() -> Result<HostCpu, CpuError> {
    HostCpu::from_registers(mfspr!(spr::PVR), mfspr!(spr::SVR)).map_err(|_| CpuError::HostCpu)
}

fn new_vcpu(part: PhysRange) -> Result<Vcpu, CpuError> {
    let size = u32::try_from(part.size).map_err(|_| CpuError::Partition)?;
    let partition =
        vcpu_e500::e500_partition(Hpa::new(part.base), size).map_err(|_| CpuError::Partition)?;
    Vcpu::new(VcpuConfig::new(partition, host_cpu()?), super::counter())
        .map_err(|_| CpuError::Partition)
}

/// The frame a guest starts from: the model's boot registers and the guest MSR.
fn boot_frame(vcpu: &Vcpu, entry: &EntryState) -> TrapFrame {
    let boot = vcpu.boot_registers(entry.pc, entry.args);
    TrapFrame {
        gpr: boot.gpr,
        srr0: boot.pc,
        cr: boot.cr,
        srr1: GUEST_MSR,
        ..TrapFrame::default()
    }
}

impl vmm::GuestCpu for GuestCpu {
    const ARCH: GuestArch = GuestArch::E500;
    /// Off until an e500 guest has been seen to run end to end (see the crate README).
    const RUNS_GUESTS: bool = true;

    /// A guest CPU for the partition `part`, starting as `entry` says (PC, r3..r7).
    fn create(part: PhysRange, entry: &EntryState) -> Result<Box<Self>, CpuError> {
        let vcpu = new_vcpu(part)?;
        let regs = boot_frame(&vcpu, entry);
        Ok(Box::new(GuestCpu {
            regs,
            vcpu,
            halt: None,
            partition: part,
            usprg0: 0,
            virq_word: None,
        }))
    }

    /// A new CPU state in place (the old shadow IDs are retired, so none of the old state's
    /// host TLB entries can match again).
    fn reset(&mut self, entry: &EntryState) -> Result<(), CpuError> {
        self.vcpu.reset(super::counter());
        self.regs = boot_frame(&self.vcpu, entry);
        self.halt = None;
        self.usprg0 = 0;
        self.virq_word = None;
        Ok(())
    }

    /// Run the guest until its turn ends.
    fn run(&mut self, env: &mut dyn GuestEnv) -> RunExit {
        if let Some(halt) = self.halt {
            return RunExit::Halted(halt);
        }
        let regs: *mut TrapFrame = &mut self.regs;
        let mut context = RunContext { cpu: self, env };
        // SAFETY: `regs` and `context` live until `run` returns; the trap handler reaches them
        // only between `enter` and `exit`, while this function is suspended in the `sc`, and
        // `regs` holds the guest MSR (set by `create` and kept by every trap).
        let code = unsafe { guest::run(regs, &mut context as *mut RunContext as usize) };
        match code {
            EXIT_PREEMPTED => RunExit::Preempted,
            EXIT_WAITING => RunExit::Waiting,
            _ => RunExit::Halted(self.halt.unwrap_or(GuestHalt::HostException(0))),
        }
    }

    fn runnable(&mut self) -> bool {
        self.vcpu.runnable(super::counter())
    }

    fn wake(&mut self) {
        self.vcpu.wake();
    }

    /// The virq word changed: the External Input level is read from it at the next entry;
    /// a guest that dozes is woken to take it.
    fn inject_device_interrupt(&mut self) {
        self.vcpu.set_external_input(true);
    }

    fn wait_deadline(&self, yield_cycles: u64) -> Option<u64> {
        self.vcpu.wait_deadline(super::counter(), yield_cycles)
    }
}

impl GuestCpu {
    /// The External Input level: whether the guest's virq word has a bit set (no word
    /// registered: whatever was last injected).
    fn virq_pending(&self) -> Option<bool> {
        let gpa = self.virq_word?;
        let size = self.partition.size;
        if gpa & 3 != 0 || u64::from(gpa) + 4 > size {
            return Some(false);
        }
        let hpa = self.partition.base + u64::from(gpa);
        // SAFETY: an aligned word inside the guest's partition, mapped one to one.
        Some(unsafe { (low_ram_va(hpa) as *const u32).read_volatile() } != 0)
    }
}

/// The guest's registers as the model sees them: the first fields of the frame.
fn guest_regs(frame: &mut TrapFrame) -> &mut GuestRegs {
    // SAFETY: `TrapFrame` is `repr(C)` and starts with exactly `GuestRegs`' fields (gpr at 0,
    // PC at 128, CR at 132; asserted in trap.rs), all plain `u32`s.
    unsafe { &mut *(frame as *mut TrapFrame as *mut GuestRegs) }
}

fn context_of(raw: usize) -> &'static mut RunContext<'static> {
    // SAFETY: `raw` is the `RunContext` of the `GuestCpu::run` call suspended in its `sc`
    // (published in CURRENT between enter and exit); nothing else touches it meanwhile.
    unsafe { &mut *(raw as *mut RunContext<'static>) }
}

/// Trap handler: a guest is being entered (`frame` is the host's `sc` frame).
pub(super) fn enter(frame: &mut TrapFrame) {
    let raw = guest::enter(frame);
    CURRENT.store(raw, Ordering::Relaxed);
    let cpu = &context_of(raw).cpu;
    mtspr!(spr::USPRG0, cpu.usprg0);
    // The guest's CPU lives in its `Box` for the whole turn.
    tlb::set_refill_table(Some((cpu.vcpu.refill_cache(), cpu.vcpu.host_mas7())));
    super::fast_spr::set_vcpu(Some(&cpu.vcpu));
    resume(frame, raw);
}

/// End the guest's turn.
fn leave(frame: &mut TrapFrame, code: u32) {
    let raw = CURRENT.swap(0, Ordering::Relaxed);
    tlb::set_refill_table(None);
    super::fast_spr::set_vcpu(None);
    context_of(raw).cpu.usprg0 = mfspr!(spr::USPRG0);
    super::timer_set_guest_deadline(None);
    guest::exit(frame, code);
}

/// Trap handler: an interrupt taken while a guest ran (`frame.srr1` has MSR\[PR\]).
pub(super) fn trap(frame: &mut TrapFrame) {
    let raw = CURRENT.load(Ordering::Relaxed);
    assert!(
        raw != 0,
        "a trap from problem state without a running guest"
    );
    let ctx = context_of(raw);
    match frame.vector {
        super::trap::IVOR_EXTERNAL_INPUT => super::external_input(),
        super::trap::IVOR_DECREMENTER => {
            if super::timer_interrupt() {
                crate::kernel::on_tick();
            }
        }
        // TLB errors that hit the refill cache never get here (`__hv_tlb_miss` in trap.rs).
        vector => {
            let Some(interrupt) = interrupt_of(vector) else {
                ctx.cpu.halt = Some(GuestHalt::HostException(
                    u8::try_from(vector).unwrap_or(u8::MAX),
                ));
                return leave(frame, EXIT_HALTED);
            };
            let t = Trap {
                vector: interrupt,
                esr: frame.esr,
                dear: frame.dear,
                now: super::counter(),
            };
            let outcome = {
                let pids = PIDS.lock();
                ctx.cpu
                    .vcpu
                    .handle_trap(guest_regs(frame), &t, &HostView, &pids)
            };
            if let Some(code) = carry_out(ctx, frame, &outcome) {
                return leave(frame, code);
            }
        }
    }
    finish(frame, raw);
}

/// Carry out what the guest CPU model asked for. Returns the exit code when the guest's turn
/// must end.
fn carry_out(ctx: &mut RunContext, frame: &mut TrapFrame, outcome: &Outcome) -> Option<u32> {
    match *outcome {
        Outcome::Resume | Outcome::Reflected { .. } => {}
        Outcome::MapHost(e) => tlb::map(&e),
        Outcome::InvalidateHost => ctx
            .cpu
            .vcpu
            .host_invalidation()
            .for_each_probe(tlb::invalidate),
        Outcome::Cache(action) => cache_action(action),
        Outcome::FlushBranchBuffer => flush_branch_buffer(),
        Outcome::Hypercall(call) => {
            serve_hypercall(ctx, frame, call.nr);
        }
        Outcome::Wait => return Some(EXIT_WAITING),
        Outcome::HostException { vector } => {
            ctx.cpu.halt = Some(GuestHalt::HostException(vector.ivor()));
            return Some(EXIT_HALTED);
        }
        Outcome::Halt(reason) => {
            ctx.cpu.halt = Some(cpu_halt(reason));
            return Some(EXIT_HALTED);
        }
    }
    None
}

/// Flush the host's branch target buffer (the guest's `BUCSR[BBFI]` write).
fn flush_branch_buffer() {
    mtspr!(spr::BUCSR, mfspr!(spr::BUCSR) | spr::BUCSR_BBFI);
}

/// Perform a cache operation the model asked for.
fn cache_action(action: CacheAction) {
    let CacheAction::FlushDataLine(hpa) = action;
    let va = low_ram_va(hpa.get());
    // SAFETY: `dcbf` writes back and invalidates one line of the guest's own RAM (mapped one
    // to one); it loses no data.
    unsafe { core::arch::asm!("dcbf 0, {0}", "msync", in(reg) va, options(nostack)) };
}

/// Serve hypercall `nr` through guest management, its arguments straight from the frame
/// (r3..r6, as the model's `Hypercall::args`), noting the virq word it registers; whether the
/// general return path must look at what it did.
fn serve_hypercall(ctx: &mut RunContext, frame: &mut TrapFrame, nr: u32) -> bool {
    let args: &[u32; 4] = frame.gpr[3..7].try_into().expect("four registers");
    let (result, attention) = ctx.env.hypercall(nr, args);
    if nr == HC_SETUP_IRQS && result >= 0 {
        ctx.cpu.virq_word = Some(args[0].wrapping_sub(PPC_RAM_WINDOW.get()));
    }
    Hypercall::complete(guest_regs(frame), result);
    attention
}

/// Leave the guest if the host wants the CPU, else prepare to return into it.
fn finish(frame: &mut TrapFrame, raw: usize) {
    if context_of(raw).env.host_wants_cpu() {
        return leave(frame, EXIT_PREEMPTED);
    }
    resume(frame, raw);
}

/// Prepare `frame` (the guest's registers) for the return into the guest: the External Input
/// level, a virtual interrupt if the guest's state allows it now, the shadow IDs in the real
/// PIDs, the user-readable SPRGs and the timer deadline.
fn resume(frame: &mut TrapFrame, raw: usize) {
    let ctx = context_of(raw);
    let injected = ctx.env.take_device_interrupt();
    if ctx.cpu.vcpu.external_input_deliverable() {
        let level = ctx
            .cpu
            .virq_pending()
            .unwrap_or(injected || ctx.cpu.vcpu.external_input());
        ctx.cpu.vcpu.set_external_input(level);
    } else if injected {
        ctx.cpu.vcpu.set_external_input(true);
    }
    let entry = {
        let mut pids = PIDS.lock();
        ctx.cpu
            .vcpu
            .prepare_entry(guest_regs(frame), super::counter(), &mut pids)
    };
    let entry = match entry {
        Ok(entry) => entry,
        Err(reason) => {
            ctx.cpu.halt = Some(cpu_halt(reason));
            return leave(frame, EXIT_HALTED);
        }
    };
    if entry.flush_host_tlb {
        tlb::flush_guest_entries();
    }
    tlb::set_pids(entry.pid0, entry.pid1);
    let [g3, g4, g5, g6, g7] = ctx.cpu.vcpu.user_readable_sprgs();
    mtspr!(spr::SPRG3_WRITE, g3);
    mtspr!(spr::SPRG4_WRITE, g4);
    mtspr!(spr::SPRG5_WRITE, g5);
    mtspr!(spr::SPRG6_WRITE, g6);
    mtspr!(spr::SPRG7_WRITE, g7);
    frame.srr1 = GUEST_MSR;
    super::timer_set_guest_deadline(ctx.cpu.vcpu.timer_deadline(super::counter()));
}
