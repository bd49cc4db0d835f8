//! Hypercalls 4, 5, 6, 14, 16 and unknown numbers: return codes, virq word, queue faults.

mod common;

use common::{Guest, LinuxConsole, LinuxControl};
use guest_mem::{Gva, MemError};
use vdevices::{DeviceError, GuestDevices, QueueFault, QueueId, QueueStatus, RingError, Side};

#[test]
fn running_yield_and_unknown_numbers() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    assert_eq!(
        g.hypercall(&mut dev, 6, [0; 4]),
        0,
        "vm_running: 0 means virtualized"
    );
    assert_eq!(g.hypercall(&mut dev, 16, [0; 4]), 0);
    assert!(dev.take_events().yielded);
    assert!(!dev.take_events().yielded, "events are taken once");
    for nr in [0, 1, 2, 3, 7, 13, 15, 17, 100, u32::MAX] {
        assert_eq!(
            g.hypercall(&mut dev, nr, [1, 2, 3, 4]),
            -38,
            "hypercall {nr}"
        );
    }
    assert_eq!(dev.take_events(), Default::default());
}

#[test]
fn create_queue_argument_checks() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let r = g.ring(2, 16, 0);
    assert_eq!(
        g.create_queue(&mut dev, 4, 0, r.head, r.head),
        -22,
        "no queue 4"
    );
    assert_eq!(
        g.create_queue(&mut dev, 1, 32, r.head, r.head),
        -22,
        "irq 32"
    );
    assert_eq!(
        g.create_queue(&mut dev, 1, 0xFFFF_FFFE, r.head, r.head),
        -22
    );
    assert_eq!(dev.queue_status(QueueId::Console), QueueStatus::Absent);
    assert_eq!(
        g.create_queue(&mut dev, 2, 0xFFFF_FFFF, r.head, r.head),
        0,
        "irq -1: none"
    );
    match dev.queue_status(QueueId::Metafs) {
        QueueStatus::Open(ch) => assert_eq!(ch.irq, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_rings_fault_only_their_queue() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    g.setup_irqs(&mut dev);
    let mut console = LinuxConsole::setup(&mut g, &mut dev);
    let good = g.ring(4, 16, 16);
    let looping = g.ring(4, 16, 16);
    g.w32(looping.desc(3) + 8, looping.desc(2));
    assert_eq!(g.create_queue(&mut dev, 3, 3, good.head, looping.head), -14);
    match dev.queue_status(QueueId::Veth) {
        QueueStatus::Faulted(QueueFault {
            queue: QueueId::Veth,
            side: Side::Rx,
            error: RingError::Loop { at },
        }) => {
            assert!(
                [looping.desc(2), looping.desc(3)].contains(&at.get()),
                "{at} is on the cycle"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dev.take_events().faulted, 1 << 3);
    assert_eq!(
        dev.veth_deliver(&mut g.ram(), 1, &[0; 60]),
        Err(DeviceError::Dead),
        "a faulted queue does nothing"
    );
    // A TX head in the hypervisor's memory.
    assert_eq!(g.create_queue(&mut dev, 0, 0, 0x8000_0000, good.head), -14);
    assert!(matches!(
        dev.queue_status(QueueId::Control),
        QueueStatus::Faulted(QueueFault {
            side: Side::Tx,
            error: RingError::Descriptor(MemError::OutOfWindow { .. }),
            ..
        })
    ));
    // The console still works.
    assert_eq!(console.put_chars(&mut g, b"still alive\n"), 12);
    let mut out = Vec::new();
    dev.service(&mut g.ram(), &mut |b| out.extend_from_slice(b));
    assert_eq!(out, b"still alive\n");
    // Re-creating the faulted queue with good rings revives it.
    let fresh = g.ring(4, 16, 16);
    assert_eq!(g.create_queue(&mut dev, 3, 3, good.head, fresh.head), 0);
    assert!(matches!(
        dev.queue_status(QueueId::Veth),
        QueueStatus::Open(_)
    ));
}

#[test]
fn release_queue() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let _ctrl = LinuxControl::setup(&mut g, &mut dev);
    assert_eq!(g.hypercall(&mut dev, 5, [0, 0, 0, 0]), 0);
    assert_eq!(dev.queue_status(QueueId::Control), QueueStatus::Absent);
    assert_eq!(
        g.hypercall(&mut dev, 5, [0, 0, 0, 0]),
        -22,
        "already released"
    );
    assert_eq!(g.hypercall(&mut dev, 5, [9, 0, 0, 0]), -22);
    assert_eq!(
        dev.send_control(&mut g.ram(), vdevices::ControlWord::Halt),
        Err(DeviceError::NotOpen)
    );
}

#[test]
fn virq_word_registration_and_bits() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let word = g.alloc(8, 4);
    assert_eq!(
        g.hypercall(&mut dev, 14, [word + 2, 32, 0, 0]),
        -14,
        "misaligned word"
    );
    assert_eq!(
        g.hypercall(&mut dev, 14, [0x8000_0000, 32, 0, 0]),
        -14,
        "outside the window"
    );
    assert_eq!(g.hypercall(&mut dev, 14, [word, 0, 0, 0]), -22);
    assert_eq!(g.hypercall(&mut dev, 14, [word, 33, 0, 0]), -22);
    assert_eq!(dev.virq_word(), None);
    assert_eq!(g.hypercall(&mut dev, 14, [word, 32, 0, 0]), 0);
    assert_eq!(dev.virq_word(), Some(Gva::new(word)));
    // The guest has bit 5 pending already; host raises 1 (console input) and 0 (control).
    g.w32(word, 1 << 5);
    let mut console = LinuxConsole::setup(&mut g, &mut dev);
    let mut ctrl = LinuxControl::setup(&mut g, &mut dev);
    assert_eq!(dev.console_input(&mut g.ram(), b"x"), Ok(1));
    assert_eq!(g.r32(word), (1 << 5) | (1 << 1));
    assert!(dev.take_events().interrupt);
    assert_eq!(
        dev.send_control(&mut g.ram(), vdevices::ControlWord::Restart),
        Ok(true)
    );
    assert_eq!(g.r32(word), (1 << 5) | (1 << 1) | 1);
    assert!(dev.take_events().interrupt);
    assert_eq!(console.get_chars(&mut g, 10), Some(b"x".to_vec()));
    assert_eq!(ctrl.receive(&mut g), Some("restart"));
}

#[test]
fn no_interrupt_without_a_virq_word() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let mut console = LinuxConsole::setup(&mut g, &mut dev);
    assert_eq!(dev.console_input(&mut g.ram(), b"ok"), Ok(2));
    assert!(!dev.take_events().interrupt);
    assert_eq!(console.get_chars(&mut g, 10), Some(b"ok".to_vec()));
}

