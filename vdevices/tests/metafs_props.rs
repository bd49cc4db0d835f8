//! Property tests of the metafs server with the reference store:
//! - random file-system operations sent over the wire agree with a plain model of a POSIX tree
//!   (results, errno, file contents, listings in order), and the store's invariants hold;
//! - answers depend only on ring order: a request sequence served one at a time and the same
//!   sequence posted in batches, out of order within each batch, with service passes at random
//!   moments, gets byte-identical replies and leaves the same tree.

mod common;

use common::metafs::{req, Disk, Pending, Reply, VOLUME};
use proptest::prelude::*;

const MIB: u64 = 1 << 20;
const NAMES: [&str; 4] = ["a", "b", "c", "d"];
const ENOENT: i32 = 2;
const EEXIST: i32 = 17;
const ENOTDIR: i32 = 20;
const EISDIR: i32 = 21;
const EINVAL: i32 = 22;
const ENOTEMPTY: i32 = 93;

#[derive(Clone, Debug)]
enum Op {
    Mkdir(usize, usize),
    Create(usize, usize),
    Symlink(usize, usize, u8),
    Write(usize, u16, u16, u8),
    Truncate(usize, u16),
    Unlink(usize, usize),
    Rename(usize, usize, usize, usize),
    Link(usize, usize, usize),
    List(usize),
    Read(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..NAMES.len();
    prop_oneof![
        (any::<usize>(), n.clone()).prop_map(|(d, x)| Op::Mkdir(d, x)),
        (any::<usize>(), n.clone()).prop_map(|(d, x)| Op::Create(d, x)),
        (any::<usize>(), n.clone(), 1..40u8).prop_map(|(d, x, t)| Op::Symlink(d, x, t)),
        (any::<usize>(), 0..9000u16, 1..300u16, any::<u8>())
            .prop_map(|(f, o, l, b)| Op::Write(f, o, l, b)),
        (any::<usize>(), 0..9000u16).prop_map(|(f, s)| Op::Truncate(f, s)),
        (any::<usize>(), n.clone()).prop_map(|(d, x)| Op::Unlink(d, x)),
        (any::<usize>(), n.clone(), any::<usize>(), n.clone())
            .prop_map(|(a, x, b, y)| Op::Rename(a, x, b, y)),
        (any::<usize>(), any::<usize>(), n).prop_map(|(f, d, x)| Op::Link(f, d, x)),
        any::<usize>().prop_map(Op::List),
        any::<usize>().prop_map(Op::Read),
    ]
}

/// A node of the model: the server's inode number is kept alongside.
#[derive(Clone, Debug)]
enum Body {
    File(Vec<u8>),
    Dir {
        entries: Vec<(String, usize)>,
        parent: usize,
        live: bool,
    },
    Link(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Node {
    ino: u64,
    nlink: u32,
    body: Body,
}

/// A POSIX tree kept as plainly as possible: nodes by index, directory entries in the order
/// they were made (a listing's order).
struct Model {
    nodes: Vec<Node>,
}

impl Model {
    fn dirs(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| matches!(self.nodes[i].body, Body::Dir { .. }))
            .collect()
    }
    fn files(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| matches!(self.nodes[i].body, Body::File(_)))
            .collect()
    }
    fn entries(&self, dir: usize) -> Result<&Vec<(String, usize)>, i32> {
        match &self.nodes[dir].body {
            Body::Dir { entries, .. } => Ok(entries),
            _ => Err(ENOTDIR),
        }
    }
    fn live(&self, dir: usize) -> bool {
        matches!(self.nodes[dir].body, Body::Dir { live: true, .. })
    }
    fn find(&self, dir: usize, name: &str) -> Option<usize> {
        self.entries(dir)
            .ok()?
            .iter()
            .find(|e| e.0 == name)
            .map(|e| e.1)
    }
    fn is_dir(&self, n: usize) -> bool {
        matches!(self.nodes[n].body, Body::Dir { .. })
    }
    fn is_empty_dir(&self, n: usize) -> bool {
        matches!(&self.nodes[n].body, Body::Dir { entries, .. } if entries.is_empty())
    }
    fn entries_mut(&mut self, dir: usize) -> &mut Vec<(String, usize)> {
        match &mut self.nodes[dir].body {
            Body::Dir { entries, .. } => entries,
            _ => unreachable!(),
        }
    }
    fn remove(&mut self, dir: usize, name: &str) {
        self.entries_mut(dir).retain(|e| e.0 != name);
    }
    /// `name` in `dir` goes; its node loses the link (a directory dies, its parent loses one).
    fn drop_name(&mut self, dir: usize, name: &str, n: usize) {
        self.remove(dir, name);
        if let Body::Dir { live, parent, .. } = &mut self.nodes[n].body {
            *live = false;
            *parent = n;
            self.nodes[n].nlink = 0;
            self.nodes[dir].nlink -= 1;
        } else {
            self.nodes[n].nlink -= 1;
        }
    }
    fn within(&self, mut dir: usize, ancestor: usize) -> bool {
        for _ in 0..=self.nodes.len() {
            if dir == ancestor {
                return true;
            }
            match self.nodes[dir].body {
                Body::Dir { parent, .. } if parent != dir => dir = parent,
                _ => return false,
            }
        }
        false
    }
    /// A new node named `name` in `dir`, if the model allows it.
    fn can_make(&self, dir: usize, name: &str) -> Result<(), i32> {
        self.entries(dir)?;
        if self.find(dir, name).is_some() {
            return Err(EEXIST);
        }
        if !self.live(dir) {
            return Err(ENOENT);
        }
        Ok(())
    }
    fn add(&mut self, dir: usize, name: &str, ino: u64, body: Body) -> usize {
        let is_dir = matches!(body, Body::Dir { .. });
        self.nodes.push(Node {
            ino,
            nlink: if is_dir { 2 } else { 1 },
            body,
        });
        let n = self.nodes.len() - 1;
        self.entries_mut(dir).push((name.to_string(), n));
        if is_dir {
            self.nodes[dir].nlink += 1;
        }
        n
    }
}

fn pick(list: &[usize], i: usize) -> usize {
    list[i % list.len()]
}

/// The error of a reply that should be one (or `Ok` with the reply).
fn outcome(r: Reply) -> Result<Reply, i32> {
    if r.bytes.len() == 4 && r.status() < 0 {
        Err(-r.status())
    } else {
        Ok(r)
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut d = Disk::new(256 * MIB, None);
    let root = d.root();
    let mut m = Model {
        nodes: vec![Node {
            ino: root,
            nlink: 2,
            body: Body::Dir {
                entries: vec![],
                parent: 0,
                live: true,
            },
        }],
    };
    for (step, op) in ops.iter().enumerate() {
        let dirs = m.dirs();
        match *op {
            Op::Mkdir(di, x) | Op::Create(di, x) | Op::Symlink(di, x, _) => {
                let dir = pick(&dirs, di);
                let name = NAMES[x];
                let expected = m.can_make(dir, name);
                let at = m.nodes[dir].ino;
                let r = match *op {
                    Op::Mkdir(..) => d.create(at, 0o040_755, name.as_bytes()),
                    Op::Create(..) => d.create(at, 0o100_644, name.as_bytes()),
                    Op::Symlink(_, _, t) => d.symlink(at, name.as_bytes(), &vec![b't'; t as usize]),
                    _ => unreachable!(),
                };
                match (expected, outcome(r)) {
                    (Ok(()), Ok(r)) => {
                        let body = match *op {
                            Op::Mkdir(..) => Body::Dir {
                                entries: vec![],
                                parent: dir,
                                live: true,
                            },
                            Op::Create(..) => Body::File(vec![]),
                            Op::Symlink(_, _, t) => Body::Link(vec![b't'; t as usize]),
                            _ => unreachable!(),
                        };
                        m.add(dir, name, r.inode().ino, body);
                    }
                    (Err(e), Err(got)) => prop_assert_eq!(e, got, "step {}", step),
                    (e, got) => prop_assert!(false, "step {step} {op:?}: {e:?} vs {got:?}"),
                }
            }
            Op::Write(fi, offset, len, byte) => {
                let files = m.files();
                if files.is_empty() {
                    continue;
                }
                let f = pick(&files, fi);
                let offset = u64::from(offset);
                let len = u64::from(len).min(4096 - offset % 4096) as usize;
                let r = d.writepage(m.nodes[f].ino, offset, &vec![byte; len]);
                prop_assert_eq!(r.status(), len as i32);
                if let Body::File(data) = &mut m.nodes[f].body {
                    let end = offset as usize + len;
                    if data.len() < end {
                        data.resize(end, 0);
                    }
                    data[offset as usize..end].fill(byte);
                }
            }
            Op::Truncate(fi, size) => {
                let files = m.files();
                if files.is_empty() {
                    continue;
                }
                let f = pick(&files, fi);
                let r = d
                    .setinode(m.nodes[f].ino, u64::from(size), 0o644, 0, 0)
                    .inode();
                prop_assert_eq!(r.size, u64::from(size));
                if let Body::File(data) = &mut m.nodes[f].body {
                    data.resize(size as usize, 0);
                }
            }
            Op::Unlink(di, x) => {
                let dir = pick(&dirs, di);
                let name = NAMES[x];
                let expected = match m.find(dir, name) {
                    None => Err(ENOENT),
                    Some(n) if m.is_dir(n) && !m.is_empty_dir(n) => Err(ENOTEMPTY),
                    Some(n) => Ok(n),
                };
                let r = d.unlink(m.nodes[dir].ino, name.as_bytes());
                match expected {
                    Ok(n) => {
                        prop_assert_eq!(r.status(), 0, "step {}", step);
                        m.drop_name(dir, name, n);
                    }
                    Err(e) => prop_assert_eq!(r.errno(), e, "step {}", step),
                }
            }
            Op::Rename(ai, x, bi, y) => {
                let (from, to) = (pick(&dirs, ai), pick(&dirs, bi));
                let (old, new) = (NAMES[x], NAMES[y]);
                let expected = (|| {
                    let source = m.find(from, old).ok_or(ENOENT)?;
                    let target = m.find(to, new);
                    if target == Some(source) {
                        return Ok(None);
                    }
                    if let Some(t) = target {
                        match (m.is_dir(source), m.is_dir(t)) {
                            (true, false) => return Err(ENOTDIR),
                            (false, true) => return Err(EISDIR),
                            (true, true) if !m.is_empty_dir(t) => return Err(ENOTEMPTY),
                            _ => {}
                        }
                    }
                    if m.is_dir(source) && m.within(to, source) {
                        return Err(EINVAL);
                    }
                    if !m.live(to) {
                        return Err(ENOENT);
                    }
                    Ok(Some((source, target)))
                })();
                let r = d.rename(
                    m.nodes[from].ino,
                    old.as_bytes(),
                    m.nodes[to].ino,
                    new.as_bytes(),
                );
                match expected {
                    Ok(change) => {
                        prop_assert_eq!(r.status(), 0, "step {} {:?}", step, op);
                        if let Some((source, target)) = change {
                            if let Some(t) = target {
                                m.drop_name(to, new, t);
                            }
                            m.remove(from, old);
                            m.entries_mut(to).push((new.to_string(), source));
                            if let Body::Dir { parent, .. } = &mut m.nodes[source].body {
                                *parent = to;
                                m.nodes[from].nlink -= 1;
                                m.nodes[to].nlink += 1;
                            }
                        }
                    }
                    Err(e) => prop_assert_eq!(r.errno(), e, "step {} {:?}", step, op),
                }
            }
            Op::Link(fi, di, x) => {
                let files = m.files();
                if files.is_empty() {
                    continue;
                }
                let (f, dir, name) = (pick(&files, fi), pick(&dirs, di), NAMES[x]);
                let expected = if m.nodes[f].nlink == 0 {
                    Err(ENOENT)
                } else {
                    m.can_make(dir, name)
                };
                let r = d.hlink(m.nodes[dir].ino, m.nodes[f].ino, name.as_bytes());
                match (expected, outcome(r)) {
                    (Ok(()), Ok(r)) => {
                        prop_assert_eq!(r.inode().nlink, m.nodes[f].nlink + 1);
                        m.entries_mut(dir).push((name.to_string(), f));
                        m.nodes[f].nlink += 1;
                    }
                    (Err(e), Err(got)) => prop_assert_eq!(e, got, "step {}", step),
                    (e, got) => prop_assert!(false, "step {step} {op:?}: {e:?} vs {got:?}"),
                }
            }
            Op::List(di) => {
                let dir = pick(&dirs, di);
                let listing = d.readdir_all(m.nodes[dir].ino);
                let Body::Dir {
                    entries, parent, ..
                } = &m.nodes[dir].body
                else {
                    unreachable!()
                };
                let mut expected = vec![
                    (m.nodes[dir].ino, ".".to_string()),
                    (m.nodes[*parent].ino, "..".to_string()),
                ];
                expected.extend(
                    entries
                        .iter()
                        .map(|(name, n)| (m.nodes[*n].ino, name.clone())),
                );
                let got: Vec<(u64, String)> = listing
                    .iter()
                    .map(|(ino, _, _, name)| (*ino, String::from_utf8(name.clone()).unwrap()))
                    .collect();
                prop_assert_eq!(got, expected, "step {}", step);
            }
            Op::Read(fi) => {
                for n in [pick(&(0..m.nodes.len()).collect::<Vec<_>>(), fi)] {
                    let attr = d.getinode(m.nodes[n].ino).inode();
                    prop_assert_eq!(attr.nlink, m.nodes[n].nlink, "step {} node {}", step, n);
                    match &m.nodes[n].body {
                        Body::File(data) => {
                            prop_assert_eq!(attr.size, data.len() as u64);
                            let mut got = Vec::new();
                            for page in 0..data.len().div_ceil(4096) {
                                let (status, body) = d.readpage(m.nodes[n].ino, page as u64 * 4096);
                                prop_assert_eq!(status.status(), 0);
                                got.extend(body.bytes);
                            }
                            prop_assert_eq!(&got, data);
                        }
                        Body::Link(target) => {
                            let r = d.readlink(m.nodes[n].ino);
                            prop_assert_eq!(&r.bytes[4..], target.as_slice());
                        }
                        Body::Dir { .. } => prop_assert_eq!(attr.mode >> 12, 0o4),
                    }
                }
            }
        }
        if let Err(e) = d.store.check() {
            prop_assert!(false, "step {step} {op:?}: {e}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn operations_over_the_wire_agree_with_a_posix_model(ops in prop::collection::vec(op(), 1..80)) {
        run(&ops)?;
    }
}

/// One request of the ordering property: its TX parts and reply slot shape.
#[derive(Clone, Debug)]
enum Wire {
    One(Vec<u8>, u32),
    Read(Vec<u8>),
    Write(Vec<u8>, Vec<u8>),
}

fn wire_request() -> impl Strategy<Value = Wire> {
    let ino = 0..12u64;
    let name = (0..NAMES.len()).prop_map(|i| NAMES[i].as_bytes().to_vec());
    prop_oneof![
        ino.clone().prop_map(|i| Wire::One(req::getinode(0, i), 76)),
        (ino.clone(), name.clone()).prop_map(|(i, n)| Wire::One(req::lookup(0, i, &n), 76)),
        (ino.clone(), name.clone(), prop::bool::ANY).prop_map(|(i, n, dir)| {
            let mode = if dir { 0o040_755 } else { 0o100_644 };
            Wire::One(req::create(0, i, mode, 0, &n), 76)
        }),
        (ino.clone(), name.clone()).prop_map(|(i, n)| Wire::One(req::unlink(0, i, &n), 4)),
        (ino.clone(), 0..3u64).prop_map(|(i, p)| Wire::Read(req::readpage(0, i, p * 4096, 4096))),
        (ino.clone(), 0..3u64).prop_map(|(i, o)| Wire::One(req::readdir(0, i, o, 4096), 4096)),
        (ino.clone(), 0..9000u64, 1..200usize, any::<u8>()).prop_map(|(i, o, l, b)| {
            let l = l.min(4096 - (o % 4096) as usize);
            Wire::Write(req::writepage(0, i, o, l as u32), vec![b; l])
        }),
        any::<u16>().prop_map(|c| Wire::One(req::raw(0, c, 8), 76)),
        Just(Wire::One(req::statfs(0), 12)),
    ]
}

/// Reserves and arms the slots of `w` (as `start_new_request` + `prepare_receive`).
fn reserve(d: &mut Disk, w: &Wire) -> Pending {
    let (tx, rx) = match w {
        Wire::One(..) => d.drv.start(1, 1),
        Wire::Read(_) => d.drv.start(1, 2),
        Wire::Write(..) => d.drv.start(2, 1),
    };
    let capacity = match w {
        Wire::One(_, c) => *c,
        _ => 4,
    };
    d.drv.prepare_receive(&mut d.g, rx, capacity);
    if let Wire::Read(_) = w {
        d.drv.prepare_receive(&mut d.g, rx + 1, 4096);
    }
    Pending {
        tx,
        rx,
        capacity,
        pages: matches!(w, Wire::Read(_)),
    }
}

/// Posts the TX parts of `w` into its reserved slots.
fn post(d: &mut Disk, w: &Wire, p: Pending) {
    match w {
        Wire::One(r, _) | Wire::Read(r) => d.drv.post_request(&mut d.g, p.tx, r),
        Wire::Write(r, data) => {
            d.drv.post_request(&mut d.g, p.tx, r);
            d.drv.post_request(&mut d.g, p.tx + 1, data);
        }
    }
}

fn replies(d: &Disk, p: Pending) -> (Reply, Option<Reply>) {
    let page = p
        .pages
        .then(|| d.drv.reply(&d.g, p.rx + 1).expect("page slot"));
    (d.reply(p), page)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn answers_depend_only_on_ring_order(
        requests in prop::collection::vec(wire_request(), 1..60),
        shuffles in prop::collection::vec(any::<u64>(), 60),
        batch_sizes in prop::collection::vec(1..6usize, 60),
    ) {
        // One at a time.
        let mut one = Disk::new(64 * MIB, None);
        let mut expected = Vec::new();
        for w in &requests {
            let p = reserve(&mut one, w);
            post(&mut one, w, p);
            one.serve();
            expected.push(replies(&one, p));
        }
        // In batches (at most 16 slots of either ring in flight), posted in a shuffled order,
        // with a service pass after some of the posts.
        let mut many = Disk::new(64 * MIB, None);
        let mut got = Vec::new();
        let mut at = 0;
        let mut batch_no = 0;
        while at < requests.len() {
            let mut batch = Vec::new();
            let (mut tx, mut rx) = (0, 0);
            while at < requests.len() && batch.len() < batch_sizes[batch_no % 60] {
                let w = &requests[at];
                let (t, r) = match w { Wire::One(..) => (1, 1), Wire::Read(_) => (1, 2), Wire::Write(..) => (2, 1) };
                if tx + t > 16 || rx + r > 16 {
                    break;
                }
                tx += t;
                rx += r;
                batch.push((w, reserve(&mut many, w)));
                at += 1;
            }
            let mut order: Vec<usize> = (0..batch.len()).collect();
            let mut seed = shuffles[batch_no % 60] | 1;
            for i in (1..order.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                order.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            for (k, &i) in order.iter().enumerate() {
                post(&mut many, batch[i].0, batch[i].1);
                if (seed >> k) & 1 == 1 {
                    many.serve();
                }
            }
            many.serve();
            for (_, p) in &batch {
                got.push(replies(&many, *p));
            }
            batch_no += 1;
        }
        for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
            // Times differ between the runs (one service pass per second): compare the rest.
            prop_assert_eq!(strip_times(&e.0), strip_times(&g.0), "request {} {:?}", i, requests[i]);
            prop_assert_eq!(&e.1, &g.1, "page of request {}", i);
        }
        prop_assert_eq!(one.store.tree(VOLUME), many.store.tree(VOLUME));
    }
}

/// An inode reply without its three times.
fn strip_times(r: &Reply) -> Vec<u8> {
    let mut b = r.bytes.clone();
    if b.len() == 76 {
        b[40..64].fill(0);
    }
    b
}
