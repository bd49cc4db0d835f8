//! Archives built on the host with the `tar` and `flate2` crates, read back by the importer;
//! then one broken rule at a time.

use super::*;
use crate::elf::{ElfError, ElfSpec, Machine};
use crate::fuzz::samples::mips_kernel;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use guest_mem::GuestArch;
use std::io::Write;

extern crate std;

/// What a recording sink saw for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub path: Vec<u8>,
    pub kind: &'static str,
    pub target: Vec<u8>,
    pub mode: u16,
    pub size: u64,
    pub data: Vec<u8>,
    pub ended: bool,
}

/// Keeps everything it is given; optionally refuses once more than `limit` file bytes arrive.
#[derive(Default)]
pub(crate) struct RecordingSink {
    pub kernel: Vec<u8>,
    pub kernel_announced: Option<u64>,
    pub entries: Vec<Seen>,
    pub limit: Option<usize>,
}

impl ImportSink for RecordingSink {
    fn kernel_start(&mut self, size: u64) -> Result<(), SinkError> {
        self.kernel_announced = Some(size);
        Ok(())
    }
    fn kernel_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        self.kernel.extend_from_slice(data);
        Ok(())
    }
    fn entry_start(&mut self, e: &TreeEntry<'_>) -> Result<(), SinkError> {
        let (kind, target) = match e.kind {
            EntryKind::File => ("file", &[][..]),
            EntryKind::Directory => ("dir", &[][..]),
            EntryKind::Symlink { target } => ("symlink", target),
            EntryKind::HardLink { target } => ("hardlink", target),
        };
        self.entries.push(Seen {
            path: e.path.to_vec(),
            kind,
            target: target.to_vec(),
            mode: e.mode,
            size: e.size,
            data: Vec::new(),
            ended: false,
        });
        Ok(())
    }
    fn file_data(&mut self, data: &[u8]) -> Result<(), SinkError> {
        let total: usize = self.entries.iter().map(|e| e.data.len()).sum();
        if self.limit.is_some_and(|l| total + data.len() > l) {
            return Err(SinkError::NoSpace);
        }
        self.entries
            .last_mut()
            .unwrap()
            .data
            .extend_from_slice(data);
        Ok(())
    }
    fn entry_end(&mut self) -> Result<(), SinkError> {
        if let Some(e) = self.entries.last_mut() {
            e.ended = true;
        }
        Ok(())
    }
}

pub(crate) fn spec() -> ElfSpec {
    ElfSpec::for_guest(&GuestArch::MIPS32, 16 << 20).unwrap()
}

/// Appends one entry with a raw (≤ 100 byte) ustar name, no path rewriting.
pub(crate) fn raw_entry(
    ar: &mut ::tar::Builder<Vec<u8>>,
    name: &[u8],
    ty: u8,
    mode: u32,
    link: &[u8],
    data: &[u8],
) {
    let mut h = ::tar::Header::new_ustar();
    h.as_mut_bytes()[..name.len()].copy_from_slice(name);
    h.as_mut_bytes()[157..157 + link.len()].copy_from_slice(link);
    h.set_entry_type(::tar::EntryType::new(ty));
    h.set_mode(mode);
    h.set_size(data.len() as u64);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    ar.append(&h, data).unwrap();
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// A typical guest image: kernel, a few directories, files, links; returns (tar, kernel).
pub(crate) fn sample_tar(big_file: usize) -> (Vec<u8>, Vec<u8>) {
    let kernel = mips_kernel(0x3000, 0x400, 0x1000);
    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"./", b'5', 0o755, b"", b"");
    raw_entry(&mut ar, b"./kernel", b'0', 0o644, b"", &kernel);
    raw_entry(&mut ar, b"./bin/", b'5', 0o755, b"", b"");
    raw_entry(
        &mut ar,
        b"./bin/busybox",
        b'0',
        0o4755,
        b"",
        b"\x7FELF-not-really",
    );
    raw_entry(&mut ar, b"./bin/sh", b'2', 0o777, b"busybox", b"");
    raw_entry(&mut ar, b"./bin/ash", b'1', 0o755, b"./bin/busybox", b"");
    raw_entry(&mut ar, b"./etc/empty", b'0', 0o600, b"", b"");
    raw_entry(&mut ar, b"./dev/console", b'3', 0o600, b"", b"");
    let big: Vec<u8> = (0..big_file).map(|i| (i * 31 % 251) as u8).collect();
    raw_entry(&mut ar, b"./lib/big.bin", b'0', 0o644, b"", &big);
    let long = "usr/share/".to_string() + &"deep/".repeat(40) + "file.txt";
    let mut h = ::tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o640);
    h.set_entry_type(::tar::EntryType::Regular);
    ar.append_data(&mut h, &long, &b"hello"[..]).unwrap();
    ar.finish().unwrap();
    (ar.into_inner().unwrap(), kernel)
}

