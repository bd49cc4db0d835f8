//! Fuzz bodies (`fuzz/` holds the cargo-fuzz targets that call them; `cargo test` runs them
//! over generated inputs and replays the kept corpus). Each panics only when a property of the
//! store breaks.
//!
//! - [`operations`]: a sequence of file-system operations, remounts and power cuts decoded
//!   from the input, run on the store and on the reference [`model::Model`]: every result
//!   equals the model's (or is a refusal for space that changed nothing), every mount's check
//!   is clean, and after a power cut the store holds the state before or after the cut
//!   operation, never anything else.
//! - [`image`]: a valid store image damaged as the input says (or the input itself as a raw
//!   image): mounting never panics; a mount that repaired leaves a store whose next check
//!   finds nothing to repair; operations on it never panic.

pub mod model;

use alloc::vec;
use alloc::vec::Vec;

use crate::sim::{MemDevice, Survival};
use crate::{
    AreaId, Error, FileType, Ino, MountOptions, SetAttr, Store, Time, S_IFCHR, S_IFDIR, S_IFIFO,
    S_IFREG,
};
use model::{dump_store, Model};

const NAMES: [&[u8]; 6] = [b"a", b"b", b"c", b"dir", b"file.txt", b"x"];

/// A cursor over the fuzz input; past the end it reads zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn name(sel: u8) -> Vec<u8> {
    match sel {
        // A name of the longest length, one too long, and bad names, now and then.
        250 => vec![b'n'; crate::MAX_NAME],
        251 => vec![b'n'; crate::MAX_NAME + 1],
        252 => b"..".to_vec(),
        253 => b"a/b".to_vec(),
        _ => NAMES[usize::from(sel) % NAMES.len()].to_vec(),
    }
}

/// One decoded operation.
#[derive(Clone, Debug)]
enum Op {
    Create {
        dir: Ino,
        name: Vec<u8>,
        mode: u32,
    },
    Symlink {
        dir: Ino,
        name: Vec<u8>,
        target: Vec<u8>,
    },
    Write {
        ino: Ino,
        offset: u64,
        data: Vec<u8>,
    },
    SetAttr {
        ino: Ino,
        set: SetAttr,
    },
    Unlink {
        dir: Ino,
        name: Vec<u8>,
    },
    Link {
        ino: Ino,
        dir: Ino,
        name: Vec<u8>,
    },
    Rename {
        od: Ino,
        on: Vec<u8>,
        nd: Ino,
        nn: Vec<u8>,
    },
    Read {
        ino: Ino,
        offset: u64,
        len: usize,
    },
}

fn op_name(op: &Op) -> alloc::string::String {
    match op {
        Op::Write { ino, offset, data } => {
            alloc::format!("write {} bytes at {offset} to {ino}", data.len())
        }
        Op::Symlink { dir, name, target } => {
            alloc::format!("symlink {} ({} bytes) in {dir}", name.len(), target.len())
        }
        other => alloc::format!("{other:?}").chars().take(200).collect(),
    }
}

fn pick(model: &Model, sel: u8, dirs_only: bool) -> Ino {
    let list: Vec<Ino> = model
        .inodes
        .iter()
        .filter(|(_, i)| !dirs_only || i.file_type == FileType::Directory)
        .map(|(&ino, _)| ino)
        .collect();
    if sel == 255 {
        // A number that names nothing (stale or never used).
        return model.next_ino + u32::from(sel % 2);
    }
    list[usize::from(sel) % list.len()]
}

fn decode(code: u8, input: &mut Input, model: &Model) -> Op {
    let dir = pick(model, input.byte(), true);
    match code % 9 {
        0 => Op::Create {
            dir,
            name: name(input.byte()),
            mode: S_IFREG | 0o644,
        },
        1 => Op::Create {
            dir,
            name: name(input.byte()),
            mode: S_IFDIR | 0o755,
        },
        2 => {
            let kind = input.byte();
            let mode = if kind % 2 == 0 { S_IFIFO } else { S_IFCHR };
            Op::Create {
                dir,
                name: name(input.byte()),
                mode: mode | 0o600,
            }
        }
        3 => {
            let len = usize::from(input.byte()) * 5 + 1;
            Op::Symlink {
                dir,
                name: name(input.byte()),
                target: vec![b't'; len],
            }
        }
        4 => {
            let ino = pick(model, input.byte(), false);
            let offset = u64::from(input.u16()) * 7;
            let len = usize::from(input.u16()) % 9000;
            let fill = input.byte();
            let data = (0..len)
                .map(|i| if fill == 0 { 0 } else { fill ^ (i as u8) })
                .collect();
            Op::Write { ino, offset, data }
        }
        5 => {
            let ino = pick(model, input.byte(), false);
            let what = input.byte();
            let set = match what % 3 {
                0 => SetAttr {
                    size: Some(u64::from(input.u16()) * 3),
                    ..SetAttr::default()
                },
                1 => SetAttr {
                    mode: Some(u32::from(input.u16())),
                    ..SetAttr::default()
                },
                _ => SetAttr {
                    uid: Some(u32::from(input.byte())),
                    gid: Some(7),
                    ..SetAttr::default()
                },
            };
            Op::SetAttr { ino, set }
        }
        6 => Op::Unlink {
            dir,
            name: name(input.byte()),
        },
        7 => {
            let ino = pick(model, input.byte(), false);
            Op::Link {
                ino,
                dir,
                name: name(input.byte()),
            }
        }
        _ => {
            let on = name(input.byte());
            let nd = pick(model, input.byte(), true);
            Op::Rename {
                od: dir,
                on,
                nd,
                nn: name(input.byte()),
            }
        }
    }
}

