//! The fuzz body over generated inputs: random bytes, and sequences of valid frames, time steps
//! and pings mixed with damaged ones.

mod common;

use common::*;
use proptest::prelude::*;
use smoltcp::wire::*;

fn record(frame: &[u8], op: u8) -> Vec<u8> {
    let mut r = vec![op];
    r.extend_from_slice(&(frame.len() as u16).to_be_bytes());
    r.extend_from_slice(frame);
    r
}

fn valid_frames() -> Vec<Vec<u8>> {
    let bcast = [0xFF; 6];
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 2,
        data: b"abc",
    };
    let ns = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
        target_addr: "2001:db8:1::1".parse().unwrap(),
        lladdr: Some(RawHardwareAddress::from_bytes(&PEER_MAC)),
    });
    let mac1 = [2, 0, 0, 0, 0, 1];
    vec![
        arp(
            ArpOperation::Request,
            (PEER_MAC, PEER_V4),
            ([0; 6], HOST_V4),
            bcast,
        ),
        arp(
            ArpOperation::Reply,
            (PEER_MAC, PEER_V4),
            (mac1, HOST_V4),
            mac1,
        ),
        icmpv4(PEER_V4, HOST_V4, 64, &echo, (mac1, PEER_MAC)),
        icmpv6(
            PEER_V6,
            "ff02::1:ff00:1".parse().unwrap(),
            255,
            &ns,
            ([0x33, 0x33, 0xFF, 0, 0, 1], PEER_MAC),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes(input in proptest::collection::vec(any::<u8>(), 0..600)) {
        hostip::fuzzing::run(&input);
    }

    #[test]
    fn damaged_valid_frames(
        picks in proptest::collection::vec((0usize..4, any::<u8>(), any::<u16>(), any::<u8>(), 0u8..6), 1..20)
    ) {
        let frames = valid_frames();
        let mut input = Vec::new();
        for (which, op, at, value, kind) in picks {
            let mut frame = frames[which].clone();
            match kind {
                0 => {}
                1 => { let i = usize::from(at) % frame.len(); frame[i] = value; }
                2 => frame.truncate(usize::from(at) % frame.len()),
                3 => { input.extend_from_slice(&[3, value]); }
                4 => { input.extend_from_slice(&[4, value]); }
                _ => frame.extend(std::iter::repeat_n(value, usize::from(at) % 64)),
            }
            input.extend(record(&frame, op % 2));
        }
        hostip::fuzzing::run(&input);
    }
}