fn import(archive: &[u8]) -> Result<(ImportSummary, RecordingSink), ImportError> {
    let mut sink = RecordingSink::default();
    import_archive(archive, &spec(), &mut sink, &mut |_| {}).map(|s| (s, sink))
}

fn import_err(archive: &[u8]) -> ImportError {
    import(archive).map(|(s, _)| s).unwrap_err()
}

#[test]
fn round_trip_reports_kernel_and_tree() {
    let (tar, kernel) = sample_tar(200_000);
    let gz = gzip(&tar);
    let mut percents = Vec::new();
    let mut sink = RecordingSink::default();
    let summary = import_archive(&gz, &spec(), &mut sink, &mut |p| percents.push(p)).unwrap();
    assert_eq!(sink.kernel, kernel);
    assert_eq!(sink.kernel_announced, Some(kernel.len() as u64));
    assert_eq!(summary.kernel.entry, 0xC010_0000);
    assert_eq!(summary.kernel.end_offset, 0x10_3000 + 0x400 + 0x1000);
    assert_eq!(summary.kernel_size, kernel.len() as u64);
    assert_eq!(
        (
            summary.files,
            summary.directories,
            summary.symlinks,
            summary.hard_links
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(summary.skipped_special, 1);
    assert_eq!(
        summary.file_bytes,
        200_000 + 5 + b"\x7FELF-not-really".len() as u64
    );
    assert_eq!(summary.compressed_len, gz.len() as u64);
    assert_eq!(summary.tar_len, tar.len() as u64);
    let paths: Vec<&[u8]> = sink.entries.iter().map(|e| &e.path[..]).collect();
    assert_eq!(
        paths[..6],
        [
            &b"bin"[..],
            b"bin/busybox",
            b"bin/sh",
            b"bin/ash",
            b"etc/empty",
            b"lib/big.bin"
        ]
    );
    assert!(paths[6].starts_with(b"usr/share/deep/deep/") && paths[6].ends_with(b"/file.txt"));
    let e = &sink.entries;
    assert_eq!(
        (e[1].kind, e[1].mode, &e[1].data[..]),
        ("file", 0o4755, &b"\x7FELF-not-really"[..])
    );
    assert_eq!((e[2].kind, &e[2].target[..]), ("symlink", &b"busybox"[..]));
    assert_eq!(
        (e[3].kind, &e[3].target[..]),
        ("hardlink", &b"bin/busybox"[..])
    );
    assert_eq!((e[4].size, e[4].data.len()), (0, 0));
    assert_eq!(e[5].data.len(), 200_000);
    assert_eq!(e[5].data[1000], (1000 * 31 % 251) as u8);
    assert!(e.iter().all(|e| e.ended));
    assert!(percents.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(percents.last(), Some(&100));
    assert!(percents[..percents.len() - 1].iter().all(|&p| p <= 99));
}

#[test]
fn any_chunking_gives_the_same_result() {
    let (tar, _) = sample_tar(70_000);
    let gz = gzip(&tar);
    let (want, want_sink) = import(&gz).unwrap();
    for chunk in [1usize, 2, 9, 511, 4096, 65_537] {
        let mut sink = RecordingSink::default();
        let mut imp = ArchiveImporter::new(spec(), gz.len() as u64);
        for piece in gz.chunks(chunk) {
            imp.push(piece, &mut sink).unwrap();
        }
        assert_eq!(imp.finish(&mut sink).unwrap(), want, "chunk {chunk}");
        assert_eq!(sink.entries, want_sink.entries, "chunk {chunk}");
        assert_eq!(sink.kernel, want_sink.kernel);
    }
}

#[test]
fn gzip_header_options_are_accepted() {
    let (tar, _) = sample_tar(10);
    let mut gz = flate2::GzBuilder::new()
        .filename("image.tar")
        .comment("a comment")
        .extra(vec![1, 2, 3, 4])
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    let with_fields = gz.finish().unwrap();
    assert!(import(&with_fields).is_ok());
    // Add a header CRC (FHCRC) by hand to a plain gzip file.
    let plain = gzip(&tar);
    let mut h = plain[..10].to_vec();
    h[3] |= 0x02;
    let crc = crate::crc32::crc32(&h) as u16;
    let mut with_crc = h.clone();
    with_crc.extend_from_slice(&crc.to_le_bytes());
    with_crc.extend_from_slice(&plain[10..]);
    assert!(import(&with_crc).is_ok());
    with_crc[10] ^= 1;
    assert_eq!(
        import_err(&with_crc),
        ImportError::Gzip(GzipError::HeaderCrcMismatch)
    );
}

#[test]
fn gzip_errors() {
    let (tar, _) = sample_tar(1000);
    let gz = gzip(&tar);
    let n = gz.len();
    let mut bad = gz.clone();
    bad[1] = 0x8C;
    assert_eq!(import_err(&bad), ImportError::Gzip(GzipError::NotGzip));
    let mut bad = gz.clone();
    bad[2] = 7;
    assert_eq!(
        import_err(&bad),
        ImportError::Gzip(GzipError::UnsupportedMethod { method: 7 })
    );
    let mut bad = gz.clone();
    bad[3] = 0x80;
    assert_eq!(
        import_err(&bad),
        ImportError::Gzip(GzipError::ReservedFlags { flags: 0x80 })
    );
    let mut bad = gz.clone();
    bad[n - 8] ^= 0xFF;
    assert!(matches!(
        import_err(&bad),
        ImportError::Gzip(GzipError::CrcMismatch { .. })
    ));
    let mut bad = gz.clone();
    bad[n - 1] ^= 0x01;
    assert!(matches!(
        import_err(&bad),
        ImportError::Gzip(GzipError::LengthMismatch { .. })
    ));
    let mut bad = gz.clone();
    bad.extend_from_slice(&[0, 0, 0]);
    assert!(
        import(&bad).is_ok(),
        "zero padding after the member is fine"
    );
    bad.push(1);
    assert_eq!(
        import_err(&bad),
        ImportError::Gzip(GzipError::TrailingData { at: n as u64 + 3 })
    );
    for cut in [0, 1, 5, 10, n / 2, n - 9, n - 1] {
        let e = import_err(&gz[..cut]);
        assert!(
            matches!(
                e,
                ImportError::Gzip(GzipError::Truncated) | ImportError::Gzip(GzipError::NotGzip)
            ),
            "cut {cut}: {e}"
        );
    }
}

#[test]
fn corrupt_deflate_data_is_refused() {
    let (tar, _) = sample_tar(50_000);
    let gz = gzip(&tar);
    let mut refused = 0;
    for at in (20..gz.len() - 8).step_by(97) {
        let mut bad = gz.clone();
        bad[at] ^= 0x55;
        if import(&bad).is_err() {
            refused += 1;
        }
    }
    // Each flip must be caught by the decoder, the CRC, the tar checks or the ELF checks.
    assert_eq!(refused, (20..gz.len() - 8).step_by(97).count());
}

#[test]
fn tar_errors() {
    let (tar, _) = sample_tar(100);
    let mut bad = tar.clone();
    bad[512 + 148] = b'9'; // the kernel header's checksum field
    assert_eq!(
        import_err(&gzip(&bad)),
        ImportError::Tar(TarError::BadChecksum { at: 512 })
    );

    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"sparse", b'S', 0o644, b"", b"");
    assert_eq!(
        import_err(&gzip(&ar.into_inner().unwrap())),
        ImportError::Tar(TarError::UnsupportedType {
            at: 0,
            typeflag: b'S'
        })
    );
    for name in [&b"../etc/passwd"[..], b"a/../../b", b"/x/.."] {
        let mut ar = ::tar::Builder::new(Vec::new());
        raw_entry(&mut ar, name, b'0', 0o644, b"", b"x");
        assert_eq!(
            import_err(&gzip(&ar.into_inner().unwrap())),
            ImportError::Tar(TarError::BadPath { at: 0 })
        );
    }
    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"ln", b'1', 0o644, b"../outside", b"");
    assert_eq!(
        import_err(&gzip(&ar.into_inner().unwrap())),
        ImportError::Tar(TarError::BadPath { at: 0 })
    );

    let mut ar = ::tar::Builder::new(Vec::new());
    let mut h = ::tar::Header::new_gnu();
    h.set_size(0);
    let long = "x/".repeat(600);
    ar.append_data(&mut h, &long, &b""[..]).unwrap();
    assert_eq!(
        import_err(&gzip(&ar.into_inner().unwrap())),
        ImportError::Tar(TarError::PathTooLong { at: 0 })
    );

    // No end-of-archive marker, and data after it.
    let no_end = &tar[..tar.len() - 1024];
    assert!(matches!(
        import_err(&gzip(no_end)),
        ImportError::Tar(TarError::Truncated { .. })
    ));
    let mut after = tar.clone();
    let at = tar.len() - 100;
    after[at] = 1;
    assert_eq!(
        import_err(&gzip(&after)),
        ImportError::Tar(TarError::DataAfterEnd { at: at as u64 })
    );

    let mut magic = tar.clone();
    magic[512 + 257..512 + 263].copy_from_slice(b"ustaR\0");
    let sum: u32 = magic[512..1024]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u32
            }
        })
        .sum();
    magic[512 + 148..512 + 156].copy_from_slice(std::format!("{sum:06o}\0 ").as_bytes());
    assert_eq!(
        import_err(&gzip(&magic)),
        ImportError::Tar(TarError::BadMagic { at: 512 })
    );
}

