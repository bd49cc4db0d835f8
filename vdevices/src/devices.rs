//! [`GuestDevices`]: all of one guest's virtual devices, its virq word and its hypercalls.
//!
//! The hypervisor keeps one `GuestDevices` per guest and calls it with that guest's
//! [`GuestRam`]: from the trap path for hypercalls, from its main loop to scan the rings (the ABI
//! has no doorbell: scan when the guest waits or yields, on timer ticks and when it is scheduled
//! out), and from the switch path for frames. After any call it takes the [`Events`]: whether to
//! assert the guest's virtual interrupt, whether the guest yielded, whether it asked to restart
//! or halt, and which queues faulted (log [`GuestDevices::queue_status`], maybe stop the guest).

use crate::abi::{errno, QueueId, MAX_VIRQS, NO_IRQ};
use crate::console::Console;
use crate::control::{Control, ControlWord};
use crate::fault::DeviceError;
use crate::hypercall::Hypercall;
use crate::metafs::errno::ErrnoTable;
use crate::metafs::exports::{Export, ExportError};
use crate::metafs::store::{FsError, MetafsStore, Space, Timestamp};
use crate::metafs::{Metafs, MetafsStats};
use crate::queue::{QueueStatus, Slot};
use crate::veth::{Delivery, InterfaceError, Mac, TxToken, Veth, VethStats, VethTx};
use crate::virq::{VirqSetupError, VirqWord};
use guest_mem::{GuestRam, Gva};

/// TX descriptors handled per queue in one [`GuestDevices::service`] call.
pub const SERVICE_BUDGET: u32 = 64;

/// What the hypervisor has to act on after device calls (accumulated until taken).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// A virq bit was set: assert the guest's virtual interrupt (MIPS IP1, PowerPC external
    /// input), delivered when the guest's virtual interrupt enable allows.
    pub interrupt: bool,
    /// The guest called `vm_yield` (hypercall 16): deschedule it until an interrupt is due.
    pub yielded: bool,
    /// The guest sent "restart" or "halt" on its control queue: restart or stop that guest.
    pub request: Option<ControlWord>,
    /// Bit n: queue n faulted (see [`GuestDevices::queue_status`] for the reason).
    pub faulted: u8,
}

/// Counters of all devices of a guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Control messages that were neither "restart" nor "halt".
    pub control_unknown: u64,
    /// Console output transfers too long to drain.
    pub console_oversized: u64,
    /// metafs requests refused with ENOSYS (the guest has no disk).
    pub metafs_refused: u64,
    /// The metafs file service's counters (`disk-reads`, `disk-writes`, ...).
    pub metafs: MetafsStats,
    /// Virtual ethernet counters.
    pub veth: VethStats,
}

/// One guest's devices.
#[derive(Debug)]
pub struct GuestDevices {
    virq: VirqWord,
    control: Control,
    console: Console,
    metafs: Metafs,
    veth: Veth,
    events: Events,
}

impl Default for GuestDevices {
    fn default() -> Self {
        Self::new()
    }
}

impl GuestDevices {
    /// A guest with no queues, no virq word and no interfaces.
    pub const fn new() -> Self {
        Self {
            virq: VirqWord::new(),
            control: Control::new(),
            console: Console::new(),
            metafs: Metafs::new(),
            veth: Veth::new(),
            events: Events {
                interrupt: false,
                yielded: false,
                request: None,
                faulted: 0,
            },
        }
    }

    /// The guest is restarting: forget its queues, its virq word and pending events. The
    /// configured interfaces stay and are announced again when it creates queue 3.
    pub fn reset(&mut self) {
        self.virq = VirqWord::new();
        for queue in QueueId::ALL {
            self.slot_mut(queue).release();
        }
        self.veth.forget_announcements();
        self.veth.unraised = false;
        self.events = Events::default();
    }

    fn slot_mut(&mut self, queue: QueueId) -> &mut Slot {
        match queue {
            QueueId::Control => &mut self.control.slot,
            QueueId::Console => &mut self.console.slot,
            QueueId::Metafs => &mut self.metafs.slot,
            QueueId::Veth => &mut self.veth.slot,
        }
    }

    /// A queue's state (with the reason, if it faulted).
    pub fn queue_status(&self, queue: QueueId) -> QueueStatus {
        match queue {
            QueueId::Control => self.control.slot.status(),
            QueueId::Console => self.console.slot.status(),
            QueueId::Metafs => self.metafs.slot.status(),
            QueueId::Veth => self.veth.slot.status(),
        }
    }

