//! Loading routing tables: text or gzip, one `prefix [origin-AS]` per line, IPv4 and IPv6
//! mixed. Next hops are derived as `hash(origin AS) mod N`.

use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::Path;

/// The prefixes of one address family with their derived next hops, deduplicated (the last
/// line for a prefix wins), in file order.
#[derive(Default)]
pub struct Table<A> {
    pub entries: Vec<(A, u8, u16)>,
}

#[derive(Default)]
pub struct Tables {
    pub v4: Table<u32>,
    pub v6: Table<u128>,
    pub skipped_lines: usize,
}

/// A fixed 32-bit mix (splitmix finaliser), so next hops do not depend on the platform.
pub fn hash_as(asn: u32) -> u32 {
    let mut x = u64::from(asn).wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as u32
}

pub fn load(paths: &[std::path::PathBuf], nexthops: u16) -> Result<Tables, String> {
    let mut t = Tables::default();
    let mut seen4 = std::collections::HashMap::new();
    let mut seen6 = std::collections::HashMap::new();
    for path in paths {
        let reader = open(path)?;
        for line in BufReader::new(reader).lines() {
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            let mut words = line.split_whitespace();
            let Some(prefix) = words.next() else { continue };
            if prefix.starts_with('#') {
                continue;
            }
            let asn: u32 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            let hop = (hash_as(asn) % u32::from(nexthops)) as u16;
            let Some((addr, len)) = prefix
                .split_once('/')
                .and_then(|(a, l)| Some((a.parse::<IpAddr>().ok()?, l.parse::<u8>().ok()?)))
            else {
                t.skipped_lines += 1;
                continue;
            };
            match addr {
                IpAddr::V4(a) if len <= 32 => {
                    let a = mask(u128::from(u32::from(a)), len, 32) as u32;
                    push(&mut t.v4.entries, &mut seen4, (a, len, hop));
                }
                IpAddr::V6(a) if len <= 128 => {
                    let a = mask(u128::from(a), len, 128);
                    push(&mut t.v6.entries, &mut seen6, (a, len, hop));
                }
                _ => t.skipped_lines += 1,
            }
        }
    }
    Ok(t)
}

fn push<A: Copy + Eq + std::hash::Hash>(
    v: &mut Vec<(A, u8, u16)>,
    seen: &mut std::collections::HashMap<(A, u8), usize>,
    e: (A, u8, u16),
) {
    match seen.get(&(e.0, e.1)) {
        Some(&i) => v[i] = e,
        None => {
            seen.insert((e.0, e.1), v.len());
            v.push(e);
        }
    }
}

fn mask(a: u128, len: u8, bits: u32) -> u128 {
    if len == 0 {
        0
    } else {
        a & ((u128::MAX >> (128 - bits)) << (bits - u32::from(len)))
    }
}

fn open(path: &Path) -> Result<Box<dyn Read>, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot open table {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Ok(Box::new(file))
    }
}
