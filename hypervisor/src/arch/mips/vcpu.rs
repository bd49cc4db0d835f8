//! Guests on MIPS: the arch half of running a guest CPU.
//!
//! The guest CPU model (virtual CP0 and TLB, decoding, reflection, shadow translation) is the
//! portable `vcpu_mips` crate. This module does what needs the real machine: entering the
//! guest ([`vmm::GuestCpu::run`] on [`GuestCpu`], through the world switch in `guest.rs`),
//! handing every guest trap to the model and carrying out its [`Outcome`] (writing host TLB
//! entries, cache operations, hypercalls through the kernel's [`GuestEnv`]), delivering virtual
//! interrupts on the way back in, and publishing the running guest's refill cache to the assembly refill handler.

use alloc::boxed::Box;
use core::arch::asm;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use vcpu_mips::cache_op::host_op;
use vcpu_mips::{
    Fast, GuestRegs, HaltReason, HostAsidAllocator, HostCacheAction, HostCpu, HostInvalidation,
    Hpa, Hypercall, Outcome, RealMode, Trap, Vcpu, VcpuConfig,
};

use guest_mem::{GuestArch, PhysRange};
use vmm::{CpuError, EntryState, GuestEnv, GuestHalt, RunExit};

use super::commpage::{self, GuestPage};
use super::trap::{self, TrapFrame};
use super::{cp0, guest, tlb};

/// Exit codes of a guest's turn.
const EXIT_PREEMPTED: u32 = 1;
const EXIT_WAITING: u32 = 2;
const EXIT_HALTED: u32 = 3;

/// The model's reason to stop a guest, as guest management says it.
fn cpu_halt(reason: HaltReason) -> GuestHalt {
    match reason {
        HaltReason::ExceptionWithBev { code } => GuestHalt::ExceptionWithBootVectors {
            code: u32::from(code),
        },
        HaltReason::VectorOutsideRam { vector } => GuestHalt::VectorOutsideRam { vector },
    }
}

/// The address of the running guest's refill cache, or 0. Read by the refill vector.
#[no_mangle]
static __hv_refill_cache: AtomicU32 = AtomicU32::new(0);

/// The running guest's [`RunContext`] (0 when none runs).
static CURRENT: AtomicUsize = AtomicUsize::new(0);

/// Host ASIDs, shared by all guests. (A ticket lock: its word-sized atomics are a few
/// instructions on MIPS, where a byte compare-and-swap is a masked `ll`/`sc` loop; it is taken
/// on every fast trap that changes the guest's address space.)
static ASIDS: spin::mutex::TicketMutex<HostAsidAllocator> =
    spin::mutex::TicketMutex::new(HostAsidAllocator::new());

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
    /// The exit code of a turn the fast path ended (left by the general return path).
    exit: Option<u32>,
    /// The partition: the hypervisor's virtual address of its base (kseg0 or the window above
    /// 512 MiB), and its size.
    ram_va: usize,
    size: u32,
    /// The partition (host-physical), kept for a reset.
    partition: PhysRange,
    /// The commpage the guest kernel's rewritten `mfc0`s load from, and its host-physical
    /// address (`None`: not reachable through kseg0, the guest runs without one).
    commpage: Box<GuestPage>,
    commpage_pa: Option<u64>,
}

/// Reads guest memory through the hypervisor's view of RAM (kseg0, or the window above 512 MiB).
struct HostView;

impl vcpu_mips::GuestMemory for HostView {
    fn read_word(&self, addr: Hpa) -> u32 {
        let va = super::highmem::kernel_va(addr.get(), 4);
        // SAFETY: the model only reads aligned words inside the guest's partition, which is RAM
        // owned by this guest that the hypervisor reaches (partitions come from
        // `guest_ram_map`).
        unsafe { (va as *const u32).read_volatile() }
    }
}

/// Real Status for a guest: KSU for `mode`, EXL (so the trap return can restore EPC), IE, and
/// the host's interrupt lines; no CU bits, BEV clear.
fn guest_status(mode: RealMode) -> u32 {
    let ksu = match mode {
        RealMode::Supervisor => 1 << 3,
        RealMode::User => 2 << 3,
    };
    let host_lines = cp0::read_status() & 0xFF00;
    host_lines | ksu | cp0::STATUS_EXL | cp0::STATUS_IE
}

