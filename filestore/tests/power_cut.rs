//! A power cut at every write and flush of every operation: the store mounts with a clean
//! check and holds, in every area, the state before the operation or the state after it.
//! Each cut is tried with six patterns of what the device's write cache loses (all, none,
//! every other write, a torn last write, all but the newest, pseudo-random per write).

use filestore::fuzz::model::{dump_store, DumpEntry};
use filestore::sim::{MemDevice, Survival};
use filestore::{
    AreaId, Durability, Error, MountOptions, SetAttr, Store, Time, ROOT_INO, S_IFDIR, S_IFREG,
};

type Op = Box<dyn Fn(&mut Store<MemDevice>) -> Result<(), Error>>;

fn full_dump(s: &mut Store<MemDevice>) -> Vec<(Vec<u8>, Option<u64>, Vec<DumpEntry>)> {
    s.areas()
        .into_iter()
        .map(|a| (a.name.clone(), a.quota, dump_store(s, a.id).expect("dump")))
        .collect()
}

fn mount(dev: MemDevice) -> Store<MemDevice> {
    let (s, report) = Store::mount(
        dev,
        MountOptions {
            verify_data: true,
            ..MountOptions::default()
        },
    )
    .expect("mount after a cut");
    assert!(
        report.is_clean() && !report.rolled_back,
        "check after a cut: {report:?}"
    );
    s
}

fn take(s: Store<MemDevice>) -> MemDevice {
    match s.into_device() {
        Ok(d) | Err((_, d)) => d,
    }
}