    /// The registered virq word, if any.
    pub fn virq_word(&self) -> Option<Gva> {
        self.virq.addr()
    }

    /// Whether any event is waiting to be taken.
    #[inline]
    pub fn has_events(&self) -> bool {
        // Non-short-circuit: four loads and one branch on the hypercall path.
        let e = &self.events;
        e.interrupt | e.yielded | (e.faulted != 0) | e.request.is_some()
    }

    /// Takes the accumulated events, leaving none.
    pub fn take_events(&mut self) -> Events {
        core::mem::take(&mut self.events)
    }

    /// The device counters.
    pub fn stats(&self) -> DeviceStats {
        DeviceStats {
            control_unknown: self.control.unknown,
            console_oversized: self.console.oversized,
            metafs_refused: self.metafs.stats.refused,
            metafs: self.metafs.stats,
            veth: self.veth.stats,
        }
    }

    /// Records a queue fault in the events and passes the result on.
    #[inline]
    fn note<T>(&mut self, result: Result<T, DeviceError>) -> Result<T, DeviceError> {
        if let Err(DeviceError::Faulted(fault)) = &result {
            self.events.faulted |= 1 << fault.queue.id();
        }
        result
    }

    /// [`GuestDevices::note`] of an error (out of line, for the frame path).
    #[cold]
    #[inline(never)]
    fn note_error(&mut self, error: DeviceError) {
        if let DeviceError::Faulted(fault) = error {
            self.events.faulted |= 1 << fault.queue.id();
        }
    }

    /// [`GuestDevices::raise`] for the virtual ethernet queue (the frame path's, inline); it
    /// covers every frame delivered before it.
    #[inline]
    fn raise_veth(&mut self, ram: &mut GuestRam<'_>) {
        self.veth.unraised = false;
        if let Some(bit) = self.veth.irq() {
            if self.virq.raise(ram, bit) {
                self.events.interrupt = true;
            }
        }
    }

    /// Sets the queue's virq bit and flags the interrupt.
    #[inline]
    fn raise(&mut self, ram: &mut GuestRam<'_>, queue: QueueId) {
        let irq = match queue {
            QueueId::Control => self.control.slot.irq(),
            QueueId::Console => self.console.slot.irq(),
            QueueId::Metafs => self.metafs.slot.irq(),
            QueueId::Veth => self.veth.slot.irq(),
        };
        if let Some(bit) = irq {
            if self.virq.raise(ram, bit) {
                self.events.interrupt = true;
            }
        }
    }

    /// Handles hypercall `number` with argument registers `args`; returns the value for the
    /// result register. See [`GuestDevices::execute`].
    pub fn hypercall(&mut self, ram: &mut GuestRam<'_>, number: u32, args: [u32; 4]) -> i32 {
        self.execute(ram, Hypercall::decode(number, args))
    }

    /// Executes a decoded hypercall. Results: 0 on success; -EINVAL for an unknown queue id, an
    /// irq that is neither -1 nor below 32, a virq count outside 1..=32, or releasing a queue
    /// that does not exist; -EFAULT for a ring or virq word the guest cannot own (the queue is
    /// then faulted and reported in the events); -ENOSYS for unknown numbers. `vm_running`
    /// answers 0; `vm_yield` answers 0 and sets [`Events::yielded`]. Creating a queue that
    /// exists replaces it (fresh cursors at the new heads).
    pub fn execute(&mut self, ram: &mut GuestRam<'_>, call: Hypercall) -> i32 {
        // The frequent calls stay here; the queue and virq set-up calls (rare, and heavy) are
        // out of line, so this dispatcher stays small on the trap path.
        match call {
            Hypercall::Running => 0,
            Hypercall::Yield => {
                self.events.yielded = true;
                0
            }
            Hypercall::CreateQueue { queue, irq, tx, rx } => {
                self.create_queue(ram, queue, irq, tx, rx)
            }
            Hypercall::ReleaseQueue { queue } => self.release_queue(queue),
            Hypercall::SetupIrqs { word, count } => self.setup_irqs(ram, word, count),
            Hypercall::Unknown(_) => -errno::ENOSYS,
        }
    }