fn host_cpu() -> HostCpu {
    HostCpu::from_registers(cp0::read_config1(), 0).unwrap_or(HostCpu::AR7161)
}

impl vmm::GuestCpu for GuestCpu {
    const ARCH: GuestArch = GuestArch::MIPS32;
    const RUNS_GUESTS: bool = true;

    /// A guest CPU for the partition `part`, starting as `entry` says (PC, `$a0..$a3`).
    fn create(part: PhysRange, entry: &EntryState) -> Result<Box<Self>, CpuError> {
        let size = u32::try_from(part.size).map_err(|_| CpuError::Partition)?;
        let partition = vcpu_mips::mips_partition(Hpa::new(part.base), size)
            .map_err(|_| CpuError::Partition)?;
        let vcpu = Vcpu::new(
            VcpuConfig::for_guest(partition, host_cpu()),
            cp0::read_count(),
        )
        .map_err(|_| CpuError::HostCpu)?;
        let (commpage, commpage_pa) = commpage::allocate();
        let mut regs = TrapFrame::at(entry.pc, guest_status(RealMode::Supervisor));
        regs.gpr[4..8].copy_from_slice(&entry.args[..4]);
        let ram_va = super::highmem::kernel_va(part.base, size as usize);
        let mut cpu = Box::new(GuestCpu {
            regs,
            vcpu,
            halt: None,
            exit: None,
            ram_va,
            size,
            partition: part,
            commpage,
            commpage_pa,
        });
        // In the box: a `Vcpu` (11 KiB) changed before it is moved there would take a second
        // copy on the stack.
        if let Some(pa) = commpage_pa {
            cpu.vcpu.set_commpage(Hpa::new(pa));
        }
        Ok(cpu)
    }

    /// A new CPU state in place (host ASIDs are never reused within a generation, so nothing
    /// of the old state's host TLB entries can be reached).
    fn reset(&mut self, entry: &EntryState) -> Result<(), CpuError> {
        let partition = vcpu_mips::mips_partition(Hpa::new(self.partition.base), self.size)
            .map_err(|_| CpuError::Partition)?;
        self.vcpu = Vcpu::new(
            VcpuConfig::for_guest(partition, host_cpu()),
            cp0::read_count(),
        )
        .map_err(|_| CpuError::HostCpu)?;
        if let Some(pa) = self.commpage_pa {
            self.vcpu.set_commpage(Hpa::new(pa));
        }
        self.regs = TrapFrame::at(entry.pc, guest_status(RealMode::Supervisor));
        self.regs.gpr[4..8].copy_from_slice(&entry.args[..4]);
        self.halt = None;
        self.exit = None;
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
        // only between `enter` and `exit`, while this function is suspended in the `syscall`,
        // and `regs` holds a guest-mode Status (set by `create` and by every exit).
        let code = unsafe { guest::run(regs, &mut context as *mut RunContext as usize) };
        match code {
            EXIT_PREEMPTED => RunExit::Preempted,
            EXIT_WAITING => RunExit::Waiting,
            _ => RunExit::Halted(self.halt.unwrap_or(GuestHalt::HostException(0))),
        }
    }

    /// Whether the guest can run (not waiting, or an interrupt it waits for is pending).
    fn runnable(&mut self) -> bool {
        self.vcpu.runnable(cp0::read_count())
    }

    /// End a `wait` for a host reason (a frame or console input arrived).
    fn wake(&mut self) {
        self.vcpu.wake();
    }

    /// Assert the guest's device interrupt (virq word set).
    fn inject_device_interrupt(&mut self) {
        self.vcpu.raise_device_interrupt();
    }

    /// Counter cycles the guest may be left waiting after it gave up the CPU (`wait`, or the
    /// yield hypercall) when nothing wakes it: until its timer fires, or at most `yield_cycles`
    /// when its interrupts are off (then it only yields; see [`Vcpu::wait_deadline`]).
    fn wait_deadline(&self, yield_cycles: u64) -> Option<u64> {
        let yield_cycles = u32::try_from(yield_cycles).unwrap_or(u32::MAX);
        self.vcpu
            .wait_deadline(cp0::read_count(), yield_cycles)
            .map(u64::from)
    }
}

