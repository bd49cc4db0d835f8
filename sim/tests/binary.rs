//! The `sim` binary: piped stdin is replayed, the output equals the library's replay, and it
//! exits 0 at the end of input.

use std::io::Write;
use std::process::{Command, Stdio};

use sim::driver::{replay, SimOptions};

fn run(args: &[&str], input: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sim");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    (output.status.success(), output.stdout)
}

#[test]
fn replays_stdin_and_exits_zero() {
    let input = b"/metarouter add name=mr0\n/metarouter print\r\n/interface print\r";
    let (ok, out) = run(&["--ports", "2"], input);
    assert!(ok);
    let mut expected = replay(
        input,
        SimOptions {
            login: false,
            ports: 2,
        },
    );
    expected.extend_from_slice(b"\r\n");
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&expected)
    );
    assert!(String::from_utf8_lossy(&out).contains(" 0   mr0  16MiB"));
}

#[test]
fn login_option_and_bad_option() {
    let (ok, out) = run(&["--login"], b"admin\n\n/system identity print\n");
    assert!(ok);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("MikroTik Login: admin") && text.contains("  name: MikroTik"),
        "{text}"
    );
    let status = Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("--bogus")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(2));
}
