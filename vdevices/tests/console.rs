//! Console (queue 1): output with the guest appending while DONE is set, and input.

mod common;

use common::{Guest, LinuxConsole, CONSOLE_BUF};
use vdevices::abi::DONE;
use vdevices::GuestDevices;

fn drain(g: &mut Guest, dev: &mut GuestDevices) -> Vec<u8> {
    let mut out = Vec::new();
    dev.service(&mut g.ram(), &mut |b| out.extend_from_slice(b));
    out
}

#[test]
fn linux_appends_while_done_is_set_and_host_drains_all() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let mut con = LinuxConsole::setup(&mut g, &mut dev);
    assert_eq!(con.put_chars(&mut g, b"Linux version "), 14);
    assert_eq!(con.put_chars(&mut g, b"3.3.5 "), 6);
    assert_eq!(
        g.d_size(con.tx),
        20 | DONE,
        "appended behind the first write"
    );
    assert_eq!(con.put_chars(&mut g, b"(mips)\n"), 7);
    assert_eq!(drain(&mut g, &mut dev), b"Linux version 3.3.5 (mips)\n");
    assert_eq!(g.d_size(con.tx) & DONE, 0, "host cleared DONE");
    assert_eq!(drain(&mut g, &mut dev), b"", "nothing twice");
    // After a drain the guest starts again at offset 0.
    assert_eq!(con.put_chars(&mut g, b"next"), 4);
    assert_eq!(g.read(con.tx_buf, 4), b"next");
    assert_eq!(drain(&mut g, &mut dev), b"next");
}

#[test]
fn full_buffer_is_drained_whole() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let mut con = LinuxConsole::setup(&mut g, &mut dev);
    let text: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let first = con.put_chars(&mut g, &text);
    let second = con.put_chars(&mut g, &text[first..]);
    assert_eq!(first + second, CONSOLE_BUF as usize);
    assert_eq!(
        con.put_chars(&mut g, &text[4096..]),
        0,
        "full: the guest waits"
    );
    assert_eq!(drain(&mut g, &mut dev), &text[..4096]);
    assert_eq!(con.put_chars(&mut g, &text[4096..]), 904);
    assert_eq!(drain(&mut g, &mut dev), &text[4096..]);
}

/// metaDIE's `write`: appends at its own offset while DONE is set, no xchg.
#[test]
fn metadie_style_append() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let con = LinuxConsole::setup(&mut g, &mut dev);
    let mut t = 0u32;
    let mut write = |g: &mut Guest, s: &[u8]| {
        if g.d_size(con.tx) & DONE == 0 {
            t = 0;
        }
        g.write(con.tx_buf + t, s);
        t += s.len() as u32;
        g.w32(con.tx + 4, DONE | t);
    };
    write(&mut g, b"meta");
    write(&mut g, b"DIE ");
    assert_eq!(drain(&mut g, &mut dev), b"metaDIE ");
    write(&mut g, b"ok");
    assert_eq!(drain(&mut g, &mut dev), b"ok");
}

#[test]
fn input_fills_the_posted_buffer_only() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    g.setup_irqs(&mut dev);
    let mut con = LinuxConsole::setup(&mut g, &mut dev);
    assert_eq!(dev.console_input(&mut g.ram(), b"ls\r"), Ok(3));
    assert_eq!(g.d_size(con.rx), 3 | DONE);
    assert_eq!(
        dev.console_input(&mut g.ram(), b"more"),
        Ok(0),
        "not re-posted yet"
    );
    assert_eq!(con.get_chars(&mut g, 2), Some(b"ls".to_vec()));
    assert_eq!(
        dev.console_input(&mut g.ram(), b"more"),
        Ok(0),
        "guest still reading"
    );
    assert_eq!(con.get_chars(&mut g, 2), Some(b"\r".to_vec()));
    assert_eq!(g.d_size(con.rx), CONSOLE_BUF, "re-posted");
    let big = vec![b'z'; 5000];
    assert_eq!(
        dev.console_input(&mut g.ram(), &big),
        Ok(4096),
        "capacity respected"
    );
    assert_eq!(con.get_chars(&mut g, 5000).map(|v| v.len()), Some(4096));
}

#[test]
fn smaller_posted_capacity_is_respected() {
    let mut g = Guest::new(1 << 16);
    let mut dev = GuestDevices::new();
    let con = LinuxConsole::setup(&mut g, &mut dev);
    g.write(con.rx_buf, &[0xAA; 64]);
    g.w32(con.rx + 4, 5);
    assert_eq!(dev.console_input(&mut g.ram(), b"0123456789"), Ok(5));
    assert_eq!(g.read(con.rx_buf, 7), b"01234\xAA\xAA");
}
