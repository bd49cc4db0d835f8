//! The i8259 pair against [`PicModel`], with two devices sharing IRQ 10 as two e1000 do on
//! QEMU's malta with its default slots.

use core::cell::Cell;

use super::model::PicModel;
use super::{I8259Pair, TriggerError, LEVEL_CAPABLE};

const SHARED: u8 = 10;

/// Two devices on one line; the line is up while either requests.
struct SharedLine<'a> {
    pic: &'a PicModel,
    a: Cell<bool>,
    b: Cell<bool>,
}

impl SharedLine<'_> {
    fn update(&self) {
        self.pic.set_line(SHARED, self.a.get() || self.b.get());
    }
    fn request(&self, dev: &Cell<bool>) {
        dev.set(true);
        self.update();
    }
    /// Read a device's cause register: serves it and lowers its request.
    fn serve(&self, dev: &Cell<bool>) -> bool {
        let had = dev.replace(false);
        self.update();
        had
    }
}

fn setup(pic: &PicModel) -> I8259Pair<&PicModel> {
    let pair = I8259Pair::new(pic);
    pair.init();
    pair.unmask(SHARED);
    pair
}

/// B requests after its turn in the pass but before A lowers the line: the line never drops,
/// so an edge-triggered input sees no second edge.
fn handle_once_with_a_late_request(pair: &I8259Pair<&PicModel>, line: &SharedLine) {
    assert_eq!(pair.poll(), Some(SHARED));
    line.serve(&line.b);
    line.request(&line.b);
    line.serve(&line.a);
    pair.eoi(SHARED);
}

#[test]
fn an_edge_triggered_shared_line_served_once_loses_a_request() {
    // What the hypervisor did before PCI lines were made level-triggered: the request of B
    // stays pending in the device, the line stays up, and the controller never asks again.
    let pic = PicModel::new();
    let pair = setup(&pic);
    let line = SharedLine {
        pic: &pic,
        a: Cell::new(false),
        b: Cell::new(false),
    };
    line.request(&line.a);
    handle_once_with_a_late_request(&pair, &line);
    assert!(line.b.get(), "B still requests");
    assert!(
        !pic.output() && pair.poll().is_none(),
        "and nobody will be told"
    );
}

#[test]
fn a_level_triggered_line_asks_again_after_the_end_of_interrupt() {
    let pic = PicModel::new();
    let pair = setup(&pic);
    pair.set_level_triggered(1 << 10 | 1 << 11).unwrap();
    let line = SharedLine {
        pic: &pic,
        a: Cell::new(false),
        b: Cell::new(false),
    };
    line.request(&line.a);
    handle_once_with_a_late_request(&pair, &line);
    assert!(
        pic.output(),
        "the line is still up, so the controller asks again"
    );
    assert_eq!(pair.poll(), Some(SHARED));
    assert!(line.serve(&line.b));
    pair.eoi(SHARED);
    assert!(!pic.output() && pair.poll().is_none());
}

#[test]
fn serving_a_shared_line_catches_late_requests_on_either_trigger_mode() {
    for level in [false, true] {
        let pic = PicModel::new();
        let pair = setup(&pic);
        if level {
            pair.set_level_triggered(1 << SHARED).unwrap();
        }
        let line = SharedLine {
            pic: &pic,
            a: Cell::new(false),
            b: Cell::new(false),
        };
        line.request(&line.a);
        assert_eq!(pair.poll(), Some(SHARED));
        // B requests after its turn in the first pass, and again after its turn in the first
        // pass that finds nothing (just before the EOI).
        let passes = Cell::new(0);
        let quiet_request_done = Cell::new(false);
        pair.serve_shared(SHARED, || {
            passes.set(passes.get() + 1);
            let b = line.serve(&line.b);
            if passes.get() == 1 {
                line.request(&line.b);
            }
            let a = line.serve(&line.a);
            if !(a || b || quiet_request_done.replace(true)) {
                line.request(&line.b);
            }
            a || b
        });
        assert!(
            !line.a.get() && !line.b.get(),
            "level={level}: every request served"
        );
        // An edge latched by the last request (in the slave's input when edge-triggered, or
        // in the master's cascade input, which is always edge-triggered) may leave one
        // interrupt with no work behind; taking it leaves nothing.
        let mut spurious = 0;
        while let Some(irq) = pair.poll() {
            spurious += 1;
            pair.serve_shared(irq, || line.serve(&line.a) | line.serve(&line.b));
        }
        assert!(spurious <= 1, "level={level}: {spurious} left over");
        assert!(!pic.output(), "level={level}: nothing pending");
        // And the line works next time.
        line.request(&line.a);
        assert_eq!(pair.poll(), Some(SHARED), "level={level}");
    }
}

#[test]
fn the_elcr_takes_only_lines_that_may_be_level_triggered() {
    let pic = PicModel::new();
    let pair = setup(&pic);
    assert_eq!(pair.level_triggered(), 0, "edge-triggered after reset");
    pair.set_level_triggered(1 << 10 | 1 << 11).unwrap();
    assert_eq!(pair.level_triggered(), 1 << 10 | 1 << 11);
    for irq in [0, 1, 2, 8, 13] {
        assert_eq!(
            pair.set_level_triggered(1 << irq),
            Err(TriggerError::EdgeOnly(irq))
        );
        assert_eq!(LEVEL_CAPABLE & (1 << irq), 0);
    }
    assert_eq!(
        pair.level_triggered(),
        1 << 10 | 1 << 11,
        "a refused request writes nothing"
    );
}

#[test]
fn the_request_register_shows_a_line_that_is_up() {
    let pic = PicModel::new();
    let pair = setup(&pic);
    pair.set_level_triggered(1 << SHARED).unwrap();
    assert!(!pair.is_requesting(SHARED));
    pic.set_line(SHARED, true);
    assert!(pair.is_requesting(SHARED));
    assert_eq!(
        pair.poll(),
        Some(SHARED),
        "reading IRR does not disturb polling"
    );
    pic.set_line(SHARED, false);
    assert!(!pair.is_requesting(SHARED));
    pair.eoi(SHARED);
    // The console on the master still works alongside.
    pair.unmask(4);
    pic.set_line(4, true);
    assert_eq!(pair.poll(), Some(4));
    pair.eoi(4);
}

#[test]
fn a_masked_level_triggered_line_asks_again_when_unmasked() {
    let pic = PicModel::new();
    let pair = setup(&pic);
    pair.set_level_triggered(1 << SHARED).unwrap();
    let line = SharedLine {
        pic: &pic,
        a: Cell::new(false),
        b: Cell::new(false),
    };
    line.request(&line.a);
    assert_eq!(pair.poll(), Some(SHARED));
    // The board masks the line and leaves the device to the main loop's polling.
    pair.mask(SHARED);
    pair.eoi(SHARED);
    assert!(
        !pic.output(),
        "masked: no request while the device is polled"
    );
    // A second device requests while the line is masked and nobody serves it yet.
    line.serve(&line.a);
    line.request(&line.b);
    assert!(!pic.output());
    pair.unmask(SHARED);
    assert!(pic.output(), "the line is up: the controller asks at once");
    assert_eq!(pair.poll(), Some(SHARED));
    assert!(line.serve(&line.b));
    pair.eoi(SHARED);
    assert!(!pic.output() && pair.poll().is_none());
}
