//! The YMODEM ends against each other over a simulated line (sizes around the block sizes,
//! every byte value, corrupted, lost and repeated blocks, silent peers, cancels either way),
//! and the receiver against hand-made sessions (batches of two files, truncated and oversized
//! files, blocks out of sequence, a refused offer, lrzsz's batch end).

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::tests::{pattern, MemSink, MemSource};
use crate::{Failure, Status};

const STEP_MS: u64 = 100;

/// Runs a session; `line` may change what each side sends (`true`: to the receiver).
fn run(
    sender: &mut Sender,
    source: &mut MemSource,
    receiver: &mut Receiver,
    sink: &mut MemSink,
    line: &mut dyn FnMut(bool, Vec<u8>) -> Vec<u8>,
) -> (Status, Status) {
    let mut now = 0;
    for _ in 0..200_000 {
        let to_receiver = line(true, sender.take_output());
        receiver.feed(&to_receiver, now, sink);
        let to_sender = line(false, receiver.take_output());
        sender.feed(&to_sender, now, source);
        if sender.status() != Status::Running && receiver.status() != Status::Running {
            return (sender.status(), receiver.status());
        }
        if to_receiver.is_empty() && to_sender.is_empty() {
            now += STEP_MS;
            receiver.tick(now, sink);
            sender.tick(now, source);
        }
    }
    panic!("the session never ended");
}

fn transfer(data: &[u8], line: &mut dyn FnMut(bool, Vec<u8>) -> Vec<u8>) -> (Receiver, MemSink) {
    let mut sender = Sender::new(b"file.bin", data.len() as u64, 0o1234, 0);
    let mut source = MemSource(data.to_vec());
    let mut receiver = Receiver::new(0).with_interrupt(0x03);
    let mut sink = MemSink::default();
    let (s, r) = run(&mut sender, &mut source, &mut receiver, &mut sink, line);
    assert_eq!((s, r), (Status::Done, Status::Done));
    assert_eq!(sender.offset(), data.len() as u64);
    (receiver, sink)
}

#[test]
fn files_of_many_sizes_arrive_whole() {
    for len in [
        0, 1, 127, 128, 129, 896, 897, 1023, 1024, 1025, 3000, 100_000,
    ] {
        let data = pattern(len, len as u32 + 1);
        let (_, sink) = transfer(&data, &mut |_, b| b);
        assert_eq!(sink.kept, vec![(b"file.bin".to_vec(), data)], "{len}");
    }
}

#[test]
fn every_byte_value_passes_raw_even_the_interrupt_key() {
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let (receiver, sink) = transfer(&data, &mut |_, b| b);
    assert_eq!(sink.kept[0].1, data);
    assert_eq!(receiver.errors(), 0);
}

#[test]
fn corrupted_blocks_are_asked_for_again() {
    let data = pattern(60_000, 7);
    let mut count = 0u32;
    let (receiver, sink) = transfer(&data, &mut |to_receiver, mut bytes| {
        if to_receiver {
            for b in bytes.iter_mut() {
                count += 1;
                if count % 4_001 == 0 {
                    *b ^= 0x21;
                }
            }
        }
        bytes
    });
    assert_eq!(sink.kept[0].1, data);
    assert!(receiver.errors() >= 10, "{}", receiver.errors());
}

#[test]
fn lost_bytes_cut_a_block_short_and_it_comes_again() {
    let data = pattern(30_000, 8);
    let mut chunks = 0u32;
    let (receiver, sink) = transfer(&data, &mut |to_receiver, mut bytes| {
        if to_receiver && bytes.len() > 100 {
            chunks += 1;
            if chunks % 5 == 0 {
                bytes.drain(40..60);
            }
        }
        bytes
    });
    assert_eq!(sink.kept[0].1, data);
    assert!(receiver.errors() > 0);
}

#[test]
fn lost_acks_bring_duplicate_blocks_written_once() {
    let data = pattern(20_000, 9);
    let mut acks = 0u32;
    let (_, sink) = transfer(&data, &mut |to_receiver, mut bytes| {
        if !to_receiver && bytes == [ACK] {
            acks += 1;
            if acks % 3 == 0 {
                bytes.clear();
            }
        }
        bytes
    });
    // MemSink asserts that every write is at the end of what it has: nothing written twice.
    assert_eq!(sink.kept[0].1, data);
}

