//! VLAN settings of a bridge port and the tag edit a frame needs on its way out.
//!
//! With `vlan_filtering` off (the default) a bridge is VLAN-transparent: frames leave exactly as
//! they came, and learning is per VLAN id found in the frame (0 when untagged). With it on, each
//! port has RouterOS-style membership: `pvid` (untagged member: untagged and priority-tagged
//! frames arriving there belong to that VLAN, and frames of that VLAN leave it untagged) and a
//! list of `tagged` VLANs (frames of those VLANs arrive and leave tagged). A frame whose VLAN the
//! port is not a member of is dropped on the way in (ingress filtering) and never sent out of it.

use crate::frame::{HEADER_LEN, TAG_LEN, TPID_8021Q};

/// Most tagged VLANs one port can carry.
pub const MAX_TAGGED: usize = 16;

/// A small set of VLAN ids (1..=4094).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VlanList {
    ids: [u16; MAX_TAGGED],
    len: u8,
}

/// A VLAN id outside 1..=4094, or one too many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VlanError {
    /// VLAN ids are 1..=4094.
    BadId(u16),
    /// A port carries at most [`MAX_TAGGED`] tagged VLANs.
    TooMany,
}

impl VlanList {
    /// No VLANs.
    pub const EMPTY: VlanList = VlanList {
        ids: [0; MAX_TAGGED],
        len: 0,
    };

    /// A list of the given ids.
    pub fn of(ids: &[u16]) -> Result<Self, VlanError> {
        let mut list = Self::EMPTY;
        for &id in ids {
            list.insert(id)?;
        }
        Ok(list)
    }

    /// Adds `id` (no effect if present).
    pub fn insert(&mut self, id: u16) -> Result<(), VlanError> {
        if !(1..=4094).contains(&id) {
            return Err(VlanError::BadId(id));
        }
        if self.contains(id) {
            return Ok(());
        }
        let slot = self
            .ids
            .get_mut(self.len as usize)
            .ok_or(VlanError::TooMany)?;
        *slot = id;
        self.len += 1;
        Ok(())
    }

    /// Whether `id` is in the list.
    #[inline]
    pub fn contains(&self, id: u16) -> bool {
        self.ids[..self.len as usize].contains(&id)
    }

    /// The ids.
    pub fn as_slice(&self) -> &[u16] {
        &self.ids[..self.len as usize]
    }
}

/// A port's VLAN membership (used when its bridge has `vlan_filtering`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortVlan {
    /// Untagged membership; `None` admits only tagged frames.
    pub pvid: Option<u16>,
    /// Tagged memberships.
    pub tagged: VlanList,
}

impl Default for PortVlan {
    /// RouterOS's default: `pvid=1`, nothing tagged.
    fn default() -> Self {
        Self {
            pvid: Some(1),
            tagged: VlanList::EMPTY,
        }
    }
}

/// How a port sends a frame of a given VLAN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Membership {
    Untagged,
    Tagged,
    None,
}

impl PortVlan {
    pub(crate) fn membership(&self, vid: u16) -> Membership {
        if self.pvid == Some(vid) {
            Membership::Untagged
        } else if self.tagged.contains(vid) {
            Membership::Tagged
        } else {
            Membership::None
        }
    }
}

/// What to do to a frame's tag when copying it out of a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EgressEdit {
    /// Send it as received.
    Keep,
    /// Remove the 802.1Q tag.
    StripTag,
    /// Insert an 802.1Q tag with this TCI after the addresses.
    InsertTag(u16),
    /// Rewrite the TCI of the existing tag (a priority-tagged frame leaving tagged).
    SetTci(u16),
}

impl EgressEdit {
    /// The frame after the edit, as up to three consecutive parts (no copy is made; `tag` holds
    /// the bytes of a new tag). Pass them to a vectored delivery.
    #[inline]
    pub fn parts<'a>(&self, frame: &'a [u8], tag: &'a mut [u8; TAG_LEN]) -> ([&'a [u8]; 3], usize) {
        let split = 12.min(frame.len());
        match *self {
            EgressEdit::Keep => ([frame, &[], &[]], 1),
            EgressEdit::StripTag if frame.len() >= HEADER_LEN + TAG_LEN => {
                ([&frame[..12], &frame[12 + TAG_LEN..], &[]], 2)
            }
            EgressEdit::StripTag => ([frame, &[], &[]], 1),
            EgressEdit::InsertTag(tci) => {
                tag[..2].copy_from_slice(&TPID_8021Q.to_be_bytes());
                tag[2..].copy_from_slice(&tci.to_be_bytes());
                ([&frame[..split], &tag[..], &frame[split..]], 3)
            }
            EgressEdit::SetTci(tci) if frame.len() >= HEADER_LEN + TAG_LEN => {
                tag[..2].copy_from_slice(&TPID_8021Q.to_be_bytes());
                tag[2..].copy_from_slice(&tci.to_be_bytes());
                ([&frame[..12], &tag[..], &frame[12 + TAG_LEN..]], 3)
            }
            EgressEdit::SetTci(_) => ([frame, &[], &[]], 1),
        }
    }
}

