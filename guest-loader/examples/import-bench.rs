//! Prints throughput and memory figures for the image paths, side by side with the host
//! `flate2` + `tar` crates as a peer. Figures only; nothing is asserted.
//!
//! `cargo run --release -p guest-loader --features std --example import-bench`

use guest_loader::archive::{import_archive, ImportSink, NullSink, SinkError, TreeEntry};
use guest_loader::elf::{load_elf, ElfSpec, ElfStream};
use guest_loader::fuzz::samples::mips_kernel;
use guest_loader::store::{FileStore, StoreBuilder};
use guest_mem::GuestArch;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live and peak heap bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same contract as this function's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as this function's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Copies every byte it receives (what a store writing to RAM would do).
#[derive(Default)]
struct CopySink {
    bytes: Vec<u8>,
}

impl ImportSink for CopySink {
    fn kernel_start(&mut self, _: u64) -> Result<(), SinkError> {
        Ok(())
    }
    fn kernel_data(&mut self, d: &[u8]) -> Result<(), SinkError> {
        self.bytes.extend_from_slice(d);
        Ok(())
    }
    fn entry_start(&mut self, _: &TreeEntry<'_>) -> Result<(), SinkError> {
        Ok(())
    }
    fn file_data(&mut self, d: &[u8]) -> Result<(), SinkError> {
        self.bytes.extend_from_slice(d);
        Ok(())
    }
}

/// A pseudo-random generator for incompressible test data.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// Text-like, compressible data.
fn text(len: usize) -> Vec<u8> {
    let words = [
        "config ",
        "interface ",
        "option ",
        "'lan' ",
        "192.168.88.1 ",
        "\n",
        "busybox ",
        "uci ",
    ];
    let mut out = Vec::with_capacity(len);
    let mut i = 0usize;
    while out.len() < len {
        out.extend_from_slice(words[(i * 7 + i / 3) % words.len()].as_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// A guest image of roughly `mib` MiB compressed: a 2 MiB kernel plus a tree of text and
/// binary-like files (incompressible blocks).
fn image(mib: usize) -> (Vec<u8>, usize) {
    let kernel = mips_kernel(2 << 20, 256 << 10, 512 << 10);
    let mut ar = tar::Builder::new(Vec::new());
    let add = |ar: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        ar.append_data(&mut h, name, data).unwrap();
    };
    add(&mut ar, "kernel", &kernel);
    let mut i = 0;
    loop {
        let gz_estimate = ar.get_ref().len() / 2;
        if gz_estimate > mib << 20 {
            break;
        }
        add(
            &mut ar,
            &format!("usr/lib/lib{i}.so"),
            &noise(300 << 10, i as u64 + 1),
        );
        add(&mut ar, &format!("etc/config/file{i}"), &text(300 << 10));
        i += 1;
    }
    ar.finish().unwrap();
    let tar = ar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    (gz.finish().unwrap(), tar.len())
}

fn mbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

/// Best of `runs` timings of `f`, in seconds.
fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let (gz, tar_len) = image(10);
    let spec = ElfSpec::for_guest(&GuestArch::MIPS32, 64 << 20).unwrap();
    println!(
        "archive: {} bytes compressed, {} bytes of tar",
        gz.len(),
        tar_len
    );

    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let summary = import_archive(&gz, &spec, &mut NullSink, &mut |_| {}).unwrap();
    let heap = PEAK.load(Ordering::Relaxed) - base;
    println!(
        "guest-loader import (check only): peak heap {} bytes ({} files, kernel {} bytes)",
        heap, summary.files, summary.kernel_size
    );

    // The same importer on a tiny archive: its memory does not depend on the archive's size.
    let tiny =
        guest_loader::fuzz::gzip_stored(&guest_loader::fuzz::samples::seeds("tar_stream")[0]);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    import_archive(&tiny, &spec, &mut NullSink, &mut |_| {}).unwrap();
    println!(
        "guest-loader import of a {}-byte archive: peak heap {} bytes",
        tiny.len(),
        PEAK.load(Ordering::Relaxed) - base
    );

    let t_check = best(3, || {
        import_archive(&gz, &spec, &mut NullSink, &mut |_| {}).unwrap();
    });
    let t_copy = best(3, || {
        let mut sink = CopySink {
            bytes: Vec::with_capacity(tar_len),
        };
        import_archive(&gz, &spec, &mut sink, &mut |_| {}).unwrap();
    });
    let t_peer = best(3, || {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]));
        let mut out = Vec::with_capacity(tar_len);
        for entry in archive.entries().unwrap() {
            entry.unwrap().read_to_end(&mut out).unwrap();
        }
    });
    println!(
        "{:<44} {:>10} {:>12}",
        "import (10 MiB-class archive)", "MB/s in", "MB/s out"
    );
    for (name, t) in [
        ("guest-loader, check only (NullSink)", t_check),
        ("guest-loader, copying sink", t_copy),
        ("peer: flate2 GzDecoder + tar crate (std)", t_peer),
    ] {
        println!(
            "{:<44} {:>10.1} {:>12.1}",
            name,
            mbps(gz.len(), t),
            mbps(tar_len, t)
        );
    }

    let kernel = mips_kernel(8 << 20, 1 << 20, 2 << 20);
    let mut ram = vec![0u8; 64 << 20];
    let t_load = best(5, || {
        load_elf(&kernel, &spec, &mut ram).unwrap();
    });
    let t_stream = best(5, || {
        let mut s = ElfStream::new(spec, kernel.len() as u64);
        for piece in kernel.chunks(16 << 10) {
            s.push(piece, Some(&mut ram)).unwrap();
        }
        s.finish(Some(&mut ram)).unwrap();
    });
    println!(
        "{:<44} {:>10.1}",
        "ELF load, one-shot (9 MiB file), MB/s",
        mbps(kernel.len(), t_load)
    );
    println!(
        "{:<44} {:>10.1}",
        "ELF load, streamed in 16 KiB pieces, MB/s",
        mbps(kernel.len(), t_stream)
    );

    let mut b = StoreBuilder::new();
    b.add("image.tgz", 0, &gz).unwrap();
    b.add("notes.txt", 0, &text(1 << 20)).unwrap();
    let blob = b.build();
    let t_store = best(5, || {
        FileStore::parse(&blob).unwrap();
    });
    println!(
        "{:<44} {:>10.1}",
        "file store parse (CRC of all data), MB/s",
        mbps(blob.len(), t_store)
    );
}
