//! The fuzz target's body over generated inputs: random records, and records of valid packets
//! with random fields (the body asserts its rules itself).

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_records(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        forward::fuzzing::run(&data);
    }

    #[test]
    fn valid_packets_with_random_fields(
        records in proptest::collection::vec((6u8..=255, any::<[u8; 6]>()), 1..40),
        known in proptest::collection::vec(any::<u8>(), 0..4),
        waits in proptest::collection::vec(any::<u8>(), 0..4),
    ) {
        let mut data = Vec::new();
        for (i, (op, fields)) in records.iter().enumerate() {
            data.push(*op);
            data.extend_from_slice(fields);
            if let Some(k) = known.get(i) { data.extend_from_slice(&[5, *k]); }
            if let Some(w) = waits.get(i) { data.extend_from_slice(&[4, *w]); }
        }
        forward::fuzzing::run(&data);
    }
}

/// The valid-packet records reach every kind of outcome (the body is not vacuous).
#[test]
fn valid_packet_records_reach_every_path() {
    let mut total = forward::fuzzing::Summary::default();
    let mut seed = 0x2545_f491_u32;
    for _ in 0..400 {
        let mut data = Vec::new();
        for _ in 0..20 {
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            };
            data.push(6 + next() % 250);
            data.extend((0..6).map(|_| next()));
            if next() % 5 == 0 {
                data.extend([5, next()]);
            }
            if next() % 5 == 0 {
                data.extend([4, 255]);
            }
        }
        let s = forward::fuzzing::run_counting(&data);
        total.to_host += s.to_host;
        total.forwarded += s.forwarded;
        total.queued += s.queued;
        total.dropped += s.dropped;
        total.released += s.released;
        total.icmp_sent += s.icmp_sent;
        total.fragments += s.fragments;
    }
    assert!(total.to_host > 0, "{total:?}");
    assert!(total.forwarded > 0, "{total:?}");
    assert!(total.queued > 0, "{total:?}");
    assert!(total.released > 0, "{total:?}");
    assert!(total.dropped > 0, "{total:?}");
    assert!(total.icmp_sent > 0, "{total:?}");
    assert!(total.fragments > 0, "{total:?}");
}
