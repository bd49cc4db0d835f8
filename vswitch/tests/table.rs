//! Property test: the open-addressing MAC table against a HashMap, on a small table so that
//! probe clusters wrap around and deletions shift them.

use proptest::prelude::*;
use std::collections::HashMap;
use vswitch::table::{Key, Learn, MacTable};
use vswitch::MacAddr;

#[derive(Clone, Debug)]
enum Op {
    Learn(u8, u16),
    Lookup(u8),
    RetainNotPort(u16),
    Tick(u32),
}

fn key(n: u8) -> Key {
    Key {
        bridge: u16::from(n % 2),
        vid: u16::from(n % 3),
        mac: MacAddr([0x02, 0, 0, n, n ^ 0x5A, n.wrapping_mul(7)]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn table_matches_a_map(ops in proptest::collection::vec(prop_oneof![
        6 => (0..40u8, 0..4u16).prop_map(|(k, p)| Op::Learn(k, p)),
        4 => (0..40u8).prop_map(Op::Lookup),
        1 => (0..4u16).prop_map(Op::RetainNotPort),
        2 => (0..50u32).prop_map(Op::Tick),
    ], 1..300)) {
        const AGEING: u32 = 100;
        let mut table = MacTable::<16>::new();
        let mut map: HashMap<u8, (u16, u32)> = HashMap::new();
        let mut now = 0u32;
        for op in ops {
            // Entries the map still considers alive.
            map.retain(|_, (_, seen)| now.wrapping_sub(*seen) < AGEING);
            match op {
                Op::Learn(k, port) => {
                    let got = table.learn(key(k), port, now, AGEING);
                    match map.get(&k) {
                        Some(&(p, _)) if p == port => prop_assert_eq!(got, Learn::Refreshed),
                        Some(&(p, _)) => prop_assert_eq!(got, Learn::Moved { from: p }),
                        None => prop_assert!(got == Learn::Added || got == Learn::TableFull),
                    }
                    if got != Learn::TableFull {
                        map.insert(k, (port, now));
                    } else {
                        // Full means every entry slot is taken (expired ones not on the path).
                        prop_assert_eq!(table.len(), MacTable::<16>::MAX_ENTRIES);
                    }
                }
                Op::Lookup(k) => {
                    prop_assert_eq!(table.lookup(key(k), now, AGEING), map.get(&k).map(|&(p, _)| p));
                }
                Op::RetainNotPort(port) => {
                    table.retain(|e| e.port != port);
                    map.retain(|_, (p, _)| *p != port);
                }
                Op::Tick(dt) => now += dt,
            }
            map.retain(|_, (_, seen)| now.wrapping_sub(*seen) < AGEING);
            for k in 0..40u8 {
                prop_assert_eq!(table.lookup(key(k), now, AGEING), map.get(&k).map(|&(p, _)| p), "key {}", k);
            }
            prop_assert!(table.len() <= MacTable::<16>::MAX_ENTRIES);
        }
    }
}
