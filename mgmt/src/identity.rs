//! The box's identity for MAC addresses: every MAC the management plane makes up (the host and
//! guest sides of `/metarouter interface`, the MAC a guest's kernel is told when it has no
//! interface) derives from one per-box seed, so two boxes on one segment do not collide and a
//! box keeps its MACs across reboots.
//!
//! The seed is made once, from [`Platform::entropy`] at the first command that needs it (an
//! input-dependent moment), and kept in the saved configuration (`/system identity set
//! mac-seed=...`, a saved-only line that `export` never shows: an export pasted into another box
//! must not clone this one's identity). Generated MACs are locally administered unicast,
//! `02:` and 40 derived bits, as MetaROUTER's own; MACs given by the user must be unicast.
//!
//! Hook for boards with Ethernet ports: when the platform reports physical ports with their
//! own (burned-in) MACs, [`identity`] is the place to derive the identity from the first
//! port's MAC instead of the saved seed. The platforms have no port drivers yet, so it is not
//! done here.

use crate::config::Config;
use crate::platform::{GuestId, Platform};

/// splitmix64: a well-mixed 64-bit value from any input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of this box, made now from the platform's entropy if the configuration has none.
pub fn ensure_seed(config: &mut Config, platform: &dyn Platform) -> u64 {
    *config
        .mac_seed
        .get_or_insert_with(|| mix(platform.entropy()))
}

/// The identity MACs derive from: the saved seed (0 for a configuration without one, which
/// only a configuration built outside the CLI can be).
pub fn identity(config: &Config) -> u64 {
    config.mac_seed.unwrap_or(0)
}

/// A locally administered unicast MAC (`02:` and 40 bits) from the identity and a `salt` that
/// tells uses apart.
pub fn derive_mac(identity: u64, salt: u64) -> [u8; 6] {
    let bytes = mix(identity ^ mix(salt)).to_be_bytes();
    [0x02, bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]
}

/// Salts of [`derive_mac`] for the MAC a guest's kernel is told: apart from every interface
/// salt (those are item ids, far below).
const GUEST_SALT: u64 = 0x6B6D_6163_0000_0000;

/// The MAC the kernel of the guest in `slot` is told when it has no interface (`kmac=`).
pub fn guest_mac(config: &Config, slot: GuestId) -> [u8; 6] {
    derive_mac(identity(config), GUEST_SALT | u64::from(slot.0))
}

/// Whether `mac` is a unicast address (the group bit, the lowest bit of the first byte, is
/// clear): broadcast and multicast MACs cannot name one interface.
pub fn is_unicast(mac: &[u8; 6]) -> bool {
    mac[0] & 0x01 == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_macs_are_local_unicast_and_differ_by_identity_and_salt() {
        for identity in [0, 1, u64::MAX, 0x1234_5678_9ABC_DEF0] {
            for salt in 0..64 {
                let mac = derive_mac(identity, salt);
                assert!(is_unicast(&mac), "{mac:02X?}");
                assert_eq!(mac[0] & 0x02, 0x02, "locally administered: {mac:02X?}");
            }
        }
        assert_ne!(derive_mac(1, 5), derive_mac(2, 5));
        assert_ne!(derive_mac(1, 5), derive_mac(1, 6));
    }

    #[test]
    fn unicast_check() {
        assert!(is_unicast(&[0x02, 0, 0, 0, 0, 1]));
        assert!(!is_unicast(&[0xFF; 6]));
        assert!(!is_unicast(&[0x01, 0x00, 0x5E, 0, 0, 1]));
        assert!(!is_unicast(&[0x33, 0x33, 0, 0, 0, 1]));
    }
}
