//! The capacity of the live RIB and its FIBs, fixed at boot from the board's RAM.
//!
//! Routing takes its memory from the RAM the hypervisor leaves to guests (the kernel heap
//! borrows it granule by granule, `hypervisor::heap`), so the limits are a share of that RAM,
//! less what one guest of the smallest size needs ([`GUEST_MINIMUM`]): whatever the routing
//! tables hold, a guest can still start. Memory is taken as routes come, not at boot: a
//! table's FIBs are made when its first destination is installed (640 KiB of direct tables
//! for IPv4 and IPv6 together), and their arenas start at 16 KiB and double up to the limit
//! (`routing::FibConfig::growing`). The limits only say how far the tables may grow.
//!
//! With `R` the routing memory (guest RAM less 16 MiB):
//!
//! | limit | rule | qemu-malta (253 MiB of guest RAM, `R` = 237 MiB) | RB433 (about 60 MiB, `R` = 44 MiB) |
//! |---|---|---|---|
//! | IPv4 FIB arena per table | `R / 16` | 14.8 MiB: about 2.8 M prefixes of the global table | 2.75 MiB: about 520 k |
//! | IPv6 FIB arena per table | `R / 32` | 7.4 MiB: about 575 k prefixes | 1.4 MiB: about 106 k |
//! | routes (`max_routes`) | `R / 560` ([`BYTES_PER_ROUTE`]) | 443,772 | 82,388 |
//! | routing tables | `R / 2.5 MiB`, 2..=16 | 16 | 16 |
//!
//! Prefix counts are at the arena bytes per prefix `routing::FibConfig::ipv4_prefixes` and
//! `ipv6_prefixes` reserve (5.5 and 13.5; the global tables use 4.3 and 11.8, so an RB433's
//! arenas hold about 670 k and 125 k prefixes of them). The RB433's
//! guest RAM is its 64 MiB less the 2 MiB image region and a 1 MiB granule for each of its two
//! AG71xx ports. So the FIBs of `main` hold the global IPv4 table (909,791 prefixes, 4.8 MiB
//! of arena reserved) and the IPv6 one (172,017, 2.3 MiB) on qemu-malta with room to spare, and about
//! 70% of each on an RB433; what limits both boards first is the management plane's
//! memory per configured route. A FIB that reaches its limit refuses nothing: the routes that
//! do not fit wait, inactive, until room appears (`routing` README, "A full FIB"); a route
//! beyond `max_routes` is refused ("routing table full (Routes)").

use routing::{FibConfig, RibConfig};

/// The RAM always left to guests: one guest of the smallest `memory-size` (16 MiB, the
/// MetaROUTER minimum).
pub const GUEST_MINIMUM: u64 = 16 << 20;

/// Management-plane heap per configured static route (its configuration item, the maps
/// between ids, the RIB's route, gateway and destination records, its share of the FIB):
/// 560.4 bytes measured on the host (x86-64) with 20,000 /24 routes added through the CLI
/// (`cargo run --release -p sim --example route_memory`). The 32-bit targets' pointers are
/// half as wide, so this over-counts there (not measured on a target).
pub const BYTES_PER_ROUTE: u64 = 560;

/// The direct tables of one table's two FIBs (2^16 four-byte entries and 2^16 bytes each).
const DIRECT_TABLES: u64 = (2 * (4 + 1)) << 16;

/// The routing memory of a board whose guests have `guest_ram` bytes in all.
pub fn routing_memory(guest_ram: u64) -> u64 {
    guest_ram.saturating_sub(GUEST_MINIMUM)
}

/// The RIB's limits for `routing_memory` bytes (see the module documentation).
pub fn limits_for(routing_memory: u64) -> RibConfig {
    let defaults = RibConfig::default();
    let bytes = |b: u64| usize::try_from(b).unwrap_or(usize::MAX);
    RibConfig {
        max_routes: bytes((routing_memory / BYTES_PER_ROUTE).clamp(256, 4 << 20)),
        max_tables: bytes((routing_memory / (4 * DIRECT_TABLES)).clamp(2, 16)),
        fib_v4: FibConfig::with_arena_bytes(bytes(routing_memory / 16)).growing(),
        fib_v6: FibConfig::with_arena_bytes(bytes(routing_memory / 32)).growing(),
        fibs: true,
        ..defaults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn malta_holds_the_global_tables_and_rb433_a_share() {
        let malta = limits_for(routing_memory(253 * MIB));
        assert!(FibConfig::ipv4_prefixes(909_791).arena_bytes <= malta.fib_v4.arena_bytes);
        assert!(FibConfig::ipv6_prefixes(172_017).arena_bytes <= malta.fib_v6.arena_bytes);
        assert_eq!(malta.max_tables, 16);
        assert!(malta.fibs);
        // Nothing much is allocated before routes come.
        assert_eq!(malta.fib_v4.initial_arena_bytes, 16 << 10);
        assert_eq!(malta.max_routes, 443_772);
        let rb433 = limits_for(routing_memory(60 * MIB));
        assert_eq!(rb433.max_routes, 82_388);
        assert!(FibConfig::ipv4_prefixes(500_000).arena_bytes <= rb433.fib_v4.arena_bytes);
        assert!(FibConfig::ipv4_prefixes(909_791).arena_bytes > rb433.fib_v4.arena_bytes);
        assert!(FibConfig::ipv6_prefixes(100_000).arena_bytes <= rb433.fib_v6.arena_bytes);
    }

    #[test]
    fn a_board_without_room_for_routing_still_gets_a_small_table() {
        let none = limits_for(routing_memory(8 * MIB));
        assert_eq!(none.max_routes, 256);
        assert_eq!(none.max_tables, 2);
        assert!(none.fib_v4.arena_bytes < 1024);
    }
}
