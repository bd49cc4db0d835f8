//! Reading the few facts a PowerPC MetaROUTER guest takes from its flattened device tree
//! (DTB version 17, as the host builds it): `/chosen/bootargs`, the size in `/memory`'s `reg`
//! and the cpu node's `timebase-frequency`.
//!
//! The tree is untrusted input: every offset and length is checked against the blob, and a
//! malformed tree gives `None` for what could not be read, never a panic.

const MAGIC: u32 = 0xD00D_FEED;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Deepest node path followed.
const MAX_DEPTH: usize = 8;

/// What the guest runtime reads from the tree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceTreeFacts<'a> {
    /// `/chosen/bootargs` without its NUL.
    pub bootargs: Option<&'a [u8]>,
    /// The size cell of `/memory`'s `reg` (one address and one size cell).
    pub memory_bytes: Option<u32>,
    /// `timebase-frequency` of the first node under `/cpus`.
    pub timebase_hz: Option<u32>,
}

fn word(blob: &[u8], at: usize) -> Option<u32> {
    let bytes = blob.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// The tree's total size from its header, if `header` starts with the DTB magic.
pub fn total_size(header: &[u8]) -> Option<u32> {
    (word(header, 0)? == MAGIC).then(|| word(header, 4))?
}

fn cstr(blob: &[u8], at: usize) -> Option<&[u8]> {
    let rest = blob.get(at..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..end])
}