impl GuestCpu {
    /// The instruction word at guest address `va`, if it lies in the guest's RAM window (the
    /// guest kernel's own code).
    fn window_word(&self, va: u32) -> Option<u32> {
        let offset = va.wrapping_sub(vcpu_mips::addr::RAM_WINDOW_BASE);
        if offset >= self.size || va & 3 != 0 {
            return None;
        }
        let word = (self.ram_va + offset as usize) as *const u32;
        // SAFETY: an aligned word inside the guest's partition, which `ram_va` maps for as long
        // as this CPU exists.
        Some(unsafe { word.read_volatile() })
    }
}

/// The guest's registers as the model sees them: the first fields of the frame.
fn guest_regs(frame: &mut TrapFrame) -> &mut GuestRegs {
    // SAFETY: `TrapFrame` is `repr(C)` and starts with exactly `GuestRegs`' fields (gpr at 0,
    // PC at 128, the branch-delay bool at 132; asserted in trap.rs), and the trap entry stores
    // only 0 or 1 in that byte.
    unsafe { &mut *(frame as *mut TrapFrame as *mut GuestRegs) }
}

/// Trap handler: a guest is being entered (`frame` is the host's `syscall` frame).
pub(super) fn enter(frame: &mut TrapFrame) {
    let context = guest::enter(frame);
    CURRENT.store(context, Ordering::Relaxed);
    resume(frame, context);
}

