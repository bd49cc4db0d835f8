//! The implementations under test behind one trait: ours (`routing`) and the crates.io peers.
//! Every contender gets the same prefixes and 16-bit next hops and answers `Option<u16>`.

use ip_network_table_deps_treebitmap::IpLookupTable;
use iptrie::map::{LCTrieMap, RTrieMap};
use iptrie::{Ipv4Prefix, Ipv6Prefix};
use prefix_trie::PrefixMap;
use routing::{Address, Fib, FibConfig, NextHop};
use std::net::{Ipv4Addr, Ipv6Addr};

pub trait Contender<A>: Sized {
    const NAME: &'static str;
    fn build(entries: &[(A, u8, u16)]) -> Result<Self, String>;
    fn lookup(&self, addr: A) -> Option<u16>;
    fn announce(&mut self, addr: A, len: u8, hop: u16);
    fn withdraw(&mut self, addr: A, len: u8);
    /// A known upstream defect that makes answers wrong after updates: reported loudly, but it
    /// does not fail the run (answers right after building must still be exact).
    const BROKEN_UPDATES: Option<&'static str> = None;
    /// Extra facts for a `#` line (ours: exact accounting of the fixed memory).
    fn describe(&self) -> String {
        String::new()
    }
}

/// Ours: fixed capacity chosen from the prefix count, bulk build, incremental updates.
pub struct Ours<A: Address>(Fib<A>);

fn hop(h: u16) -> NextHop {
    NextHop::new(h).expect("next hops are below NextHop::MAX")
}

impl<A: Address> Contender<A> for Ours<A> {
    const NAME: &'static str = "routing";
    fn build(entries: &[(A, u8, u16)]) -> Result<Self, String> {
        let config = if A::BITS == 32 {
            FibConfig::ipv4_prefixes(entries.len())
        } else {
            FibConfig::ipv6_prefixes(entries.len())
        };
        let mut fib = Fib::new(config);
        let list: Vec<(A, u8, NextHop)> = entries.iter().map(|&(a, l, h)| (a, l, hop(h))).collect();
        fib.build(&list)
            .map_err(|e| format!("build failed: {e:?}"))?;
        Ok(Ours(fib))
    }
    #[inline]
    fn lookup(&self, addr: A) -> Option<u16> {
        self.0.lookup(addr).map(NextHop::get)
    }
    fn announce(&mut self, addr: A, len: u8, h: u16) {
        if let Err(e) = self.0.insert(addr, len, hop(h)) {
            panic!("FIB update failed: {e:?}");
        }
    }
    fn withdraw(&mut self, addr: A, len: u8) {
        if let Err(e) = self.0.remove(addr, len) {
            panic!("FIB update failed: {e:?}");
        }
    }
    fn describe(&self) -> String {
        format!(
            "exact_bytes={} arena_used={} arena_capacity={}",
            self.0.memory_bytes(),
            self.0.arena_used_bytes(),
            self.0.arena_capacity_bytes()
        )
    }
}

pub struct Poptrie<A: poptrie::Address>(poptrie::Poptrie<(A, u8), u16>);

macro_rules! poptrie_impl {
    ($a:ty) => {
        impl Contender<$a> for Poptrie<$a> {
            const NAME: &'static str = "poptrie";
            fn build(entries: &[($a, u8, u16)]) -> Result<Self, String> {
                Ok(Poptrie(
                    entries.iter().map(|&(a, l, h)| ((a, l), h)).collect(),
                ))
            }
            #[inline]
            fn lookup(&self, addr: $a) -> Option<u16> {
                self.0.lookup(addr).copied()
            }
            fn announce(&mut self, addr: $a, len: u8, h: u16) {
                self.0.insert((addr, len), h);
            }
            fn withdraw(&mut self, addr: $a, len: u8) {
                self.0.remove((addr, len));
            }
        }
    };
}
poptrie_impl!(u32);
poptrie_impl!(u128);

pub struct PrefixTrie<A>(PrefixMap<(A, u8), u16>);

macro_rules! prefix_trie_impl {
    ($a:ty, $bits:expr) => {
        impl Contender<$a> for PrefixTrie<$a> {
            const NAME: &'static str = "prefix-trie";
            fn build(entries: &[($a, u8, u16)]) -> Result<Self, String> {
                Ok(PrefixTrie(
                    entries.iter().map(|&(a, l, h)| ((a, l), h)).collect(),
                ))
            }
            #[inline]
            fn lookup(&self, addr: $a) -> Option<u16> {
                self.0.get_lpm(&(addr, $bits)).map(|(_, &h)| h)
            }
            fn announce(&mut self, addr: $a, len: u8, h: u16) {
                self.0.insert((addr, len), h);
            }
            fn withdraw(&mut self, addr: $a, len: u8) {
                self.0.remove(&(addr, len));
            }
        }
    };
}
prefix_trie_impl!(u32, 32);
prefix_trie_impl!(u128, 128);