#[test]
fn a_silent_sender_times_out_and_the_file_goes() {
    let data = pattern(50_000, 9);
    let mut sender = Sender::new(b"f", data.len() as u64, 0, 0);
    let mut source = MemSource(data);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    for _ in 0..6 {
        receiver.feed(&sender.take_output(), 0, &mut sink);
        sender.feed(&receiver.take_output(), 0, &mut source);
    }
    assert!(receiver.offset() > 0);
    let mut now = 0;
    let mut requests = 0;
    while receiver.status() == Status::Running {
        now += STEP_MS;
        receiver.tick(now, &mut sink);
        requests += receiver.take_output().iter().filter(|&&b| b == NAK).count();
        assert!(now < 200 * RECEIVER_RETRY_MS);
    }
    assert_eq!(receiver.status(), Status::Failed(Failure::TimedOut));
    assert_eq!(requests, RECEIVER_RETRIES as usize);
    assert_eq!(now, (RECEIVER_RETRIES as u64 + 1) * RECEIVER_RETRY_MS);
    assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
}

#[test]
fn a_silent_receiver_times_out_the_sender() {
    let mut sender = Sender::new(b"f", 5000, 0, 0);
    let mut source = MemSource(pattern(5000, 1));
    sender.feed(b"C", 0, &mut source);
    let block0 = sender.take_output();
    let mut now = 0;
    while sender.status() == Status::Running {
        now += 1000;
        sender.tick(now, &mut source);
        let again = sender.take_output();
        assert!(again.is_empty() || again == block0 || again == crate::CANCEL);
    }
    assert_eq!(sender.status(), Status::Failed(Failure::TimedOut));
    assert_eq!(now, (SENDER_RETRIES as u64 + 1) * SENDER_RETRY_MS);
}

#[test]
fn sender_cancel_between_and_inside_blocks_discards_the_file() {
    for cut_mid_block in [false, true] {
        let data = pattern(50_000, 5);
        let mut sender = Sender::new(b"f", data.len() as u64, 0, 0);
        let mut source = MemSource(data);
        let mut receiver = Receiver::new(0);
        let mut sink = MemSink::default();
        for _ in 0..6 {
            receiver.feed(&sender.take_output(), 0, &mut sink);
            sender.feed(&receiver.take_output(), 0, &mut source);
        }
        let mut cancel = vec![];
        if cut_mid_block {
            // The sender is interrupted with half a block on the line (lrzsz's ten CANs and
            // ten backspaces follow it).
            cancel = sender.take_output()[..500].to_vec();
        }
        sender.cancel();
        cancel.extend(sender.take_output());
        receiver.feed(&cancel, 0, &mut sink);
        receiver.tick(2 * BLOCK_GAP_MS, &mut sink);
        assert_eq!(receiver.status(), Status::Failed(Failure::Cancelled));
        assert!(receiver.take_output().is_empty(), "no answer to a cancel");
        assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
    }
}

#[test]
fn receiver_cancel_stops_the_sender() {
    let data = pattern(50_000, 5);
    let mut sender = Sender::new(b"f", data.len() as u64, 0, 0);
    let mut source = MemSource(data);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    for _ in 0..4 {
        receiver.feed(&sender.take_output(), 0, &mut sink);
        sender.feed(&receiver.take_output(), 0, &mut source);
    }
    receiver.cancel(&mut sink);
    assert_eq!(receiver.status(), Status::Failed(Failure::Interrupted));
    sender.feed(&receiver.take_output(), 0, &mut source);
    assert_eq!(sender.status(), Status::Failed(Failure::Cancelled));
    assert_eq!((sink.discarded, sink.kept.len()), (1, 0));
}

#[test]
fn the_interrupt_key_between_blocks_stops_the_receiver() {
    let mut receiver = Receiver::new(0).with_interrupt(0x03);
    let mut sink = MemSink::default();
    receiver.feed(b"\x03", 0, &mut sink);
    assert_eq!(receiver.status(), Status::Failed(Failure::Interrupted));
    assert!(receiver.take_output().ends_with(&crate::CANCEL));
    // Without the key it is a stray byte: skipped, then C again.
    let mut receiver = Receiver::new(0);
    receiver.take_output();
    receiver.feed(b"\x03", 0, &mut sink);
    receiver.tick(PURGE_MS, &mut sink);
    assert_eq!(receiver.status(), Status::Running);
    assert_eq!(receiver.take_output(), vec![CRC_REQUEST]);
}

/// Block 0 for `name` and `info`.
fn name_block(name: &[u8], info: &[u8]) -> Vec<u8> {
    let mut data = name.to_vec();
    data.push(0);
    data.extend_from_slice(info);
    data.resize(128, 0);
    let mut out = Vec::new();
    encode_block(0, &data, &mut out);
    out
}

fn data_block(number: u8, fill: u8) -> Vec<u8> {
    let mut out = Vec::new();
    encode_block(number, &[fill; 1024], &mut out);
    out
}

/// Feeds each step, with quiet time after it; returns the receiver's answers.
fn session(receiver: &mut Receiver, sink: &mut MemSink, steps: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut now = 0;
    receiver.take_output();
    steps
        .iter()
        .map(|step| {
            receiver.feed(step, now, sink);
            now += 10;
            receiver.take_output()
        })
        .collect()
}

