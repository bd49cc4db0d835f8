//! A fixed-capacity queue of whole Ethernet frames, each with the host interface it belongs
//! to, packed one after another in one buffer (a 64-byte frame takes 64 bytes, not a
//! 1514-byte slot), each starting at a multiple of [`ALIGN`] bytes so that copies in and out
//! move words, not bytes. The host's outbox (frames the host's IP sends) and its inbox (frames for
//! the host's MAC, waiting for the routing step) are two of them. A frame that does not fit
//! is dropped and counted.

use alloc::boxed::Box;
use alloc::vec;

use hostip::IfaceId;

/// Where frames start: at multiples of this many bytes.
pub const ALIGN: usize = 8;

/// The queue: at most `FRAMES` frames and `BYTES` bytes.
pub struct FrameQueue<const FRAMES: usize, const BYTES: usize> {
    buf: Box<[u8]>,
    /// (interface, start in `buf`, length) of each frame, in arrival order.
    meta: [(IfaceId, u32, u16); FRAMES],
    len: usize,
    used: usize,
    /// Frames dropped because the queue was full.
    pub dropped: u64,
}

impl<const FRAMES: usize, const BYTES: usize> Default for FrameQueue<FRAMES, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const FRAMES: usize, const BYTES: usize> FrameQueue<FRAMES, BYTES> {
    /// Empty.
    pub fn new() -> Self {
        FrameQueue {
            buf: vec![0u8; BYTES].into_boxed_slice(),
            meta: [(IfaceId(0), 0, 0); FRAMES],
            len: 0,
            used: 0,
            dropped: 0,
        }
    }

    /// Appends `frame` of `iface`; a frame that does not fit is dropped and counted.
    pub fn push(&mut self, iface: IfaceId, frame: &[u8]) -> bool {
        let end = self.used + frame.len();
        let (Ok(len), Ok(start)) = (u16::try_from(frame.len()), u32::try_from(self.used)) else {
            self.dropped += 1;
            return false;
        };
        if self.len == FRAMES || end > BYTES {
            self.dropped += 1;
            return false;
        }
        self.buf[self.used..end].copy_from_slice(frame);
        self.meta[self.len] = (iface, start, len);
        self.len += 1;
        self.used = end.next_multiple_of(ALIGN);
        true
    }

    /// Frame `k` and its interface.
    pub fn get(&self, k: usize) -> Option<(IfaceId, &[u8])> {
        let (iface, start, len) = *self.meta[..self.len].get(k)?;
        let start = start as usize;
        Some((iface, &self.buf[start..start + usize::from(len)]))
    }

    /// Frame `k`, to be rewritten in place, and its interface.
    pub fn get_mut(&mut self, k: usize) -> Option<(IfaceId, &mut [u8])> {
        let (iface, start, len) = *self.meta[..self.len].get(k)?;
        let start = start as usize;
        Some((iface, &mut self.buf[start..start + usize::from(len)]))
    }

    /// How many frames wait.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every frame.
    pub fn clear(&mut self) {
        self.len = 0;
        self.used = 0;
    }
}

impl<const FRAMES: usize, const BYTES: usize> hostip::FrameSink for FrameQueue<FRAMES, BYTES> {
    fn send(&mut self, iface: IfaceId, frame: &[u8]) {
        self.push(iface, frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_packed_kept_in_order_and_counted_when_they_do_not_fit() {
        let mut q: FrameQueue<3, 200> = FrameQueue::new();
        assert!(q.push(IfaceId(1), &[1; 60]));
        assert!(q.push(IfaceId(2), &[2; 100]), "from 64 (aligned) to 164");
        assert!(!q.push(IfaceId(3), &[3; 33]), "200 bytes at most");
        assert!(q.push(IfaceId(3), &[3; 32]));
        assert!(!q.push(IfaceId(4), &[4; 1]), "3 frames at most");
        assert_eq!(q.dropped, 2);
        assert_eq!(q.len(), 3);
        assert_eq!(q.get(1), Some((IfaceId(2), &[2u8; 100][..])));
        q.get_mut(2).unwrap().1[0] = 9;
        assert_eq!(q.get(2).unwrap().1[..2], [9, 3]);
        assert_eq!(q.get(3), None);
        q.clear();
        assert!(q.is_empty());
        assert!(q.push(IfaceId(5), &[5; 200]));
    }
}
