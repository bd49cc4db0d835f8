//! Virtual interrupts (timer on IP7, devices on IP1, software IP0/IP1) and virtual time.

mod common;
use common::*;
use vcpu_mips::Outcome;

const IE: u32 = 1;
const IM7: u32 = 1 << 15;
const IM1: u32 = 1 << 9;

#[test]
fn timer_interrupt_needs_ie_im_and_no_exl() {
    let mut g = Guest::new();
    g.write_cp0(11, 0, 1000); // Compare
    g.write_cp0(12, 0, IM7); // IE = 0
    g.now = 2000;
    assert!(!g.enter().interrupt_delivered);
    assert_eq!(
        g.read_cp0(13, 0) & (1 << 30 | 1 << 15),
        1 << 30 | 1 << 15,
        "TI and IP7 visible"
    );
    g.write_cp0(12, 0, IM7 | IE | 2); // EXL
    assert!(!g.enter().interrupt_delivered);
    g.write_cp0(12, 0, IE | 0xFF00 & !IM7);
    assert!(!g.enter().interrupt_delivered, "IM7 clear");
    g.write_cp0(12, 0, IM7 | IE);
    let pc = g.regs.pc;
    let entry = g.enter();
    assert!(entry.interrupt_delivered);
    assert_eq!(g.regs.pc, 0xC000_0180);
    assert_eq!(g.vcpu.cp0().epc, pc);
    assert_eq!((g.vcpu.cp0().cause >> 2) & 0x1F, 0);
    // Acknowledge by writing Compare (Linux: write_c0_compare(read_c0_compare())).
    g.regs.pc = 0xC000_0180;
    g.write_cp0(11, 0, 1000);
    assert_eq!(g.read_cp0(13, 0) & (1 << 30), 0);
}

#[test]
fn iv_selects_the_special_interrupt_vector() {
    let mut g = Guest::new();
    g.write_cp0(13, 0, 1 << 23 | 1 << 8); // IV, IP0 (software)
    g.write_cp0(12, 0, 0x100 | IE);
    assert!(g.enter().interrupt_delivered);
    assert_eq!(g.regs.pc, 0xC000_0200);
}

#[test]
fn device_interrupt_on_ip1_and_the_guest_clears_it() {
    let mut g = Guest::new();
    g.write_cp0(12, 0, IM1 | IE);
    g.vcpu.raise_device_interrupt();
    assert!(g.enter().interrupt_delivered);
    g.regs.pc = 0xC000_0180;
    let cause = g.read_cp0(13, 0);
    assert_ne!(cause & (1 << 9), 0);
    g.write_cp0(13, 0, cause & !(1 << 9)); // soft_irq_ack
    assert_eq!(g.read_cp0(13, 0) & (1 << 9), 0);
}

#[test]
fn wait_with_interrupts_off_wakes_on_a_pending_masked_interrupt() {
    let mut g = Guest::new();
    g.write_cp0(12, 0, IM7); // IE = 0, like send_message() in the MetaROUTER kernel
    g.write_cp0(11, 0, 5000);
    let wait_pc = g.regs.pc;
    assert_eq!(g.exec(WAIT), Outcome::Wait);
    assert_eq!(g.vcpu.timer_deadline(g.now), Some(5000));
    assert!(!g.vcpu.runnable(4999));
    assert!(g.vcpu.runnable(5000));
    g.now = 5000;
    assert!(
        !g.enter().interrupt_delivered,
        "IE = 0: woken but not interrupted"
    );
    assert_eq!(g.regs.pc, wait_pc + 4);
}

/// A guest that never enables interrupts nor programs its timer (like the small C guests,
/// which poll their virq word around `wait`) yields with `wait`: it runs again within the
/// host's bound, not when Count wraps to Compare = 0 (2^32 ticks, 27 s at 160 MHz).
#[test]
fn wait_with_interrupts_off_is_a_yield() {
    const SLICE: u32 = 1_600_000;
    let mut g = Guest::new();
    g.now = 1000;
    assert_eq!(g.exec(WAIT), Outcome::Wait);
    assert_eq!(g.vcpu.timer_deadline(g.now), Some(0u32.wrapping_sub(1000)));
    assert_eq!(g.vcpu.wait_deadline(g.now, SLICE), Some(SLICE));
    // A timer due sooner than the bound still counts.
    g.write_cp0(11, 0, 1500);
    assert_eq!(g.vcpu.wait_deadline(g.now, SLICE), Some(500));
    // EXL set (in an exception handler) is interrupts off too.
    g.write_cp0(11, 0, 0);
    g.write_cp0(12, 0, IM7 | IE | 2);
    assert_eq!(g.vcpu.wait_deadline(g.now, SLICE), Some(SLICE));
    // With interrupts on, the guest's own interrupts end its wait: its timer, however far.
    g.write_cp0(12, 0, IM7 | IE);
    assert_eq!(
        g.vcpu.wait_deadline(g.now, SLICE),
        g.vcpu.timer_deadline(g.now)
    );
}

#[test]
fn count_reads_follow_host_time_and_linux_next_event_works() {
    let mut g = Guest::new();
    g.now = 100;
    let cnt = g.read_cp0(9, 0);
    assert_eq!(cnt, 100);
    // mips_next_event: Compare = Count + delta; res = (Count - cnt) >= 0 ? -ETIME : 0.
    g.write_cp0(11, 0, cnt + 0x300);
    g.now = 150;
    assert!((g.read_cp0(9, 0).wrapping_sub(cnt + 0x300) as i32) < 0);
    g.now = 100 + 0x300;
    g.enter();
    assert_ne!(g.read_cp0(13, 0) & (1 << 30), 0);
    // Count writes move the offset.
    g.write_cp0(9, 0, 0xFFFF_FFF0);
    g.now += 0x20;
    assert_eq!(g.read_cp0(9, 0), 0x10);
}