#[test]
fn a_batch_of_two_files_ends_with_an_empty_name() {
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    // lrzsz's batch end: an empty name, but its last two bytes are not always zero.
    let mut end = [0u8; 128];
    end[126] = 0x55;
    end[127] = 0x07;
    let mut end_block = Vec::new();
    encode_block(0, &end, &mut end_block);
    let answers = session(
        &mut receiver,
        &mut sink,
        &[
            name_block(b"a", b"1500 0 100644"),
            data_block(1, b'a'),
            data_block(2, b'b'),
            vec![EOT],
            vec![EOT],
            name_block(b"b", b""),
            data_block(1, b'c'),
            vec![EOT],
            vec![EOT],
            end_block,
        ],
    );
    let ack_c = vec![ACK, CRC_REQUEST];
    assert_eq!(
        answers,
        vec![
            ack_c.clone(),
            vec![ACK],
            vec![ACK],
            vec![NAK],
            ack_c.clone(),
            ack_c.clone(),
            vec![ACK],
            vec![NAK],
            ack_c,
            vec![ACK],
        ]
    );
    assert_eq!(receiver.status(), Status::Done);
    let mut a = vec![b'a'; 1024];
    a.extend_from_slice(&[b'b'; 476]);
    // Without a size the padding is the file's: YMODEM cannot tell it apart.
    assert_eq!(
        sink.kept,
        vec![(b"a".to_vec(), a), (b"b".to_vec(), vec![b'c'; 1024])]
    );
    assert_eq!(receiver.files(), 2);
}

#[test]
fn truncated_oversized_and_out_of_sequence_files_are_dropped() {
    let cases: [(&[Vec<u8>], Failure); 3] = [
        (
            &[
                name_block(b"t", b"3000"),
                data_block(1, 1),
                vec![EOT],
                vec![EOT],
            ],
            Failure::Truncated,
        ),
        (
            &[
                name_block(b"o", b"1024"),
                data_block(1, 1),
                data_block(2, 2),
            ],
            Failure::Oversized,
        ),
        (
            &[
                name_block(b"s", b"5000"),
                data_block(1, 1),
                data_block(3, 3),
            ],
            Failure::OutOfSequence,
        ),
    ];
    for (steps, failure) in cases {
        let mut receiver = Receiver::new(0);
        let mut sink = MemSink::default();
        let answers = session(&mut receiver, &mut sink, steps);
        assert_eq!(receiver.status(), Status::Failed(failure));
        assert_eq!(answers.last().unwrap().as_slice(), &crate::CANCEL);
        assert_eq!((sink.discarded, sink.kept.len()), (1, 0), "{failure:?}");
    }
}

#[test]
fn a_refused_offer_cancels_the_batch() {
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink {
        limit: Some(100),
        ..MemSink::default()
    };
    let answers = session(&mut receiver, &mut sink, &[name_block(b"big", b"101")]);
    assert_eq!(receiver.status(), Status::Failed(Failure::Refused));
    assert_eq!(answers, vec![crate::CANCEL.to_vec()]);
    assert_eq!((sink.discarded, sink.kept.len()), (0, 0));
    // Our sender, told so, stops.
    let mut sender = Sender::new(b"big", 101, 0, 0);
    let mut source = MemSource(pattern(101, 1));
    sender.feed(b"C", 0, &mut source);
    sender.feed(&crate::CANCEL, 0, &mut source);
    assert_eq!(sender.status(), Status::Failed(Failure::Cancelled));
}

#[test]
fn a_damaged_block_number_or_crc_is_not_taken() {
    let mut good = data_block(1, 9);
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    session(&mut receiver, &mut sink, &[name_block(b"x", b"2048")]);
    for at in [1, 2, 500, 1027, 1028] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        receiver.feed(&bad, 0, &mut sink);
        assert_eq!(
            receiver.take_output(),
            Vec::<u8>::new(),
            "no answer before quiet"
        );
        receiver.tick(PURGE_MS, &mut sink);
        assert_eq!(receiver.take_output(), vec![CRC_REQUEST], "{at}");
        assert_eq!(receiver.offset(), 0);
    }
    receiver.feed(&core::mem::take(&mut good), 0, &mut sink);
    assert_eq!(receiver.take_output(), vec![ACK]);
    assert_eq!((receiver.offset(), receiver.errors()), (1024, 5));
}

#[test]
fn blocks_round_trip() {
    let mut out = Vec::new();
    encode_block(7, &[0xAA; 128], &mut out);
    assert_eq!(&out[..3], &[SOH, 7, 0xF8]);
    assert_eq!(decode_block(&out), Some((7, &[0xAA; 128][..])));
    out[3] = 0;
    assert_eq!(decode_block(&out), None);
}