#[test]
fn pax_headers_override_path_size_and_time() {
    let mut ar = ::tar::Builder::new(Vec::new());
    let kernel = mips_kernel(0x100, 0, 0);
    raw_entry(&mut ar, b"kernel", b'0', 0o644, b"", &kernel);
    let long = "opt/".to_string() + &"p".repeat(150);
    let records = [
        ("path", long.as_str()),
        ("mtime", "1700000123.5"),
        ("size", "3"),
    ];
    let mut pax = Vec::new();
    for (k, v) in records {
        let body = std::format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while body.len() + len.to_string().len() != len {
            len = body.len() + len.to_string().len();
        }
        pax.extend_from_slice(std::format!("{len}{body}").as_bytes());
    }
    raw_entry(&mut ar, b"PaxHeaders/x", b'x', 0o644, b"", &pax);
    raw_entry(&mut ar, b"short", b'0', 0o644, b"", b"abc");
    ar.finish().unwrap();
    let (summary, sink) = import(&gzip(&ar.into_inner().unwrap())).unwrap();
    assert_eq!(summary.files, 1);
    assert_eq!(sink.entries[0].path, long.as_bytes());
    assert_eq!(sink.entries[0].data, b"abc");
    let mut broken = Vec::new();
    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"PaxHeaders/x", b'x', 0o644, b"", b"99 path=x\n");
    raw_entry(&mut ar, b"short", b'0', 0o644, b"", b"abc");
    ar.finish().unwrap();
    broken.extend_from_slice(&ar.into_inner().unwrap());
    assert_eq!(
        import_err(&gzip(&broken)),
        ImportError::Tar(TarError::BadPaxHeader { at: 1024 })
    );
}