/// The VLAN id of a frame's 802.1Q tag: `None` for an untagged frame, a priority-tagged one
/// (id 0), or one too short for the tag and the inner EtherType.
#[inline]
pub fn tagged_vid(frame: &[u8]) -> Option<u16> {
    let tpid = frame.get(12..14)?;
    if u16::from_be_bytes([tpid[0], tpid[1]]) != TPID_8021Q || frame.len() < HEADER_LEN + TAG_LEN {
        return None;
    }
    let vid = u16::from_be_bytes([frame[14], frame[15]]) & 0x0FFF;
    (vid != 0).then_some(vid)
}

/// Copies a tagged frame ([`tagged_vid`] says so) into `out` without its tag; returns the
/// length, or `None` if it carries no tag or does not fit.
pub fn untag_into(frame: &[u8], out: &mut [u8]) -> Option<usize> {
    tagged_vid(frame)?;
    let len = frame.len() - TAG_LEN;
    let out = out.get_mut(..len)?;
    out[..12].copy_from_slice(&frame[..12]);
    out[12..].copy_from_slice(&frame[12 + TAG_LEN..]);
    Some(len)
}

/// Copies `frame` into `out` with an 802.1Q tag of TCI `tci` after its addresses; returns the
/// length, or `None` if the frame is shorter than an Ethernet header or does not fit.
pub fn tag_into(frame: &[u8], tci: u16, out: &mut [u8]) -> Option<usize> {
    if frame.len() < HEADER_LEN {
        return None;
    }
    let len = frame.len() + TAG_LEN;
    let out = out.get_mut(..len)?;
    out[..12].copy_from_slice(&frame[..12]);
    out[12..14].copy_from_slice(&TPID_8021Q.to_be_bytes());
    out[14..16].copy_from_slice(&tci.to_be_bytes());
    out[16..].copy_from_slice(&frame[12..]);
    Some(len)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn apply(edit: EgressEdit, frame: &[u8]) -> Vec<u8> {
        let mut tag = [0; 4];
        let (parts, n) = edit.parts(frame, &mut tag);
        parts[..n].concat()
    }

    #[test]
    fn edits() {
        let untagged: Vec<u8> = (0..20).collect();
        let mut tagged = untagged[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x0A]);
        tagged.extend_from_slice(&untagged[12..]);
        assert_eq!(apply(EgressEdit::Keep, &untagged), untagged);
        assert_eq!(apply(EgressEdit::InsertTag(10), &untagged), tagged);
        assert_eq!(apply(EgressEdit::StripTag, &tagged), untagged);
        let mut retagged = tagged.clone();
        retagged[14..16].copy_from_slice(&[0xA0, 0x0B]);
        assert_eq!(apply(EgressEdit::SetTci(0xA00B), &tagged), retagged);
    }

    #[test]
    fn tag_untag() {
        let frame: Vec<u8> = (0..60).collect();
        let mut tagged = [0; 64];
        assert_eq!(tag_into(&frame, 0x200A, &mut tagged), Some(64));
        assert_eq!(tagged[12..16], [0x81, 0x00, 0x20, 0x0A]);
        assert_eq!(tagged_vid(&tagged), Some(10));
        let mut back = [0; 64];
        assert_eq!(untag_into(&tagged, &mut back), Some(60));
        assert_eq!(back[..60], frame[..]);
        assert_eq!(tagged_vid(&frame), None, "untagged");
        assert_eq!(untag_into(&frame, &mut back), None);
        let mut priority = tagged;
        priority[14..16].copy_from_slice(&[0xE0, 0x00]);
        assert_eq!(
            tagged_vid(&priority),
            None,
            "priority-tagged is not a VLAN's"
        );
        assert_eq!(tagged_vid(&tagged[..17]), None, "no inner EtherType");
        assert_eq!(tag_into(&frame[..13], 10, &mut tagged), None, "runt");
        assert_eq!(tag_into(&frame, 10, &mut [0; 63]), None, "does not fit");
    }

    #[test]
    fn vlan_list() {
        let mut l = VlanList::of(&[10, 20, 10]).unwrap();
        assert_eq!(l.as_slice(), &[10, 20]);
        assert_eq!(l.insert(0), Err(VlanError::BadId(0)));
        assert_eq!(l.insert(4095), Err(VlanError::BadId(4095)));
        for id in 100..114 {
            l.insert(id).unwrap();
        }
        assert_eq!(l.insert(200), Err(VlanError::TooMany));
        assert!(l.contains(113) && !l.contains(200));
    }
}
