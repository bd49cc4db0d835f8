//! `/file receive protocol=ymodem` and `/file send ... protocol=ymodem` on the simulated board,
//! with the `zmodem` crate's YMODEM ends as the terminal's `sb` and `rb`: a file of every byte
//! value (Ctrl-C among them) arrives whole and goes back out byte for byte; an offer larger
//! than the free space and a sender's cancel leave nothing; Ctrl-C while the box waits gets the
//! prompt back; a mistyped protocol is refused.

use sim::driver::{Sim, SimOptions};
use zmodem::ymodem::{Receiver, Sender};
use zmodem::Status;

mod transfer_ends;

use transfer_ends::{Data, Kept};

const PROMPT: &str = "[admin@MikroTik] > ";

/// Every byte value, then a pattern.
fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            if i < 4096 {
                i as u8
            } else {
                (i * 31 % 251) as u8 ^ (i >> 9) as u8
            }
        })
        .collect()
}

/// Output since `*seen`.
fn fresh(sim: &Sim, seen: &mut usize) -> Vec<u8> {
    let out = sim.out.0[*seen..].to_vec();
    *seen = sim.out.0.len();
    out
}

fn text_since(sim: &Sim, seen: usize) -> String {
    String::from_utf8_lossy(&sim.out.0[seen..]).into_owned()
}

/// Runs `sender` against `/file receive protocol=ymodem` until it is over; `cancel_at` cancels
/// the sender once the box has acknowledged that many bytes. The box's text after the command.
fn send_to_box(sim: &mut Sim, mut sender: Sender, data: Vec<u8>, cancel_at: Option<u64>) -> String {
    let start = sim.out.0.len();
    sim.input(b"/file receive protocol=ymodem\r");
    let mut seen = sim.out.0.len();
    let mut source = Data(data);
    let mut steps = 0;
    while sender.status() == Status::Running {
        steps += 1;
        assert!(steps < 100_000, "the session never ended");
        let from_box = fresh(sim, &mut seen);
        sender.feed(&from_box, sim.board.now, &mut source);
        sender.tick(sim.board.now, &mut source);
        if cancel_at.is_some_and(|at| sender.offset() >= at) {
            sender.cancel();
        }
        sim.input(&sender.take_output());
        sim.advance(10);
    }
    sim.input(&sender.take_output());
    sim.advance(1000);
    let text = text_since(sim, start);
    assert!(
        text.ends_with(PROMPT),
        "no prompt after the session: {text:?}"
    );
    text
}

#[test]
fn a_file_of_every_byte_value_arrives_whole_and_goes_back_out() {
    let mut sim = Sim::new(SimOptions::default());
    let data = data(70_000);
    let sender = Sender::new(b"dir/all.bin", data.len() as u64, 0, 0);
    let text = send_to_box(&mut sim, sender, data.clone(), None);
    assert!(
        text.contains("start the sender now (sb FILE); Ctrl-C cancels"),
        "{text}"
    );
    assert!(text.contains("received: all.bin 68.3KiB in"), "{text}");
    assert_eq!(sim.board.transfers.contents.get("all.bin"), Some(&data));

    let mut seen = sim.out.0.len();
    sim.input(b"/file send all.bin protocol=ymodem\r");
    let start = seen;
    let mut receiver = Receiver::new(sim.board.now);
    let mut kept = Kept::default();
    let mut steps = 0;
    while receiver.status() == Status::Running {
        steps += 1;
        assert!(steps < 100_000, "the session never ended");
        let from_box = fresh(&sim, &mut seen);
        receiver.feed(&from_box, sim.board.now, &mut kept);
        receiver.tick(sim.board.now, &mut kept);
        sim.input(&receiver.take_output());
        sim.advance(10);
    }
    sim.input(&receiver.take_output());
    sim.advance(1000);
    let text = text_since(&sim, start);
    assert!(
        text.contains("sending all.bin (68.3KiB) with YMODEM: start the receiver now (rb)"),
        "{text}"
    );
    assert!(text.contains("sent: all.bin 68.3KiB in"), "{text}");
    assert!(text.ends_with(PROMPT), "{text}");
    assert_eq!(kept.files, vec![data]);
}

#[test]
fn refusals_cancels_and_ctrl_c_leave_nothing() {
    let mut sim = Sim::new(SimOptions::default());
    sim.board.transfers.capacity = 1 << 20;
    let big = data(2 << 20);
    let sender = Sender::new(b"big.bin", big.len() as u64, 0, 0);
    let text = send_to_box(&mut sim, sender, big, None);
    assert!(
        text.contains("failure: big.bin (2.0MiB): not enough free space on the disk"),
        "{text}"
    );
    assert!(!text.contains("transfer refused"), "{text}");

    let half = data(200_000);
    let sender = Sender::new(b"half.bin", half.len() as u64, 0, 0);
    let text = send_to_box(&mut sim, sender, half, Some(50_000));
    assert!(
        text.contains("failure: transfer cancelled by the other side; nothing kept"),
        "{text}"
    );

    let seen = sim.out.0.len();
    sim.input(b"/file receive protocol=ymodem\r");
    sim.advance(100);
    sim.input(b"\x03");
    sim.advance(1000);
    let text = text_since(&sim, seen);
    assert!(text.contains("failure: transfer interrupted"), "{text}");
    assert!(text.ends_with(PROMPT), "{text}");

    let seen = sim.out.0.len();
    sim.input(b"/file receive protocol=xmodem\r");
    let text = text_since(&sim, seen);
    assert!(
        text.contains("input does not match any value of protocol"),
        "{text}"
    );
    assert!(text.ends_with(PROMPT), "{text}");

    assert!(sim.board.transfers.contents.is_empty());
    assert!(sim.board.transfers.receiving.is_none());
}