pub struct TreeBitmap<I>(IpLookupTable<I, u16>);

macro_rules! treebitmap_impl {
    ($a:ty, $ip:ty) => {
        impl Contender<$a> for TreeBitmap<$ip> {
            const NAME: &'static str = "treebitmap";
            fn build(entries: &[($a, u8, u16)]) -> Result<Self, String> {
                let mut t = IpLookupTable::with_capacity(entries.len());
                for &(a, l, h) in entries {
                    t.insert(<$ip>::from(a), u32::from(l), h);
                }
                Ok(TreeBitmap(t))
            }
            #[inline]
            fn lookup(&self, addr: $a) -> Option<u16> {
                self.0.longest_match(<$ip>::from(addr)).map(|(_, _, &h)| h)
            }
            fn announce(&mut self, addr: $a, len: u8, h: u16) {
                self.0.insert(<$ip>::from(addr), u32::from(len), h);
            }
            fn withdraw(&mut self, addr: $a, len: u8) {
                self.0.remove(<$ip>::from(addr), u32::from(len));
            }
        }
    };
}
treebitmap_impl!(u32, Ipv4Addr);
treebitmap_impl!(u128, Ipv6Addr);

/// iptrie's maps always hold the root prefix; `NONE` there means "no route".
const NONE: u16 = u16::MAX;

/// iptrie's radix trie (updatable).
pub struct IpTrie<P>(RTrieMap<P, u16>);
/// iptrie's level-compressed trie: read-only, so an update rebuilds it from its own entries.
pub struct IpTrieLc<P>(LCTrieMap<P, u16>);

macro_rules! iptrie_impl {
    ($a:ty, $ip:ty, $prefix:ty) => {
        fn prefix_of(addr: $a, len: u8) -> $prefix {
            <$prefix>::new(<$ip>::from(addr), len).expect("valid prefix")
        }
        impl Contender<$a> for IpTrie<$prefix> {
            const NAME: &'static str = "iptrie";
            const BROKEN_UPDATES: Option<&'static str> =
                Some("iptrie 0.11 RTrieMap::remove corrupts the trie (lookups lose untouched prefixes; upstream Orange-OpenSource/iptrie#4)");
            fn build(entries: &[($a, u8, u16)]) -> Result<Self, String> {
                let mut t = RTrieMap::with_root_and_capacity(NONE, entries.len());
                for &(a, l, h) in entries {
                    t.insert(prefix_of(a, l), h);
                }
                Ok(IpTrie(t))
            }
            #[inline]
            fn lookup(&self, addr: $a) -> Option<u16> {
                let (_, &h) = self.0.lookup(&<$ip>::from(addr));
                (h != NONE).then_some(h)
            }
            fn announce(&mut self, addr: $a, len: u8, h: u16) {
                self.0.insert(prefix_of(addr, len), h);
            }
            fn withdraw(&mut self, addr: $a, len: u8) {
                if len == 0 {
                    self.0.insert(prefix_of(addr, 0), NONE);
                } else {
                    self.0.remove(&prefix_of(addr, len));
                }
            }
        }
        impl Contender<$a> for IpTrieLc<$prefix> {
            const NAME: &'static str = "iptrie-lc";
            fn build(entries: &[($a, u8, u16)]) -> Result<Self, String> {
                Ok(IpTrieLc(IpTrie::<$prefix>::build(entries)?.0.compress()))
            }
            #[inline]
            fn lookup(&self, addr: $a) -> Option<u16> {
                let (_, &h) = self.0.lookup(&<$ip>::from(addr));
                (h != NONE).then_some(h)
            }
            fn announce(&mut self, addr: $a, len: u8, h: u16) {
                let mut t: RTrieMap<$prefix, u16> = RTrieMap::with_root(NONE);
                for (p, &v) in self.0.iter() {
                    t.insert(*p, v);
                }
                t.insert(prefix_of(addr, len), h);
                self.0 = t.compress();
            }
            fn withdraw(&mut self, addr: $a, len: u8) {
                // Rebuilt without the prefix (not with RTrieMap::remove, which is broken).
                let gone = prefix_of(addr, len);
                let mut t: RTrieMap<$prefix, u16> = RTrieMap::with_root(NONE);
                for (p, &v) in self.0.iter() {
                    if *p != gone {
                        t.insert(*p, v);
                    }
                }
                self.0 = t.compress();
            }
        }
    };
}

mod v4 {
    use super::*;
    iptrie_impl!(u32, Ipv4Addr, Ipv4Prefix);
}
mod v6 {
    use super::*;
    iptrie_impl!(u128, Ipv6Addr, Ipv6Prefix);
}