/// Read the facts from `blob` (the whole tree). `None` if it is not a device tree.
pub fn read(blob: &[u8]) -> Option<DeviceTreeFacts<'_>> {
    let total = total_size(blob)? as usize;
    let blob = blob.get(..total)?;
    let struct_off = word(blob, 8)? as usize;
    let strings_off = word(blob, 12)? as usize;
    let mut facts = DeviceTreeFacts::default();
    // The names of the open nodes (without unit addresses), root first.
    let mut path: [&[u8]; MAX_DEPTH] = [b""; MAX_DEPTH];
    let mut depth = 0usize;
    let mut at = struct_off;
    loop {
        let token = word(blob, at)?;
        at += 4;
        match token {
            FDT_BEGIN_NODE => {
                let name = cstr(blob, at)?;
                at += (name.len() + 1).next_multiple_of(4);
                let base = name.split(|&b| b == b'@').next().unwrap_or(name);
                if depth < MAX_DEPTH {
                    path[depth] = base;
                }
                depth += 1;
            }
            FDT_END_NODE => depth = depth.checked_sub(1)?,
            FDT_PROP => {
                let len = word(blob, at)? as usize;
                let name_off = word(blob, at + 4)? as usize;
                let value = blob.get(at + 8..(at + 8).checked_add(len)?)?;
                at += 8 + len.next_multiple_of(4);
                let name = cstr(blob, strings_off.checked_add(name_off)?)?;
                let node = &path[..depth.min(MAX_DEPTH)];
                match (node, name) {
                    ([_, b"chosen"], b"bootargs") => {
                        let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
                        facts.bootargs = Some(&value[..end]);
                    }
                    ([_, b"memory"], b"reg") => facts.memory_bytes = word(value, 4),
                    ([_, b"cpus", _], b"timebase-frequency") if facts.timebase_hz.is_none() => {
                        facts.timebase_hz = word(value, 0)
                    }
                    _ => {}
                }
            }
            FDT_NOP => {}
            FDT_END => return Some(facts),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// A tree as `guest-loader`'s builder lays it out.
    fn tree(bootargs: &str, mem: u32, tb: u32) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut s = Vec::new();
        let mut name_of = |n: &str| {
            let off = strings.len() as u32;
            strings.extend_from_slice(n.as_bytes());
            strings.push(0);
            off
        };
        let begin = |s: &mut Vec<u8>, name: &str| {
            s.extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
            s.extend_from_slice(name.as_bytes());
            s.push(0);
            while !s.len().is_multiple_of(4) {
                s.push(0);
            }
        };
        let prop = |s: &mut Vec<u8>, off: u32, v: &[u8]| {
            s.extend_from_slice(&FDT_PROP.to_be_bytes());
            s.extend_from_slice(&(v.len() as u32).to_be_bytes());
            s.extend_from_slice(&off.to_be_bytes());
            s.extend_from_slice(v);
            while !s.len().is_multiple_of(4) {
                s.push(0);
            }
        };
        let model = name_of("model");
        let tbf = name_of("timebase-frequency");
        let reg = name_of("reg");
        let args = name_of("bootargs");
        begin(&mut s, "");
        prop(&mut s, model, b"RB MetaROUTER\0");
        begin(&mut s, "cpus");
        begin(&mut s, "PowerPC,e500@0");
        prop(&mut s, reg, &0u32.to_be_bytes());
        prop(&mut s, tbf, &tb.to_be_bytes());
        s.extend_from_slice(&FDT_END_NODE.to_be_bytes());
        s.extend_from_slice(&FDT_END_NODE.to_be_bytes());
        begin(&mut s, "memory");
        let mut r = [0u8; 8];
        r[4..].copy_from_slice(&mem.to_be_bytes());
        prop(&mut s, reg, &r);
        s.extend_from_slice(&FDT_END_NODE.to_be_bytes());
        begin(&mut s, "chosen");
        let mut a = bootargs.as_bytes().to_vec();
        a.push(0);
        prop(&mut s, args, &a);
        s.extend_from_slice(&FDT_END_NODE.to_be_bytes());
        s.extend_from_slice(&FDT_END_NODE.to_be_bytes());
        s.extend_from_slice(&FDT_END.to_be_bytes());
        let struct_off = 40 + 16;
        let strings_off = struct_off + s.len();
        let total = strings_off + strings.len();
        let mut blob = Vec::new();
        for w in [
            MAGIC,
            total as u32,
            struct_off as u32,
            strings_off as u32,
            40,
            17,
            16,
            0,
            strings.len() as u32,
            s.len() as u32,
        ] {
            blob.extend_from_slice(&w.to_be_bytes());
        }
        blob.extend_from_slice(&[0; 16]);
        blob.extend_from_slice(&s);
        blob.extend_from_slice(&strings);
        blob
    }

    #[test]
    fn reads_bootargs_memory_and_timebase() {
        let blob = tree("ip=10.0.0.2/24 x", 64 << 20, 400_000_000);
        assert_eq!(total_size(&blob), Some(blob.len() as u32));
        let f = read(&blob).unwrap();
        assert_eq!(f.bootargs, Some(&b"ip=10.0.0.2/24 x"[..]));
        assert_eq!(f.memory_bytes, Some(64 << 20));
        assert_eq!(f.timebase_hz, Some(400_000_000));
    }

    #[test]
    fn the_memory_reg_of_another_node_is_not_taken() {
        // The cpu node's `reg` (0) must not be read as the memory size.
        let blob = tree("", 16 << 20, 1);
        let f = read(&blob).unwrap();
        assert_eq!(f.memory_bytes, Some(16 << 20));
    }

    #[test]
    fn broken_trees_give_none_not_a_panic() {
        let blob = tree("a", 1 << 20, 1);
        assert_eq!(read(&blob[..3]), None);
        let mut bad = blob.clone();
        bad[0] = 0;
        assert_eq!(read(&bad), None);
        for cut in 0..blob.len() {
            let mut short = blob.clone();
            short.truncate(cut);
            let _ = read(&short);
        }
        let mut wild = blob.clone();
        wild[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
        assert_eq!(read(&wild), None);
        // A property length past the end.
        let mut long = blob;
        let at = 56 + 4 + 4; // after the root's BEGIN_NODE token and its empty name
        long[at..at + 4].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
        assert_eq!(read(&long), None);
    }
}