fn lookup(s: &mut Store<MemDevice>, area: AreaId, path: &[&str]) -> u32 {
    path.iter().fold(ROOT_INO, |dir, name| {
        s.lookup(area, dir, name.as_bytes()).expect("path").ino
    })
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// Every cut of `op` on the store in `base`; returns the device after `op` ran uncut, and the
/// number of cuts tried.
fn every_cut(base: &MemDevice, name: &str, op: &Op) -> (MemDevice, usize) {
    let mut s = mount(base.clone());
    let before = full_dump(&mut s);
    let start = s.device().steps();
    op(&mut s).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    s.sync().unwrap();
    let steps = s.device().steps() - start;
    let after = full_dump(&mut s);
    assert_ne!(before, after, "{name} changed nothing");
    let done = take(s);
    let mut cuts = 0;
    for step in 0..steps {
        for survival in [
            Survival::NoneSurvive,
            Survival::AllSurvive,
            Survival::Alternate,
            Survival::TornLast,
            Survival::NewestOnly,
            Survival::Random(step * 7919 + 1),
        ] {
            let mut s = mount(base.clone());
            s.device().cut_power_at(step, survival);
            let result = op(&mut s).and_then(|()| s.sync());
            assert!(
                result.is_err(),
                "{name}: a cut at step {step} of {steps} went unnoticed"
            );
            let mut dev = take(s);
            dev.power_on();
            let mut s = mount(dev);
            let got = full_dump(&mut s);
            assert!(
                got == before || got == after,
                "{name}: a cut at step {step} of {steps} ({survival:?}) left neither the old nor the new state"
            );
            // And the store goes on working.
            let f = s
                .create(AreaId::HOST, ROOT_INO, b"after-the-cut", S_IFREG | 0o644, 0)
                .unwrap()
                .ino;
            s.write(AreaId::HOST, f, 0, b"still works").unwrap();
            mount(take(s));
            cuts += 1;
        }
    }
    (done, cuts)
}

#[test]
fn a_power_cut_at_any_step_leaves_the_old_or_the_new_state() {
    let mut s = Store::format(MemDevice::new(1024), Time { secs: 10, nanos: 0 }).unwrap();
    let g = s.create_area(b"guest", Some(2 << 20)).unwrap();
    let etc = s
        .create(g, ROOT_INO, b"etc", S_IFDIR | 0o755, 0)
        .unwrap()
        .ino;
    // Enough entries that the tree has several levels and the operations below split and
    // merge nodes.
    for i in 0..150 {
        let f = s
            .create(
                g,
                etc,
                format!("conf-{i:03}").as_bytes(),
                S_IFREG | 0o644,
                0,
            )
            .unwrap()
            .ino;
        s.write(g, f, 0, &data(100 + i * 3, i as u8)).unwrap();
    }
    let mut dev = take(s);

    let ops: Vec<(&str, Op)> = vec![
        (
            "mkdir",
            Box::new(move |s| {
                s.create(g, ROOT_INO, b"var", S_IFDIR | 0o755, 0)
                    .map(|_| ())
            }),
        ),
        (
            "create",
            Box::new(move |s| {
                let var = lookup(s, g, &["var"]);
                s.create(g, var, b"log", S_IFREG | 0o644, 0).map(|_| ())
            }),
        ),
        (
            "write 3 pages",
            Box::new(move |s| {
                let f = lookup(s, g, &["var", "log"]);
                s.write(g, f, 0, &data(10_000, 1)).map(|_| ())
            }),
        ),
        (
            "overwrite across a page boundary",
            Box::new(move |s| {
                let f = lookup(s, g, &["var", "log"]);
                s.write(g, f, 4000, &data(300, 2)).map(|_| ())
            }),
        ),
        (
            "write 5 pages past the end",
            Box::new(move |s| {
                let f = lookup(s, g, &["var", "log"]);
                s.write(g, f, 40_000, &data(20_000, 3)).map(|_| ())
            }),
        ),
        (
            "truncate",
            Box::new(move |s| {
                let f = lookup(s, g, &["var", "log"]);
                s.setattr(
                    g,
                    f,
                    SetAttr {
                        size: Some(5000),
                        ..SetAttr::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "symlink",
            Box::new(move |s| s.symlink(g, ROOT_INO, b"log", b"var/log").map(|_| ())),
        ),
        (
            "hard link",
            Box::new(move |s| {
                let f = lookup(s, g, &["var", "log"]);
                s.link(g, f, ROOT_INO, b"log.hard").map(|_| ())
            }),
        ),
        (
            "rename over a file",
            Box::new(move |s| {
                let etc = lookup(s, g, &["etc"]);
                s.rename(g, etc, b"conf-001", etc, b"conf-002")
            }),
        ),
        (
            "rename a directory",
            Box::new(move |s| {
                let etc = lookup(s, g, &["etc"]);
                s.rename(g, ROOT_INO, b"var", etc, b"var")
            }),
        ),
        (
            "setattr",
            Box::new(move |s| {
                let f = lookup(s, g, &["etc", "conf-003"]);
                s.setattr(
                    g,
                    f,
                    SetAttr {
                        mode: Some(0o600),
                        uid: Some(5),
                        gid: Some(6),
                        ..SetAttr::default()
                    },
                )
                .map(|_| ())
            }),
        ),
        (
            "unlink one",
            Box::new(move |s| {
                let etc = lookup(s, g, &["etc"]);
                s.unlink(g, etc, b"conf-100")
            }),
        ),
        (
            "unlink 30 in one deferred transaction",
            Box::new(move |s| {
                let etc = lookup(s, g, &["etc"]);
                s.set_durability(Durability::Deferred)?;
                for i in 10..40 {
                    s.unlink(g, etc, format!("conf-{i:03}").as_bytes())?;
                }
                s.set_durability(Durability::EachOperation)
            }),
        ),
        (
            "new area",
            Box::new(|s| s.create_area(b"second", Some(1 << 20)).map(|_| ())),
        ),
        (
            "deferred import",
            Box::new(|s| {
                let a = s.find_area(b"second").unwrap();
                s.set_durability(Durability::Deferred)?;
                let bin = s.create(a, ROOT_INO, b"bin", S_IFDIR | 0o755, 0)?.ino;
                for i in 0..12u8 {
                    let f = s.create(a, bin, &[b'p', b'a' + i], S_IFREG | 0o755, 0)?.ino;
                    s.write(a, f, 0, &data(usize::from(i) * 900 + 1, i))?;
                }
                s.set_durability(Durability::EachOperation)
            }),
        ),
        (
            "remove an area",
            Box::new(|s| {
                let a = s.find_area(b"second").unwrap();
                s.remove_area(a)
            }),
        ),
    ];
    let mut total = 0;
    for (name, op) in &ops {
        let (next, cuts) = every_cut(&dev, name, op);
        assert!(cuts >= 10, "{name}: only {cuts} cuts");
        total += cuts;
        dev = next;
    }
    println!("{total} power cuts, each mounted clean with the old or the new state");
}
