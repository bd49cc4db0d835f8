//! The receiver and the sender against the real lrzsz tools (`sz`, `rz`; Debian's `lrzsz`,
//! which `tools/ensure-toolchain.sh` installs), over pipes.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use zmodem::{FileOffer, Receiver, Refused, Sender, Sink, Source, Status, Stop};

#[derive(Default)]
struct MemSink {
    open: Option<Vec<u8>>,
    kept: Vec<(Vec<u8>, Vec<u8>)>,
    name: Vec<u8>,
}

impl Sink for MemSink {
    fn begin(&mut self, offer: &FileOffer<'_>) -> Result<(), Refused> {
        self.name = offer.name.to_vec();
        self.open = Some(Vec::new());
        Ok(())
    }
    fn write(&mut self, _offset: u64, data: &[u8]) -> Result<(), Stop> {
        self.open.as_mut().ok_or(Stop)?.extend_from_slice(data);
        Ok(())
    }
    fn end(&mut self, _size: u64) -> Result<(), Stop> {
        let data = self.open.take().ok_or(Stop)?;
        self.kept.push((self.name.clone(), data));
        Ok(())
    }
    fn discard(&mut self) {
        self.open = None;
    }
}

struct MemSource(Vec<u8>);

impl Source for MemSource {
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, Stop> {
        let data = self.0.get(offset as usize..).ok_or(Stop)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
}

fn pattern(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("zmodem-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tool(name: &str) -> Command {
    assert!(
        Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .unwrap()
            .status
            .success(),
        "`{name}` is missing: install Debian's lrzsz (tools/ensure-toolchain.sh does)"
    );
    Command::new(name)
}

/// Spawns `cmd` on pipes; its output arrives through the channel.
fn spawn(
    mut cmd: Command,
) -> (
    std::process::Child,
    std::process::ChildStdin,
    mpsc::Receiver<Vec<u8>>,
) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    (child, stdin, rx)
}

#[test]
fn receives_what_sz_sends() {
    let dir = scratch("sz");
    let data = pattern(300_000);
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    let mut cmd = tool("sz");
    cmd.current_dir(&dir).arg("data.bin");
    let (mut child, mut stdin, rx) = spawn(cmd);
    let start = Instant::now();
    let mut receiver = Receiver::new(0);
    let mut sink = MemSink::default();
    while receiver.status() == Status::Running {
        assert!(start.elapsed() < Duration::from_secs(60), "stuck");
        let out = receiver.take_output();
        if !out.is_empty() {
            let _ = stdin.write_all(&out);
        }
        let now = start.elapsed().as_millis() as u64;
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(bytes) => {
                receiver.feed(&bytes, now, &mut sink);
            }
            Err(_) => {
                receiver.tick(now, &mut sink);
            }
        }
    }
    let _ = stdin.write_all(&receiver.take_output());
    drop(stdin);
    assert_eq!(receiver.status(), Status::Done);
    assert!(child.wait().unwrap().success(), "sz failed");
    assert_eq!(sink.kept.len(), 1);
    assert_eq!(sink.kept[0].0, b"data.bin");
    assert!(sink.kept[0].1 == data, "content differs");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rz_receives_what_we_send() {
    let dir = scratch("rz");
    let data = pattern(200_003);
    let mut cmd = tool("rz");
    cmd.current_dir(&dir);
    let (mut child, mut stdin, rx) = spawn(cmd);
    let start = Instant::now();
    let mut sender = Sender::new(b"back.bin", data.len() as u64, 1_700_000_000, 0);
    let mut source = MemSource(data.clone());
    while sender.status() == Status::Running {
        assert!(start.elapsed() < Duration::from_secs(60), "stuck");
        let out = sender.take_output();
        if !out.is_empty() {
            let _ = stdin.write_all(&out);
        }
        let now = start.elapsed().as_millis() as u64;
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(bytes) => {
                sender.feed(&bytes, now, &mut source);
            }
            Err(_) => {
                sender.tick(now, &mut source);
            }
        }
    }
    let _ = stdin.write_all(&sender.take_output());
    drop(stdin);
    assert_eq!(sender.status(), Status::Done);
    assert!(child.wait().unwrap().success(), "rz failed");
    let got = std::fs::read(dir.join("back.bin")).unwrap();
    assert!(got == data, "content differs");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every byte value (4 KiB of them), then the pattern: YMODEM passes them raw. Shorter files
/// are the pattern alone.
fn every_byte(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..=255u8).cycle().take(4096.min(len)).collect();
    data.extend(pattern(len - data.len()));
    data
}

#[test]
fn ymodem_receives_what_sb_sends() {
    for (len, args) in [(150_001, &["-k"][..]), (5_000, &[][..]), (0, &["-k"][..])] {
        let dir = scratch("sb");
        let data = every_byte(len);
        std::fs::write(dir.join("data.bin"), &data).unwrap();
        let mut cmd = tool("sb");
        cmd.current_dir(&dir).args(args).arg("data.bin");
        let (mut child, mut stdin, rx) = spawn(cmd);
        let start = Instant::now();
        let mut receiver = zmodem::ymodem::Receiver::new(0).with_interrupt(0x03);
        let mut sink = MemSink::default();
        while receiver.status() == Status::Running {
            assert!(start.elapsed() < Duration::from_secs(60), "stuck");
            let out = receiver.take_output();
            if !out.is_empty() {
                let _ = stdin.write_all(&out);
            }
            let now = start.elapsed().as_millis() as u64;
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(bytes) => {
                    receiver.feed(&bytes, now, &mut sink);
                }
                Err(_) => {
                    receiver.tick(now, &mut sink);
                }
            }
        }
        let _ = stdin.write_all(&receiver.take_output());
        drop(stdin);
        assert_eq!(receiver.status(), Status::Done, "{len} {args:?}");
        assert!(child.wait().unwrap().success(), "sb failed");
        assert_eq!(sink.kept.len(), 1);
        assert_eq!(sink.kept[0].0, b"data.bin");
        assert!(sink.kept[0].1 == data, "content differs ({len} {args:?})");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn rb_receives_what_we_send_with_ymodem() {
    for len in [200_003, 1_000, 0] {
        let dir = scratch("rb");
        let data = every_byte(len);
        let mut cmd = tool("rb");
        cmd.current_dir(&dir);
        let (mut child, mut stdin, rx) = spawn(cmd);
        let start = Instant::now();
        let mut sender =
            zmodem::ymodem::Sender::new(b"back.bin", data.len() as u64, 1_700_000_000, 0);
        let mut source = MemSource(data.clone());
        while sender.status() == Status::Running {
            assert!(start.elapsed() < Duration::from_secs(60), "stuck");
            let out = sender.take_output();
            if !out.is_empty() {
                let _ = stdin.write_all(&out);
            }
            let now = start.elapsed().as_millis() as u64;
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(bytes) => {
                    sender.feed(&bytes, now, &mut source);
                }
                Err(_) => {
                    sender.tick(now, &mut source);
                }
            }
        }
        let _ = stdin.write_all(&sender.take_output());
        drop(stdin);
        assert_eq!(sender.status(), Status::Done);
        assert!(child.wait().unwrap().success(), "rb failed");
        let got = std::fs::read(dir.join("back.bin")).unwrap();
        assert!(got == data, "content differs ({len}: {} bytes)", got.len());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