    #[cold]
    #[inline(never)]
    fn create_queue(
        &mut self,
        ram: &mut GuestRam<'_>,
        queue: u32,
        irq: u32,
        tx: Gva,
        rx: Gva,
    ) -> i32 {
        let Some(queue) = QueueId::from_id(queue) else {
            return -errno::EINVAL;
        };
        let irq = match irq {
            NO_IRQ => None,
            bit if bit < MAX_VIRQS => Some(bit as u8),
            _ => return -errno::EINVAL,
        };
        if let Err(fault) = self.slot_mut(queue).open(ram, irq, tx, rx) {
            self.events.faulted |= 1 << fault.queue.id();
            if queue == QueueId::Veth {
                self.veth.forget_announcements();
            }
            return -errno::EFAULT;
        }
        if queue == QueueId::Veth {
            self.veth.forget_announcements();
            self.sync_interfaces(ram);
        }
        0
    }

    #[cold]
    #[inline(never)]
    fn release_queue(&mut self, queue: u32) -> i32 {
        let Some(queue) = QueueId::from_id(queue) else {
            return -errno::EINVAL;
        };
        if queue == QueueId::Veth {
            self.veth.forget_announcements();
        }
        if self.slot_mut(queue).release() {
            0
        } else {
            -errno::EINVAL
        }
    }

    #[cold]
    #[inline(never)]
    fn setup_irqs(&mut self, ram: &mut GuestRam<'_>, word: Gva, count: u32) -> i32 {
        match self.virq.register(ram, word, count) {
            Ok(()) => 0,
            Err(VirqSetupError::BadAddress(_)) => -errno::EFAULT,
            Err(VirqSetupError::BadCount(_)) => -errno::EINVAL,
        }
    }

    /// Scans the control, console and metafs rings (up to [`SERVICE_BUDGET`] descriptors
    /// each), sends console output to `console_out`, and sends pending interface announcements.
    /// Faults and requests land in the events; veth frames are left to the switch path. metafs
    /// requests are refused with ENOSYS here only while the guest has no export: a guest with a
    /// disk is served by [`GuestDevices::serve_metafs`].
    pub fn service(&mut self, ram: &mut GuestRam<'_>, console_out: &mut dyn FnMut(&[u8])) {
        if self.control.slot.is_open() {
            let word = self.control.poll(ram);
            if let Ok(Some(word)) = self.note(word) {
                self.events.request = Some(word);
            }
        }
        if self.console.slot.is_open() {
            let drained = self.console.drain(ram, SERVICE_BUDGET, console_out);
            let _ = self.note(drained);
        }
        self.raise_for_handed_back(ram);
        if self.metafs.slot.is_open() && !self.metafs.has_disk() {
            let refused = self.metafs.refuse(ram, SERVICE_BUDGET);
            let _ = self.note(refused);
        }
        self.sync_interfaces(ram);
    }

    /// Sets (or removes) metafs export `id` of this guest: export 0 is its root file system.
    /// While the guest has no export at all, [`GuestDevices::service`] refuses its metafs
    /// requests with ENOSYS; once it has one, only [`GuestDevices::serve_metafs`] answers them.
    pub fn set_metafs_export(
        &mut self,
        id: u16,
        export: Option<Export>,
    ) -> Result<(), ExportError> {
        self.metafs.exports.set(id, export)
    }

    /// metafs export `id`, if the guest has it.
    pub fn metafs_export(&self, id: u16) -> Option<Export> {
        self.metafs.exports.get(id)
    }

    /// Sets the errno numbering of the guest's architecture (`ErrnoTable::NATIVE`, the
    /// hypervisor's own CPU family's, until told otherwise):
    /// `ErrnoTable::for_machine(arch.elf_machine)`.
    pub fn set_errno_table(&mut self, table: ErrnoTable) {
        self.metafs.table = table;
    }

    /// Answers up to [`SERVICE_BUDGET`] pending metafs requests of this guest from `store`, in
    /// ring order, with `now` as the time of any change; returns how many. Call it where
    /// [`GuestDevices::service`] is called (the guest polls queue 2 and yields). A bad guest
    /// pointer faults queue 2 (reported in the events).
    pub fn serve_metafs<S: MetafsStore + ?Sized>(
        &mut self,
        ram: &mut GuestRam<'_>,
        store: &mut S,
        now: Timestamp,
    ) -> Result<u32, DeviceError> {
        let served = self.metafs.serve(ram, SERVICE_BUDGET, store, now);
        self.note(served)
    }

    /// The space of the guest's disk (export 0): `used` is its `used-disk`.
    pub fn metafs_disk_space<S: MetafsStore + ?Sized>(
        &self,
        store: &mut S,
    ) -> Result<Space, FsError> {
        let export = self.metafs.exports.get(0).ok_or(FsError::Stale)?;
        store.statfs(export.volume)
    }

    /// The metafs counters.
    pub fn metafs_stats(&self) -> MetafsStats {
        self.metafs.stats
    }