/// Run `op` on the store alone.
fn run_store(store: &mut Store<MemDevice>, area: AreaId, op: &Op) -> Result<u64, Error> {
    match op {
        Op::Create { dir, name, mode } => store
            .create(area, *dir, name, *mode, 0)
            .map(|a| u64::from(a.ino)),
        Op::Symlink { dir, name, target } => store
            .symlink(area, *dir, name, target)
            .map(|a| u64::from(a.ino)),
        Op::Write { ino, offset, data } => store.write(area, *ino, *offset, data).map(|n| n as u64),
        Op::SetAttr { ino, set } => store.setattr(area, *ino, *set).map(|_| 0),
        Op::Unlink { dir, name } => store.unlink(area, *dir, name).map(|()| 0),
        Op::Link { ino, dir, name } => store
            .link(area, *ino, *dir, name)
            .map(|a| u64::from(a.nlink)),
        Op::Rename { od, on, nd, nn } => store.rename(area, *od, on, *nd, nn).map(|()| 0),
        Op::Read { .. } => Ok(0),
    }
}

/// Run `op` on the model alone.
fn run_model(model: &mut Model, op: &Op) -> Result<u64, Error> {
    match op {
        Op::Create { dir, name, mode } => model.create(*dir, name, *mode).map(u64::from),
        Op::Symlink { dir, name, target } => model.symlink(*dir, name, target).map(u64::from),
        Op::Write { ino, offset, data } => model.write(*ino, *offset, data).map(|n| n as u64),
        Op::SetAttr { ino, set } => model.setattr(*ino, *set).map(|()| 0),
        Op::Unlink { dir, name } => model.unlink(*dir, name).map(|()| 0),
        Op::Link { ino, dir, name } => model
            .link(*ino, *dir, name)
            .map(|()| u64::from(model.inodes[ino].nlink)),
        Op::Rename { od, on, nd, nn } => model.rename(*od, on, *nd, nn).map(|()| 0),
        Op::Read { .. } => Ok(0),
    }
}

/// Run `op` on the store and the model; both must agree. A refusal for space (which the
/// model does not know) must change nothing.
fn apply(
    store: &mut Store<MemDevice>,
    area: AreaId,
    model: &mut Model,
    op: &Op,
) -> Result<(), Error> {
    if let Op::Read { ino, offset, len } = *op {
        let mut buf = vec![0u8; len];
        let got = store.read(area, ino, offset, &mut buf).map(|n| {
            buf.truncate(n);
            buf
        });
        let want = model.read(ino, offset, len);
        match (&got, &want) {
            (Ok(a), Ok(b)) if a != b => {
                panic!("read of {len} bytes at {offset} from {ino}: the bytes differ")
            }
            _ if got.as_ref().err() != want.as_ref().err() => {
                panic!("read: store {:?}, model {:?}", got.err(), want.err())
            }
            _ => return Ok(()),
        }
    }
    let before = model.clone();
    let got = run_store(store, area, op);
    let want = run_model(model, op);
    match got {
        Err(e @ (Error::NoSpace | Error::QuotaExceeded)) => {
            *model = before;
            same(
                dump_store(store, area),
                &model.dump(),
                "a refused operation changed the store",
            );
            Err(e)
        }
        Err(e @ (Error::Io(_) | Error::Failed)) => {
            *model = before;
            Err(e)
        }
        got => {
            if got != want {
                panic!("{}: store {got:?}, model {want:?}", op_name(op));
            }
            got.map(|_| ())
        }
    }
}

/// Panics, showing the first difference only, unless a store's dump equals the model's.
fn same(got: Result<Vec<model::DumpEntry>, Error>, want: &[model::DumpEntry], what: &str) {
    let got = match got {
        Ok(g) => g,
        Err(e) => panic!("{what}: dumping the store failed: {e:?}"),
    };
    if got == want {
        return;
    }
    panic!("{what}: {}", first_diff(&got, want));
}

