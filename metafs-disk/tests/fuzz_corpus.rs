//! Replays the kept fuzz inputs of the `metafs_server` target (`fuzz/corpus/`,
//! `fuzz/regressions/`) through its body, and runs the body over hand-made hostile sessions.

#[path = "../../fuzz/replay.rs"]
mod replay;

#[test]
fn metafs_server() {
    replay::replay("metafs_server", metafs_disk::fuzz::server);
}

/// One record: `kind`, the request, `cap`.
fn record(out: &mut Vec<u8>, kind: u8, cap: u8, request: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&(request.len() as u16).to_le_bytes());
    out.push(cap);
    out.extend_from_slice(request);
}

#[test]
fn hostile_sessions_hold_the_properties() {
    let be = |v: u64, n: usize| v.to_be_bytes()[8 - n..].to_vec();
    let mut s = Vec::new();
    // CREATE (7) in the root with wild names: "..", "/", NUL, 4 KiB, and a good one.
    for name in [&b".."[..], b"/", b"a\0b", b"ok", b"."] {
        let mut r = [be(0, 2), be(7, 2), be(1, 8), be(0o100_644, 4), be(0, 4)].concat();
        r.extend_from_slice(name);
        record(&mut s, 0x08, 0, &r);
    }
    let long = [be(0, 2), be(7, 2), be(1, 8), be(0o100_644, 4), be(0, 4)].concat();
    record(&mut s, 0x0C, 250, &long);
    // WRITEPAGE at wild offsets, READPAGE past the end, unknown commands, short requests.
    for offset in [0u64, 4096, u64::MAX - 10, 1 << 40] {
        // 170 * 24 = 4080 bytes of data.
        let r = [be(0, 2), be(6, 2), be(2, 8), be(offset, 8), be(4080, 4)].concat();
        record(&mut s, 0x08, 170, &r);
        let r = [be(0, 2), be(3, 2), be(2, 8), be(offset, 8), be(4096, 4)].concat();
        record(&mut s, 0x01, 2, &r);
    }
    for cmd in [14u64, 15, 99, 0xFFFF] {
        record(&mut s, 0x02, 0, &[be(0, 2), be(cmd, 2)].concat());
    }
    record(&mut s, 0x08, 0, &[0, 0, 0]);
    // Another export.
    record(&mut s, 0x08, 0, &[be(3, 2), be(0, 2), be(1, 8)].concat());
    let summary = metafs_disk::fuzz::session(&s);
    // 5 + 1 creates, 4 writes, 4 reads, 4 unknown, 1 short, 1 other export: every one
    // answered; "ok" created and written at 0 and 4096 (the reads' 3-byte slots hold no
    // status), everything else refused.
    assert_eq!(summary.answered, 20, "{summary:?}");
    assert_eq!(summary.succeeded, 3, "{summary:?}");
    for cut in (0..s.len()).step_by(7) {
        metafs_disk::fuzz::server(&s[..cut]);
    }
}
