//! `/file receive` and `/file send` on the simulated board, with the `zmodem` crate's sender
//! and receiver as the terminal's `sz` and `rz`: a file arrives whole and is listed, goes back
//! out byte for byte; a sender's cancel half-way, Ctrl-C, an offer larger than the free space,
//! a name the store cannot take and a sender that never starts leave nothing; the prompt returns after each with the
//! line that says what happened, and nothing the other side sent reaches the command line.

use sim::driver::{Sim, SimOptions};
use zmodem::{Receiver, Sender, Status};

mod transfer_ends;

use transfer_ends::{Data, Kept};

const PROMPT: &str = "[admin@MikroTik] > ";

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i * 31 % 256) as u8 ^ (i >> 9) as u8)
        .collect()
}

/// Output since `*seen`.
fn fresh(sim: &Sim, seen: &mut usize) -> Vec<u8> {
    let out = sim.out.0[*seen..].to_vec();
    *seen = sim.out.0.len();
    out
}

/// Runs `sender` against the box until both are done; `cancel_at` cancels the sender once the
/// box has that many bytes. Returns the box's text after the session.
fn send_to_box(sim: &mut Sim, mut sender: Sender, data: Vec<u8>, cancel_at: Option<u64>) -> String {
    let mut seen = sim.out.0.len();
    sim.input(b"/file receive\r");
    let mut source = Data(data);
    let mut steps = 0;
    while sender.status() == Status::Running {
        steps += 1;
        assert!(steps < 100_000, "the session never ended");
        let from_box = fresh(sim, &mut seen);
        sender.feed(&from_box, sim.board.now, &mut source);
        if cancel_at.is_some_and(|at| sender.offset() >= at) {
            sender.cancel();
        }
        let to_box = sender.take_output();
        sim.input(&to_box);
        sim.advance(10);
    }
    sim.input(&sender.take_output());
    sim.advance(1000);
    let text = String::from_utf8_lossy(&sim.out.0[seen..]).into_owned();
    assert!(
        text.ends_with(PROMPT),
        "no prompt after the session: {text:?}"
    );
    text
}

fn print(sim: &mut Sim) -> String {
    let seen = sim.out.0.len();
    sim.input(b"/file print\r");
    String::from_utf8_lossy(&sim.out.0[seen..]).into_owned()
}

#[test]
fn a_file_arrives_whole_and_goes_back_out() {
    let mut sim = Sim::new(SimOptions::default());
    let data = pattern(100_000);
    let sender = Sender::new(b"some/dir/data.bin", data.len() as u64, 0, 0);
    let text = send_to_box(&mut sim, sender, data.clone(), None);
    assert!(text.contains("received: data.bin 97.6KiB in"), "{text}");
    assert_eq!(sim.board.transfers.contents.get("data.bin"), Some(&data));
    let list = print(&mut sim);
    assert!(
        list.contains("data.bin") && list.contains("97.6KiB"),
        "{list}"
    );

    // And back: the box's sender against a receiver.
    let mut seen = sim.out.0.len();
    sim.input(b"/file send data.bin\r");
    let mut receiver = Receiver::new(sim.board.now);
    let mut kept = Kept::default();
    let mut steps = 0;
    while receiver.status() == Status::Running {
        steps += 1;
        assert!(steps < 100_000, "the session never ended");
        let from_box = fresh(&sim, &mut seen);
        receiver.feed(&from_box, sim.board.now, &mut kept);
        sim.input(&receiver.take_output());
        sim.advance(10);
    }
    sim.input(&receiver.take_output());
    sim.advance(1000);
    let text = String::from_utf8_lossy(&sim.out.0[seen..]).into_owned();
    assert!(text.contains("sent: data.bin 97.6KiB in"), "{text}");
    assert!(text.ends_with(PROMPT), "{text}");
    assert_eq!(kept.files, vec![data]);
}

#[test]
fn cancels_refusals_and_bad_names_leave_nothing() {
    let mut sim = Sim::new(SimOptions::default());
    let data = pattern(200_000);
    let sender = Sender::new(b"half.bin", data.len() as u64, 0, 0);
    let text = send_to_box(&mut sim, sender, data, Some(50_000));
    assert!(
        text.contains("failure: transfer cancelled by the other side; nothing kept"),
        "{text}"
    );

    sim.board.transfers.capacity = 1 << 20;
    let big = pattern(2 << 20);
    let sender = Sender::new(b"big.bin", big.len() as u64, 0, 0);
    let text = send_to_box(&mut sim, sender, big, None);
    assert!(
        text.contains("failure: big.bin (2.0MiB): not enough free space on the disk"),
        "{text}"
    );

    let sender = Sender::new(b".hidden", 10, 0, 0);
    let text = send_to_box(&mut sim, sender, pattern(10), None);
    assert!(
        text.contains("failure: .hidden: invalid file name"),
        "{text}"
    );

    // Ctrl-C while the box waits.
    let seen = sim.out.0.len();
    sim.input(b"/file receive\r");
    sim.advance(100);
    sim.input(b"\x03");
    sim.advance(1000);
    let text = String::from_utf8_lossy(&sim.out.0[seen..]).into_owned();
    assert!(text.contains("failure: transfer interrupted"), "{text}");
    assert!(text.ends_with(PROMPT), "{text}");

    // Nobody starts a sender: the box asks six times, ten seconds apart, then gives up.
    let seen = sim.out.0.len();
    sim.input(b"/file receive\r");
    sim.advance(69_000);
    assert!(
        !sim.out.0[seen..].ends_with(PROMPT.as_bytes()),
        "gave up too early"
    );
    sim.advance(2_000);
    let text = String::from_utf8_lossy(&sim.out.0[seen..]).into_owned();
    assert!(
        text.contains("failure: transfer timed out (the other side stopped answering)"),
        "{text}"
    );
    assert!(text.ends_with(PROMPT), "{text}");

    assert!(sim.board.transfers.contents.is_empty());
    assert!(sim.board.transfers.receiving.is_none());
    let list = print(&mut sim);
    assert!(
        !list.contains("half.bin") && !list.contains("big.bin") && !list.contains("hidden"),
        "{list}"
    );
}