    /// Sends "restart" or "halt" to the guest; `Ok(false)` when it has no buffer posted.
    pub fn send_control(
        &mut self,
        ram: &mut GuestRam<'_>,
        word: ControlWord,
    ) -> Result<bool, DeviceError> {
        let sent = self.control.send(ram, word);
        if let Ok(true) = self.note(sent) {
            self.raise(ram, QueueId::Control);
        }
        sent
    }

    /// Drains up to `budget` console output descriptors into `sink`; returns the bytes.
    pub fn console_output(
        &mut self,
        ram: &mut GuestRam<'_>,
        budget: u32,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<usize, DeviceError> {
        let drained = self.console.drain(ram, budget, sink);
        self.raise_for_handed_back(ram);
        self.note(drained)
    }

    /// Raises the virq of the control and console queues if TX descriptors were handed back
    /// since the last time (a guest waiting for room may be sleeping in `wait`).
    fn raise_for_handed_back(&mut self, ram: &mut GuestRam<'_>) {
        if core::mem::take(&mut self.control.handed_back) {
            self.raise(ram, QueueId::Control);
        }
        if core::mem::take(&mut self.console.handed_back) {
            self.raise(ram, QueueId::Console);
        }
    }

    /// Offers console input; returns how many bytes the guest's posted buffer took (keep the
    /// rest and offer it again after the guest has read this).
    pub fn console_input(
        &mut self,
        ram: &mut GuestRam<'_>,
        input: &[u8],
    ) -> Result<usize, DeviceError> {
        let taken = self.console.input(ram, input);
        if let Ok(1..) = self.note(taken) {
            self.raise(ram, QueueId::Console);
        }
        taken
    }

    /// Configures virtual interface `id` (1..=7) with `mac`, or removes it (`None`), and tells
    /// the guest (NEWIFACE / DELIFACE) as soon as its queue 3 has buffers for it.
    pub fn set_veth_interface(
        &mut self,
        ram: &mut GuestRam<'_>,
        id: u16,
        mac: Option<Mac>,
    ) -> Result<(), InterfaceError> {
        self.veth.set_interface(id, mac)?;
        self.sync_interfaces(ram);
        Ok(())
    }

    /// The MAC configured for interface `id`.
    pub fn veth_interface(&self, id: u16) -> Option<Mac> {
        self.veth.interface(id)
    }

    /// The MAC the guest was told for interface `id` (what it believes it has).
    pub fn veth_announced(&self, id: u16) -> Option<Mac> {
        self.veth.announced(id)
    }

    /// Sets the longest TX transfer (id included) accepted from this guest.
    pub fn set_veth_max_transfer(&mut self, max: u32) {
        self.veth.set_max_transfer(max);
    }

    fn sync_interfaces(&mut self, ram: &mut GuestRam<'_>) {
        let sent = self.veth.sync(ram);
        if let Ok(1..) = self.note(sent) {
            self.raise(ram, QueueId::Veth);
        }
    }

    /// The next frame the guest sent, borrowed from its RAM. Deliver it (or drop it), then give
    /// the token to [`GuestDevices::veth_complete_tx`]. Malformed transfers and frames on
    /// interfaces that are not up are handed back and counted on the way. When nothing is left
    /// and descriptors were handed back since, virq 3 is raised (once per scan): the guest
    /// reclaims its TX buffers in its interrupt handler. Scan until `Ok(None)` (or an error).
    #[inline(never)]
    pub fn veth_next_tx<'r>(
        &mut self,
        ram: &'r mut GuestRam<'_>,
    ) -> Result<Option<VethTx<'r>>, DeviceError> {
        // The usual case without calls (so without a stack frame), anything else in full. Each
        // branch ends the function, so that nothing stays live across the call.
        if let Some(taken) = self.veth.take_fast(ram) {
            let next = self.veth.transfer(ram, taken);
            if let Err(error) = next {
                self.note_error(error);
            }
            return next;
        }
        self.veth_next_tx_full(ram)
    }

    /// [`GuestDevices::veth_next_tx`] in full (see `Veth::next_tx`).
    #[inline(never)]
    fn veth_next_tx_full<'r>(
        &mut self,
        ram: &'r mut GuestRam<'_>,
    ) -> Result<Option<VethTx<'r>>, DeviceError> {
        let next = self
            .veth
            .next_tx(ram, &self.virq, &mut self.events.interrupt);
        if let Err(error) = next {
            self.note_error(error);
        }
        next
    }

    /// Hands a taken frame's descriptor back to the guest (clears DONE).
    #[inline(never)]
    pub fn veth_complete_tx(
        &mut self,
        ram: &mut GuestRam<'_>,
        token: TxToken,
    ) -> Result<(), DeviceError> {
        if self.veth.complete_tx_fast(ram, &token) {
            return Ok(());
        }
        self.veth_complete_tx_slow(ram, token)
    }

    #[inline(never)]
    fn veth_complete_tx_slow(
        &mut self,
        ram: &mut GuestRam<'_>,
        token: TxToken,
    ) -> Result<(), DeviceError> {
        let done = self.veth.complete_tx(ram, token);
        if let Err(error) = done {
            self.note_error(error);
        }
        done
    }

    /// Delivers an Ethernet frame to interface `iface` of this guest (one copy, into the next
    /// posted RX buffer, never past its capacity) and raises virq 3 if it was delivered.
    #[inline(never)]
    pub fn veth_deliver(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        frame: &[u8],
    ) -> Result<Delivery, DeviceError> {
        match self.veth_deliver_fast(ram, iface, frame) {
            Some(delivery) => Ok(delivery),
            None => self.veth_deliver_parts(ram, iface, &[frame]),
        }
    }

    /// [`GuestDevices::veth_deliver`] when the frame goes into the posted buffer without
    /// anything unusual, or the guest has no buffer posted; `None`, with nothing done,
    /// otherwise (see `Veth::deliver_fast`).
    #[inline(always)]
    fn veth_deliver_fast(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        frame: &[u8],
    ) -> Option<Delivery> {
        let delivery = self.veth.deliver_fast(ram, iface, frame)?;
        if delivery == Delivery::Delivered {
            self.raise_veth(ram);
        }
        Some(delivery)
    }

    /// [`GuestDevices::veth_deliver`] for one frame of a batch that the guest cannot see before
    /// the batch ends (it does not run in between): whether the frame was delivered. Virq 3
    /// is left for [`GuestDevices::veth_raise_delivered`], which the caller must call at the
    /// end of the batch (before the guest runs and before its events are taken): one
    /// read-modify-write of the virq word for the batch instead of one per frame. The virq
    /// word then holds what `veth_deliver` would have left in it.
    #[inline(never)]
    pub fn veth_deliver_unraised(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        frame: &[u8],
    ) -> bool {
        match self.veth.deliver_fast(ram, iface, frame) {
            Some(delivery) => delivery == Delivery::Delivered,
            None => self.veth_deliver_unraised_full(ram, iface, frame),
        }
    }

    /// [`GuestDevices::veth_deliver_unraised`] beyond the fast lane: the frames delivered before
    /// are raised first (the full delivery may fault the queue, after which they could no
    /// longer be), then the full delivery, which raises its own.
    #[cold]
    #[inline(never)]
    fn veth_deliver_unraised_full(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        frame: &[u8],
    ) -> bool {
        self.veth_raise_delivered(ram);
        matches!(
            self.veth_deliver_parts(ram, iface, &[frame]),
            Ok(Delivery::Delivered)
        )
    }

    /// Raises virq 3 if [`GuestDevices::veth_deliver_unraised`] delivered frames since it was
    /// last raised (and flags the interrupt, as `veth_deliver` does).
    pub fn veth_raise_delivered(&mut self, ram: &mut GuestRam<'_>) {
        if self.veth.unraised {
            self.raise_veth(ram);
        }
    }

    /// Like [`GuestDevices::veth_deliver`], for a frame given as consecutive parts (to insert
    /// or strip a VLAN tag while copying).
    #[inline(never)]
    pub fn veth_deliver_parts(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        parts: &[&[u8]],
    ) -> Result<Delivery, DeviceError> {
        let delivery = self.veth.deliver(ram, iface, parts);
        match delivery {
            Ok(Delivery::Delivered) => self.raise_veth(ram),
            Ok(_) => {}
            Err(error) => self.note_error(error),
        }
        delivery
    }

    /// Delivers a frame that lies in this same guest's RAM (from
    /// [`TxToken::frame_location`]) to its interface `iface`: the hairpin case.
    pub fn veth_deliver_own(
        &mut self,
        ram: &mut GuestRam<'_>,
        iface: u16,
        frame: (Gva, u32),
    ) -> Result<Delivery, DeviceError> {
        let delivery = self.veth.deliver_own(ram, iface, frame.0, frame.1);
        if let Ok(Delivery::Delivered) = self.note(delivery) {
            self.raise(ram, QueueId::Veth);
        }
        delivery
    }
}