fn context_of(raw: usize) -> &'static mut RunContext<'static> {
    // SAFETY: `raw` is the `RunContext` of the `GuestCpu::run` call suspended in its `syscall`
    // (published in CURRENT between enter and exit); nothing else touches it meanwhile.
    unsafe { &mut *(raw as *mut RunContext<'static>) }
}

/// End the guest's turn.
fn leave(frame: &mut TrapFrame, code: u32) {
    __hv_refill_cache.store(0, Ordering::Relaxed);
    super::fast_cp0::withdraw();
    CURRENT.store(0, Ordering::Relaxed);
    guest::exit(frame, code);
}

/// GPRs the fast entry saved (and restores): all but $16..$23 and $30, which Rust preserves.
const FAST_GPRS: u32 = !(0xFF << 16 | 1 << 30);

/// What [`__hv_trap_fast`] tells the trap entry.
const FAST_DONE: u32 = 0;
const FAST_DONE_LOOK: u32 = 1;
const FAST_DECLINED: u32 = 2;

/// Fast path for an exception the running guest took (not an interrupt), called by the trap
/// entry with only the phase 1 registers saved and BadVAddr in `bad_vaddr`. Returns `FAST_DONE`
/// (return straight into the guest), `FAST_DONE_LOOK` (done, but the general return path must
/// run: an interrupt to deliver, a request to look at, the guest's turn ends) or
/// `FAST_DECLINED` (nothing changed: take the general path).
#[no_mangle]
extern "C" fn __hv_trap_fast(frame: &mut TrapFrame, bad_vaddr: u32) -> u32 {
    let raw = CURRENT.load(Ordering::Relaxed);
    if raw == 0 {
        return FAST_DECLINED;
    }
    let ctx = context_of(raw);
    let result = trap_fast(ctx, frame, bad_vaddr);
    if result == FAST_DONE {
        // Straight back into the guest: what its rewritten mfc0s read may have changed.
        ctx.cpu.commpage.fill(&ctx.cpu.vcpu);
    }
    result
}

#[inline(always)]
fn trap_fast(ctx: &mut RunContext, frame: &mut TrapFrame, bad_vaddr: u32) -> u32 {
    if frame.cause & CAUSE_CODE_AND_CE != CPU_CE0 {
        return fast_exception(ctx, frame, bad_vaddr);
    }
    let Some(word) = ctx.cpu.window_word(frame.epc) else {
        return FAST_DECLINED;
    };
    // The hypercall has its own entry (`__hv_trap_hypercall`; `fast_trap` still knows it).
    // `mfc0` in line (guest kernels read CP0 all the time), rewritten into a load from the
    // commpage when it may be, once it is served (a path that declines it fetches it again);
    // the rest out of line.
    let rewrite = ctx
        .cpu
        .vcpu
        .rewrite_site(guest_regs(frame), word, &HostView);
    if ctx
        .cpu
        .vcpu
        .fast_mfc0(guest_regs(frame), word, cp0::read_count, FAST_GPRS)
    {
        if let Some(r) = rewrite {
            commpage::rewrite(&r);
        }
        return FAST_DONE;
    }
    fast_instruction(ctx, frame, word)
}

/// The hypercall's own entry, called like [`__hv_trap_fast`] when the assembly path
/// (`fast_cp0.rs`) found the hypercall word at the guest's EPC, in its RAM window, outside a
/// delay slot; `word` is what it read there. The model still decides (the word, the delay
/// slot, virtual kernel mode): what it declines returns `FAST_DECLINED` with nothing changed.
#[no_mangle]
extern "C" fn __hv_trap_hypercall(frame: &mut TrapFrame, word: u32) -> u32 {
    let raw = CURRENT.load(Ordering::Relaxed);
    if raw == 0 {
        return FAST_DECLINED;
    }
    let ctx = context_of(raw);
    match ctx.cpu.vcpu.fast_hypercall(guest_regs(frame), word) {
        Some(call) => serve_hypercall(ctx, frame, call),
        None => FAST_DECLINED,
    }
}

/// Serve a hypercall the fast path recognised (the PC is already past it).
#[inline(always)]
fn serve_hypercall(ctx: &mut RunContext, frame: &mut TrapFrame, call: Hypercall) -> u32 {
    // The arguments straight from the frame ($a0..$a3), not a copy.
    let args: &[u32; 4] = frame.gpr[4..8].try_into().expect("four registers");
    let (result, attention) = ctx.env.hypercall(call.nr, args);
    Hypercall::complete(guest_regs(frame), result);
    if attention {
        FAST_DONE_LOOK
    } else {
        FAST_DONE
    }
}

/// The fast path for the other privileged instructions (out of line, so that the `mfc0` path
/// stays short).
#[inline(never)]
fn fast_instruction(ctx: &mut RunContext, frame: &mut TrapFrame, word: u32) -> u32 {
    match ctx
        .cpu
        .vcpu
        .fast_trap(guest_regs(frame), word, cp0::read_count, FAST_GPRS, || {
            ASIDS.lock()
        }) {
        Fast::Declined => FAST_DECLINED,
        Fast::Done => FAST_DONE,
        Fast::Hypercall(call) => serve_hypercall(ctx, frame, call),
        Fast::Reenter { timer } => fast_reenter(ctx, frame, true, timer),
        Fast::InvalidateHost => {
            invalidate_host(ctx.cpu.vcpu.host_invalidation());
            FAST_DONE
        }
        Fast::Cache(action) => {
            cache_ops(&action);
            FAST_DONE
        }
    }
}

/// The fast path for the guest's exceptions that use no general register (TLB faults,
/// `syscall`, address errors...; see `vcpu_mips::trap_uses_gprs`): the general handler, then
/// straight back unless the guest's turn ends.
#[inline(never)]
fn fast_exception(ctx: &mut RunContext, frame: &mut TrapFrame, bad_vaddr: u32) -> u32 {
    if vcpu_mips::trap_uses_gprs(frame.cause) {
        return FAST_DECLINED;
    }
    frame.badvaddr = bad_vaddr;
    let t = Trap {
        cause: frame.cause,
        bad_vaddr,
        now: cp0::read_count(),
    };
    let outcome = {
        let asids = ASIDS.lock();
        ctx.cpu
            .vcpu
            .handle_trap(guest_regs(frame), &t, &HostView, &asids)
    };
    // A shadow mapping needs nothing more. A reflected exception leaves the guest at its vector
    // with EXL set: nothing deliverable, supervisor mode, the kernel-mode host ASID published
    // by the last prepare_entry (ERL unchanged: with ERL set, the one it runs under); that is
    // all prepare_entry would decide (checked by vcpu-mips/tests/assembly_rules.rs).
    // Anything else may need prepare_entry (a refill without a host ASID yet is retried after
    // it assigns one).
    match outcome {
        Outcome::Reflected { .. } => {
            if ctx.cpu.vcpu.cp0().status & vcpu_mips::cp0::ST_ERL == 0 {
                tlb::set_asid(ctx.cpu.vcpu.mode_asids().0);
            }
            frame.status = guest_status(RealMode::Supervisor);
            FAST_DONE
        }
        _ => {
            if let Some(code) = carry_out(ctx, frame, &outcome) {
                ctx.cpu.exit = Some(code);
                return FAST_DONE_LOOK;
            }
            let reenter = !matches!(outcome, Outcome::MapHost(_));
            fast_reenter(ctx, frame, reenter, false)
        }
    }
}

/// The end of a fast trap that may have changed the guest's mode, address space, interrupt
/// state (`reenter`) or timer.
fn fast_reenter(ctx: &mut RunContext, frame: &mut TrapFrame, reenter: bool, timer: bool) -> u32 {
    if reenter {
        if let Err(halt) = reenter_guest(ctx, frame) {
            ctx.cpu.halt = Some(halt);
            ctx.cpu.exit = Some(EXIT_HALTED);
            return FAST_DONE_LOOK;
        }
    }
    ctx.cpu.commpage.fill(&ctx.cpu.vcpu);
    if timer {
        super::timer_set_guest_deadline(ctx.cpu.vcpu.timer_deadline(cp0::read_count()));
    }
    FAST_DONE
}

/// Cause.ExcCode and Cause.CE of a Coprocessor Unusable trap for CP0.
const CAUSE_CODE_AND_CE: u32 = 3 << 28 | 0x1F << 2;
const CPU_CE0: u32 = 11 << 2;

/// After a fast-path trap that needs the general return path (all registers saved now).
#[no_mangle]
extern "C" fn __hv_after_fast(frame: &mut TrapFrame) {
    let raw = CURRENT.load(Ordering::Relaxed);
    if let Some(code) = context_of(raw).cpu.exit.take() {
        return leave(frame, code);
    }
    finish(frame, raw);
}

/// Trap handler: an exception taken while a guest ran, that the fast path declined.
pub(super) fn trap(frame: &mut TrapFrame) {
    let raw = CURRENT.load(Ordering::Relaxed);
    assert!(
        raw != 0,
        "a trap from supervisor/user mode without a running guest"
    );
    let code = trap::exc_code(frame);
    if code == 0 {
        trap::interrupt(frame);
    } else {
        let ctx = context_of(raw);
        let rewrite = if frame.cause & CAUSE_CODE_AND_CE == CPU_CE0 {
            rewrite_of(ctx, frame)
        } else {
            None
        };
        let t = Trap {
            cause: frame.cause,
            bad_vaddr: frame.badvaddr,
            now: cp0::read_count(),
        };
        let outcome = {
            let asids = ASIDS.lock();
            ctx.cpu
                .vcpu
                .handle_trap(guest_regs(frame), &t, &HostView, &asids)
        };
        if let (Some(r), Outcome::Resume) = (rewrite, outcome) {
            commpage::rewrite(&r);
        }
        if let Some(code) = carry_out(ctx, frame, &outcome) {
            return leave(frame, code);
        }
    }
    finish(frame, raw);
}

/// The rewrite of the `mfc0` the guest trapped on (at EPC, or in the delay slot after it), if
/// the model allows one, decided on the state at the trap; carried out once the trap is served
/// (the general path fetches the instruction itself).
fn rewrite_of(ctx: &mut RunContext, frame: &mut TrapFrame) -> Option<vcpu_mips::Rewrite> {
    let regs = guest_regs(frame);
    let at = if regs.branch_delay {
        regs.pc.wrapping_add(4)
    } else {
        regs.pc
    };
    let word = ctx.cpu.window_word(at)?;
    ctx.cpu.vcpu.rewrite_site(regs, word, &HostView)
}

/// Carry out what the guest CPU model asked for. Returns the exit code when the guest's turn
/// must end.
fn carry_out(ctx: &mut RunContext, frame: &mut TrapFrame, outcome: &Outcome) -> Option<u32> {
    match *outcome {
        Outcome::Resume | Outcome::Reflected { .. } => {}
        Outcome::MapHost(e) => tlb::write(&tlb::Entry {
            entry_hi: e.entry_hi,
            entry_lo0: e.entry_lo0,
            entry_lo1: e.entry_lo1,
            page_mask: e.page_mask,
        }),
        Outcome::InvalidateHost => invalidate_host(ctx.cpu.vcpu.host_invalidation()),
        Outcome::Cache(action) => cache_ops(&action),
        Outcome::Hypercall(call) => {
            let (result, _) = ctx.env.hypercall(call.nr, &call.args);
            Hypercall::complete(guest_regs(frame), result);
        }
        Outcome::Wait => return Some(EXIT_WAITING),
        Outcome::HostException { code } => {
            ctx.cpu.halt = Some(GuestHalt::HostException(code));
            return Some(EXIT_HALTED);
        }
        Outcome::Halt(reason) => {
            ctx.cpu.halt = Some(cpu_halt(reason));
            return Some(EXIT_HALTED);
        }
    }
    None
}

/// Leave the guest if the host wants the CPU, else prepare to return into it.
fn finish(frame: &mut TrapFrame, raw: usize) {
    if context_of(raw).env.host_wants_cpu() {
        return leave(frame, EXIT_PREEMPTED);
    }
    resume(frame, raw);
}

/// Prepare `frame` (the guest's registers) for the return into the guest.
fn resume(frame: &mut TrapFrame, raw: usize) {
    let ctx = context_of(raw);
    if ctx.env.take_device_interrupt() {
        ctx.cpu.vcpu.raise_device_interrupt();
    }
    if let Err(halt) = reenter_guest(ctx, frame) {
        ctx.cpu.halt = Some(halt);
        return leave(frame, EXIT_HALTED);
    }
    let cache = ctx.cpu.vcpu.refill_cache().slots().as_ptr() as u32;
    __hv_refill_cache.store(cache, Ordering::Relaxed);
    ctx.cpu.commpage.fill(&ctx.cpu.vcpu);
    super::fast_cp0::publish(
        &ctx.cpu.vcpu,
        ctx.cpu.ram_va,
        ctx.cpu.size,
        ctx.cpu.commpage.kseg0(),
    );
    super::timer_set_guest_deadline(ctx.cpu.vcpu.timer_deadline(cp0::read_count()));
}

/// Deliver a virtual interrupt if the guest's state allows it now, and set the real mode and
/// host ASID the guest returns into ([`Vcpu::prepare_entry`]).
fn reenter_guest(ctx: &mut RunContext, frame: &mut TrapFrame) -> Result<(), GuestHalt> {
    let entry = {
        let mut asids = ASIDS.lock();
        ctx.cpu
            .vcpu
            .prepare_entry(guest_regs(frame), cp0::read_count(), &mut asids)
    };
    let entry = entry.map_err(cpu_halt)?;
    if entry.flush_host_tlb {
        tlb::flush_all();
    }
    tlb::set_asid(entry.host_asid);
    frame.status = guest_status(entry.mode);
    Ok(())
}

/// Drop the host TLB entries a guest TLB write made stale: by probing for each page pair and
/// ASID when they are few (a `tlbp` each), else by reading back every entry.
fn invalidate_host(inv: &HostInvalidation) {
    if inv.probe_count() <= 4 * u64::from(tlb::size()) {
        tlb::invalidate_probed(|probe| inv.for_each_probe(probe));
    } else {
        tlb::invalidate_matching(|hi, mask| inv.covers(hi, mask));
    }
}

/// Execute the cache operations the model asked for: index operations on kseg0 addresses, hit
/// operations on one line of the guest's partition through the hypervisor's view of it.
pub(super) fn cache_ops(action: &HostCacheAction) {
    let first = match action.op {
        host_op::HIT_WB_INVALIDATE_D | host_op::HIT_WB_D => {
            // A kernel address: 32 bits on MIPS32.
            #[allow(clippy::cast_possible_truncation)]
            let va = super::highmem::kernel_va(u64::from(action.first), 1) as u32;
            va
        }
        _ => action.first,
    };
    for k in 0..action.count {
        let addr = first.wrapping_add(k.wrapping_mul(action.stride));
        // SAFETY: `cache` on a kseg0 address, or on the kseg0/window view of the guest's own
        // RAM (always mapped), cannot fault; the model only produces
        // write-back-and-invalidate / invalidate operations, which never lose dirty data
        // (instruction-cache invalidation and D-cache write-back only).
        unsafe {
            match action.op {
                0x00 => asm!("cache 0x00, 0({0})", in(reg) addr, options(nostack)),
                0x01 => asm!("cache 0x01, 0({0})", in(reg) addr, options(nostack)),
                0x15 => asm!("cache 0x15, 0({0})", in(reg) addr, options(nostack)),
                0x19 => asm!("cache 0x19, 0({0})", in(reg) addr, options(nostack)),
                _ => {}
            }
        }
    }
}