/// A pax record with `key=value`, its length prefix included.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = std::format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while body.len() + len.to_string().len() != len {
        len = body.len() + len.to_string().len();
    }
    std::format!("{len}{body}").into_bytes()
}

#[test]
fn pax_owner_ids_beyond_32_bits_are_refused() {
    for field in ["uid", "gid"] {
        let mut ar = ::tar::Builder::new(Vec::new());
        raw_entry(
            &mut ar,
            b"PaxHeaders/x",
            b'x',
            0o644,
            b"",
            &pax_record(field, "4294967296"),
        );
        raw_entry(&mut ar, b"short", b'0', 0o644, b"", b"abc");
        ar.finish().unwrap();
        assert_eq!(
            import_err(&gzip(&ar.into_inner().unwrap())),
            ImportError::Tar(TarError::BadNumber { at: 1024, field }),
            "{field}"
        );
    }
}

#[test]
fn kernel_rules() {
    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"./etc/", b'5', 0o755, b"", b"");
    ar.finish().unwrap();
    assert_eq!(
        import_err(&gzip(&ar.into_inner().unwrap())),
        ImportError::MissingKernel
    );

    let kernel = mips_kernel(0x100, 0, 0);
    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"./kernel", b'0', 0o644, b"", &kernel);
    raw_entry(&mut ar, b"kernel", b'0', 0o644, b"", &kernel);
    ar.finish().unwrap();
    let second = 512 + ((kernel.len() as u64 + 511) & !511);
    assert_eq!(
        import_err(&gzip(&ar.into_inner().unwrap())),
        ImportError::DuplicateKernel { at: second }
    );

    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"./kernel/", b'5', 0o755, b"", b"");
    ar.finish().unwrap();
    assert_eq!(
        import_err(&gzip(&ar.into_inner().unwrap())),
        ImportError::KernelNotRegularFile { at: 0 }
    );

    let ppc = crate::fuzz::samples::powerpc_kernel(0x100, 0);
    let mut ar = ::tar::Builder::new(Vec::new());
    raw_entry(&mut ar, b"./kernel", b'0', 0o644, b"", &ppc);
    ar.finish().unwrap();
    let e = import_err(&gzip(&ar.into_inner().unwrap()));
    assert_eq!(
        e,
        ImportError::Kernel(ElfError::WrongMachine {
            found: 20,
            expected: Machine::Mips
        })
    );
    assert_eq!(e.to_string(), "kernel: ELF machine 20 is not MIPS (8)");
}