/// The first entry where two dumps differ, briefly.
fn first_diff(got: &[model::DumpEntry], want: &[model::DumpEntry]) -> alloc::string::String {
    let short = |e: Option<&model::DumpEntry>| {
        e.map(|e| {
            let path =
                alloc::string::String::from_utf8_lossy(&e.0[..e.0.len().min(40)]).into_owned();
            alloc::format!(
                "{path} ino {} {:?} mode {:o} nlink {} size {} content {} bytes",
                e.1,
                e.2,
                e.3,
                e.6,
                e.7,
                e.8.len()
            )
        })
    };
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    alloc::format!(
        "the store differs from the model at entry {at} of {}/{}: store {:?}, model {:?}",
        got.len(),
        want.len(),
        short(got.get(at)),
        short(want.get(at))
    )
}

fn remount(dev: MemDevice) -> (Store<MemDevice>, crate::CheckReport) {
    let (s, report) =
        Store::mount(dev, MountOptions::default()).expect("a store that was written mounts");
    assert!(report.is_clean(), "the check found problems: {report:?}");
    (s, report)
}

/// After a mount, numbering goes on from the area's limit: never below what was handed out.
fn follow_numbering(store: &Store<MemDevice>, area: AreaId, model: &mut Model) {
    let next = store.area_info(area).expect("the area").next_ino;
    assert!(
        next >= model.next_ino,
        "inode numbers would be reused: {next} < {}",
        model.next_ino
    );
    model.next_ino = next;
}

fn take_device(store: Store<MemDevice>) -> MemDevice {
    match store.into_device() {
        Ok(d) | Err((_, d)) => d,
    }
}

/// The operations fuzz body (see the module docs). Input: a device size selector, then
/// operations of a few bytes each.
pub fn operations(input: &[u8]) {
    run_operations(input, false);
}

/// [`operations`], comparing the whole store with the model after every operation (slower:
/// finds the first operation that goes wrong).
pub fn operations_paranoid(input: &[u8]) {
    run_operations(input, true);
}

fn run_operations(input: &[u8], paranoid: bool) {
    let mut input = Input(input);
    let blocks = 256 + u64::from(input.byte()) * 16;
    let mut store =
        Store::format(MemDevice::new(blocks), Time { secs: 1, nanos: 0 }).expect("format");
    let area = store
        .create_area(b"guest", None)
        .expect("an area on an empty store");
    let mut model = Model::new();
    let mut committed = model.clone();
    let mut deferred = false;
    let mut ops = 0;
    while !input.is_empty() && ops < 200 {
        ops += 1;
        let code = input.byte();
        match code {
            200..=209 => {
                let dev = take_device(store);
                store = remount(dev).0;
                same(
                    dump_store(&mut store, area),
                    &model.dump(),
                    "after a remount",
                );
                follow_numbering(&store, area, &mut model);
                committed = model.clone();
                deferred = false;
            }
            210..=219 => {
                deferred = !deferred;
                let d = if deferred {
                    crate::Durability::Deferred
                } else {
                    crate::Durability::EachOperation
                };
                store
                    .set_durability(d)
                    .expect("switching durability commits");
                committed = model.clone();
            }
            220..=239 => {
                // A power cut during the next operation.
                let step = u64::from(input.byte() % 64);
                let survival = match input.byte() % 5 {
                    0 => Survival::NoneSurvive,
                    1 => Survival::AllSurvive,
                    2 => Survival::Alternate,
                    3 => Survival::TornLast,
                    s => Survival::Random(u64::from(s) * 77 + step),
                };
                let next = input.byte();
                let op = decode(next, &mut input, &model);
                store.device().cut_power_at(step, survival);
                let mut after = model.clone();
                let want = run_model(&mut after, &op);
                let got = run_store(&mut store, area, &op);
                if store.device().is_powered() {
                    store.device().cancel_cut();
                    match got {
                        Err(Error::NoSpace | Error::QuotaExceeded) => {
                            same(
                                dump_store(&mut store, area),
                                &model.dump(),
                                "a refused operation changed the store",
                            );
                        }
                        got => {
                            if got != want {
                                panic!("{}: store {got:?}, model {want:?}", op_name(&op));
                            }
                            model = after;
                            if !deferred && got.is_ok() {
                                committed = model.clone();
                            }
                        }
                    }
                    continue;
                }
                let mut dev = take_device(store);
                dev.power_on();
                store = remount(dev).0;
                let got = dump_store(&mut store, area).expect("dump after a power cut");
                if got == committed.dump() {
                    model = committed.clone();
                } else {
                    assert!(
                        !deferred,
                        "a deferred operation's cut left a state other than the last commit"
                    );
                    let what = alloc::format!("after a cut at step {step} ({survival:?}) during {}: neither the old nor the new state; against the old: {}", op_name(&op), first_diff(&got, &committed.dump()));
                    same(Ok(got), &after.dump(), &what);
                    model = after;
                }
                follow_numbering(&store, area, &mut model);
                committed = model.clone();
                deferred = false;
            }
            240..=255 => {
                let ino = pick(&model, input.byte(), false);
                let offset = u64::from(input.u16());
                let len = usize::from(input.u16()) % 10_000;
                let _ = apply(&mut store, area, &mut model, &Op::Read { ino, offset, len });
            }
            _ => {
                let op = decode(code, &mut input, &model);
                let ok = apply(&mut store, area, &mut model, &op).is_ok();
                if ok && !deferred {
                    committed = model.clone();
                }
                if paranoid {
                    let what = alloc::format!("after op {ops}: {}", op_name(&op));
                    same(dump_store(&mut store, area), &model.dump(), &what);
                }
            }
        }
    }
    let dev = take_device(store);
    let (mut store, _) = remount(dev);
    same(dump_store(&mut store, area), &model.dump(), "at the end");
}

