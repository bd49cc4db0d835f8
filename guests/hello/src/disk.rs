//! `ls`, `cat` and `write` on the guest's disk through metafs (queue 2).

use mr_guest::metafs::{Metafs, PAGE};
use mr_guest::{println, timer};

/// The client, made on first use.
pub struct Disk(Option<Metafs>);

impl Disk {
    pub const fn new() -> Self {
        Self(None)
    }

    fn client(&mut self) -> Option<&mut Metafs> {
        if self.0.is_none() {
            match Metafs::init() {
                Ok(m) => self.0 = Some(m),
                Err(e) => println!("disk: no metafs queue ({e})"),
            }
        }
        self.0.as_mut()
    }

    /// `ls [PATH]`: one line per entry, `TYPE INODE NAME`.
    pub fn ls(&mut self, path: &[u8]) {
        let Some(m) = self.client() else { return };
        let dir = match m.walk(path) {
            Ok(d) => d,
            Err(e) => return println!("ls: errno {e}"),
        };
        let result = m.list(dir.ino, &mut |ino, kind, name| {
            let kind = match kind {
                4 => 'd',
                10 => 'l',
                8 => '-',
                _ => '?',
            };
            println!("{kind} {ino} {}", core::str::from_utf8(name).unwrap_or("?"));
        });
        if let Err(e) = result {
            println!("ls: errno {e}");
        }
    }

    /// `cat PATH`: the file's bytes as text.
    pub fn cat(&mut self, path: &[u8]) {
        let Some(m) = self.client() else { return };
        let file = match m.walk(path) {
            Ok(f) => f,
            Err(e) => return println!("cat: errno {e}"),
        };
        let mut page = [0u8; PAGE];
        let mut offset = 0;
        while offset < file.size {
            match m.read_page(file.ino, offset, &mut page) {
                Ok(0) => break,
                Ok(n) => {
                    for line in page[..n].split(|&b| b == b'\n') {
                        if !line.is_empty() {
                            println!("{}", core::str::from_utf8(line).unwrap_or("?"));
                        }
                    }
                    offset += n as u64;
                }
                Err(e) => return println!("cat: errno {e}"),
            }
        }
        println!("cat: {} bytes", file.size);
    }

    /// `disk-bench PAGES`: write PAGES pages of 4 KiB to `/bench`, read them back; the rates as
    /// this guest sees them (one request at a time, as MikroTik's driver does).
    pub fn bench(&mut self, pages: u64) {
        let Some(m) = self.client() else { return };
        let root = match m.root() {
            Ok(r) => r,
            Err(e) => return println!("disk-bench: errno {e}"),
        };
        let file = match m.lookup(root.ino, b"bench") {
            Ok(f) => f,
            Err(_) => match m.create(root.ino, b"bench", 0o644) {
                Ok(f) => f,
                Err(e) => return println!("disk-bench: errno {e}"),
            },
        };
        let mut page = [0x5Au8; PAGE];
        let start = timer::uptime_ms();
        for i in 0..pages {
            if let Err(e) = m.write_page(file.ino, i * PAGE as u64, &page) {
                return println!("disk-bench: write errno {e}");
            }
        }
        let wrote = timer::uptime_ms() - start;
        let start = timer::uptime_ms();
        for i in 0..pages {
            if let Err(e) = m.read_page(file.ino, i * PAGE as u64, &mut page) {
                return println!("disk-bench: read errno {e}");
            }
        }
        let read = timer::uptime_ms() - start;
        let kib = pages * 4;
        println!(
            "disk-bench: {kib} KiB written in {wrote} ms ({} KiB/s), read in {read} ms ({} KiB/s)",
            kib * 1000 / wrote.max(1),
            kib * 1000 / read.max(1)
        );
    }

    /// `write PATH TEXT`: create the file (in an existing directory) and append a line.
    pub fn write(&mut self, path: &[u8], text: &[u8]) {
        let Some(m) = self.client() else { return };
        let cut = path.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let (dir, name) = path.split_at(cut);
        let dir = match m.walk(dir) {
            Ok(d) => d,
            Err(e) => return println!("write: errno {e}"),
        };
        let file = match m.lookup(dir.ino, name) {
            Ok(f) => f,
            Err(2) => match m.create(dir.ino, name, 0o644) {
                Ok(f) => f,
                Err(e) => return println!("write: errno {e}"),
            },
            Err(e) => return println!("write: errno {e}"),
        };
        let mut at = file.size;
        let mut line = [0u8; 128];
        let len = text.len().min(line.len() - 1);
        line[..len].copy_from_slice(&text[..len]);
        line[len] = b'\n';
        let mut rest = &line[..=len];
        while !rest.is_empty() {
            // A write never crosses a page boundary.
            let room = PAGE - (at % PAGE as u64) as usize;
            let n = rest.len().min(room);
            match m.write_page(file.ino, at, &rest[..n]) {
                Ok(w) if w == n => {}
                Ok(w) => return println!("write: short write {w}"),
                Err(e) => return println!("write: errno {e}"),
            }
            at += n as u64;
            rest = &rest[n..];
        }
        println!("write: {} bytes", at);
    }
}