#[test]
fn reset_forgets_queues_and_word() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    g.setup_irqs(&mut dev);
    let _console = LinuxConsole::setup(&mut g, &mut dev);
    dev.reset();
    assert_eq!(dev.virq_word(), None);
    for q in QueueId::ALL {
        assert_eq!(dev.queue_status(q), QueueStatus::Absent);
    }
}

#[test]
fn guest_requests_arrive_as_events() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let mut ctrl = LinuxControl::setup(&mut g, &mut dev);
    assert!(ctrl.send(&mut g, b"nonsense\0"));
    assert!(ctrl.send(&mut g, b"halt\0"));
    dev.service(&mut g.ram(), &mut |_| {});
    let ev = dev.take_events();
    assert_eq!(ev.request, Some(vdevices::ControlWord::Halt));
    assert_eq!(dev.stats().control_unknown, 1);
    assert!(ctrl.send(&mut g, b"restart\0"));
    dev.service(&mut g.ram(), &mut |_| {});
    assert_eq!(
        dev.take_events().request,
        Some(vdevices::ControlWord::Restart)
    );
    // Descriptors went back to the guest: it can send four more without waiting.
    for _ in 0..4 {
        assert!(ctrl.send(&mut g, b"x\0"));
    }
    assert!(!ctrl.send(&mut g, b"x\0"), "a fifth must wait for the host");
}