#[test]
fn sink_refusal_stops_the_import_and_sticks() {
    let (tar, _) = sample_tar(100_000);
    let gz = gzip(&tar);
    let mut sink = RecordingSink {
        limit: Some(50_000),
        ..Default::default()
    };
    let mut imp = ArchiveImporter::new(spec(), gz.len() as u64);
    let e = gz
        .chunks(1000)
        .map(|c| imp.push(c, &mut sink))
        .find(|r| r.is_err())
        .unwrap()
        .unwrap_err();
    assert!(matches!(
        e,
        ImportError::Sink {
            error: SinkError::NoSpace,
            ..
        }
    ));
    assert_eq!(imp.finish(&mut sink), Err(e));
    assert_eq!(imp.percent(), 0);
}

#[test]
fn check_archive_keeps_nothing_and_agrees_with_import() {
    let (tar, _) = sample_tar(1234);
    let gz = gzip(&tar);
    assert_eq!(check_archive(&gz, &spec()).unwrap(), import(&gz).unwrap().0);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any tree of files and directories built by the `tar` crate comes back entry for entry.
        #[test]
        fn random_trees_round_trip(
            files in proptest::collection::btree_map(
                "[a-z]{1,8}(/[a-z0-9._-]{1,12}){0,3}",
                (proptest::collection::vec(any::<u8>(), 0..3000), 0u32..0o7777),
                0..25,
            ),
            chunk in 1usize..3000,
        ) {
            let kernel = mips_kernel(0x80, 0, 0);
            let mut ar = ::tar::Builder::new(Vec::new());
            raw_entry(&mut ar, b"kernel", b'0', 0o644, b"", &kernel);
            // A path must not be both a file and a directory: keep leaves only.
            let leaves: Vec<(&alloc::string::String, &(Vec<u8>, u32))> = files
                .iter()
                .filter(|(p, _)| !files.keys().any(|q| q.starts_with(&std::format!("{p}/"))))
                .filter(|(p, _)| p.split('/').all(|c| c != "." && c != ".."))
                .collect();
            for (path, (data, mode)) in &leaves {
                let mut h = ::tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(*mode);
                ar.append_data(&mut h, path.as_str(), &data[..]).unwrap();
            }
            ar.finish().unwrap();
            let gz = gzip(&ar.into_inner().unwrap());
            let mut sink = RecordingSink::default();
            let mut imp = ArchiveImporter::new(spec(), gz.len() as u64);
            for piece in gz.chunks(chunk) {
                imp.push(piece, &mut sink).unwrap();
            }
            let summary = imp.finish(&mut sink).unwrap();
            prop_assert_eq!(summary.files as usize, leaves.len());
            prop_assert_eq!(sink.kernel, kernel);
            for (seen, (path, (data, mode))) in sink.entries.iter().zip(&leaves) {
                prop_assert_eq!(&seen.path[..], path.as_bytes());
                prop_assert_eq!(&seen.data, data);
                prop_assert_eq!(u32::from(seen.mode), *mode);
            }
        }
    }
}