/// A small valid store: a guest area with directories, files of several pages, a symlink and
/// a hard link; the base the image body damages.
pub fn sample_image() -> Vec<u8> {
    let mut s = Store::format(MemDevice::new(96), Time { secs: 1, nanos: 0 }).expect("format");
    let area = s.create_area(b"guest", Some(1 << 20)).expect("area");
    let root = s.root(area).expect("root");
    let etc = s
        .create(area, root, b"etc", S_IFDIR | 0o755, 0)
        .expect("mkdir")
        .ino;
    for i in 0..12u8 {
        let name = [b'f', b'0' + i / 10, b'0' + i % 10];
        let f = s
            .create(area, etc, &name, S_IFREG | 0o644, 0)
            .expect("create")
            .ino;
        let data: Vec<u8> = (0..(usize::from(i) * 1500 + 10))
            .map(|j| (j as u8) ^ i)
            .collect();
        s.write(area, f, 0, &data).expect("write");
    }
    s.symlink(area, root, b"link", b"etc/f01").expect("symlink");
    s.link(area, 3, root, b"hard").expect("link");
    let host = s
        .create(AreaId::HOST, 1, b"image.tgz", S_IFREG | 0o644, 0)
        .expect("host file")
        .ino;
    s.write(AreaId::HOST, host, 0, &[0x1F; 5000])
        .expect("host write");
    take_device(s).image()
}

/// The image fuzz body (see the module docs). Input: byte 0 = 0xFF: the rest is a raw image;
/// otherwise patches of 4 bytes (block, offset u16, xor byte) applied to [`sample_image`].
pub fn image(input: &[u8]) {
    let image = match input.split_first() {
        Some((0xFF, raw)) => {
            let mut raw = raw.to_vec();
            raw.resize(raw.len().max(16 * crate::BLOCK_SIZE), 0);
            raw
        }
        _ => {
            let mut img = sample_image();
            let blocks = img.len() / crate::BLOCK_SIZE;
            for patch in input.chunks_exact(4) {
                let block = usize::from(patch[0]) % blocks;
                let offset =
                    usize::from(u16::from_be_bytes([patch[1], patch[2]])) % crate::BLOCK_SIZE;
                img[block * crate::BLOCK_SIZE + offset] ^= patch[3] | 1;
            }
            img
        }
    };
    let dev = MemDevice::from_image(&image);
    let Ok((mut store, report)) = Store::mount(
        dev,
        MountOptions {
            verify_data: true,
            ..MountOptions::default()
        },
    ) else {
        return;
    };
    // Whatever it found, the store answers without panicking.
    let areas = store.areas();
    for a in &areas {
        let _ = dump_store(&mut store, a.id);
        let _ = store.statfs(a.id);
    }
    if let Some(a) = areas.last() {
        let _ = store.create(a.id, crate::ROOT_INO, b"new", S_IFREG | 0o644, 0);
        let _ = store.write(a.id, crate::ROOT_INO + 1, 100, b"more");
    }
    let data_damage = report
        .problems
        .iter()
        .any(|p| matches!(p, crate::Problem::DataDamaged { .. }))
        || report.problem_count as usize > report.problems.len();
    let dev = take_device(store);
    // A repaired store checks clean the next time (damaged data pages are reported again:
    // they cannot be repaired).
    if let Ok((_, again)) = Store::mount(
        dev,
        MountOptions {
            verify_data: true,
            ..MountOptions::default()
        },
    ) {
        if report.repaired && !data_damage {
            assert!(
                again
                    .problems
                    .iter()
                    .all(|p| matches!(p, crate::Problem::DataDamaged { .. })),
                "a repaired store still has problems: first {report:?}, then {again:?}"
            );
        }
    }
}
