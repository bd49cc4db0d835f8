//! The console queue (queue 1, virq 1): one self-linked 4096-byte descriptor each way.
//!
//! Output follows `put_chars` of the Linux guest's `hvc_meta.c`: the guest atomically takes the
//! TX `size` word (swapping in 0), and
//! - if DONE is clear (the host drained the buffer), writes from offset 0;
//! - if DONE is set, appends after the `size & ~DONE` bytes still waiting;
//! - if the buffer is full, puts the word back and yields once; if it is still full, it drops
//!   the oldest quarter of the buffer to make room.
//!
//! then stores `(bytes in buffer) | DONE`. Input follows `get_chars`: bytes of a filled RX buffer
//! are consumed in order; when all are taken the buffer is posted again (`size = 4096`).

use crate::descriptor::{done, is_done, length};

/// Size of each console buffer.
pub const CONSOLE_BUFFER_SIZE: u32 = 4096;
/// Queue id of the console.
pub const CONSOLE_QUEUE: u32 = 1;
/// Virtual interrupt (bit of the virq word) of the console.
pub const CONSOLE_VIRQ: u32 = 1;

/// What to do with `pending` bytes, given the TX `size` word taken from the descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendPlan {
    /// Buffer full: put `size` back unchanged, yield to the host, then try again.
    Wait,
    /// Move bytes `shift..filled` to the front (dropping the oldest `shift` bytes) if `shift`
    /// is non-zero, copy `count` bytes to `offset`, then store `new_size`.
    Write {
        /// Oldest bytes to drop first (0 for none).
        shift: u32,
        /// Where the new bytes go.
        offset: u32,
        /// How many of the pending bytes fit.
        count: u32,
        /// The `size` word to store afterwards.
        new_size: u32,
    },
}

/// Plan an append of `pending` bytes to a TX buffer of `capacity` bytes whose `size` word was
/// `taken`. `may_drop` says whether the caller already waited once (then a full buffer loses
/// its oldest quarter instead of waiting again).
pub fn plan_append(taken: u32, capacity: u32, pending: usize, may_drop: bool) -> AppendPlan {
    let pending = u32::try_from(pending).unwrap_or(u32::MAX);
    if !is_done(taken) {
        let count = pending.min(capacity);
        return AppendPlan::Write {
            shift: 0,
            offset: 0,
            count,
            new_size: done(count),
        };
    }
    // A corrupt word larger than the buffer is treated as a full buffer.
    let filled = length(taken).min(capacity);
    let mut shift = 0;
    if filled == capacity {
        if !may_drop {
            return AppendPlan::Wait;
        }
        shift = capacity / 4;
    }
    let offset = filled - shift;
    let count = pending.min(capacity - offset);
    AppendPlan::Write {
        shift,
        offset,
        count,
        new_size: done(offset + count),
    }
}

/// The guest's position in the console RX buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputCursor {
    offset: u32,
}

/// Bytes to read from the RX buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Take {
    /// First byte to read.
    pub start: u32,
    /// Number of bytes to read.
    pub count: u32,
    /// Whether the buffer is now empty and must be posted again (`size = capacity`).
    pub repost: bool,
}

impl InputCursor {
    /// A cursor at the start of the buffer.
    pub const fn new() -> Self {
        Self { offset: 0 }
    }

    /// Take up to `want` bytes from an RX buffer of `capacity` bytes whose `size` word is
    /// `size`; `None` if the host has not filled it.
    pub fn take(&mut self, size: u32, capacity: u32, want: usize) -> Option<Take> {
        if !is_done(size) {
            return None;
        }
        let total = length(size).min(capacity);
        let start = self.offset.min(total);
        let want = u32::try_from(want).unwrap_or(u32::MAX);
        let count = want.min(total - start);
        if start + count >= total {
            self.offset = 0;
            Some(Take {
                start,
                count,
                repost: true,
            })
        } else {
            self.offset = start + count;
            Some(Take {
                start,
                count,
                repost: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::DONE;

    #[test]
    fn drained_buffer_starts_over() {
        assert_eq!(
            plan_append(0, 4096, 10, false),
            AppendPlan::Write {
                shift: 0,
                offset: 0,
                count: 10,
                new_size: 10 | DONE
            }
        );
        assert_eq!(
            plan_append(77, 4096, 10, false),
            AppendPlan::Write {
                shift: 0,
                offset: 0,
                count: 10,
                new_size: 10 | DONE
            }
        );
        assert_eq!(
            plan_append(0, 4096, 5000, false),
            AppendPlan::Write {
                shift: 0,
                offset: 0,
                count: 4096,
                new_size: 4096 | DONE
            }
        );
    }

    #[test]
    fn busy_buffer_is_appended_to() {
        assert_eq!(
            plan_append(100 | DONE, 4096, 10, false),
            AppendPlan::Write {
                shift: 0,
                offset: 100,
                count: 10,
                new_size: 110 | DONE
            }
        );
        assert_eq!(
            plan_append(4090 | DONE, 4096, 10, false),
            AppendPlan::Write {
                shift: 0,
                offset: 4090,
                count: 6,
                new_size: 4096 | DONE
            }
        );
    }

    #[test]
    fn full_buffer_waits_then_drops_a_quarter() {
        assert_eq!(plan_append(4096 | DONE, 4096, 1, false), AppendPlan::Wait);
        assert_eq!(
            plan_append(4096 | DONE, 4096, 10, true),
            AppendPlan::Write {
                shift: 1024,
                offset: 3072,
                count: 10,
                new_size: 3082 | DONE
            }
        );
        assert_eq!(
            plan_append(0x7FFF_FFFF | DONE, 4096, 1, false),
            AppendPlan::Wait,
            "corrupt size = full"
        );
    }

    #[test]
    fn input_is_consumed_in_pieces() {
        let mut c = InputCursor::new();
        assert_eq!(c.take(4096, 4096, 8), None, "not filled");
        assert_eq!(
            c.take(5 | DONE, 4096, 2),
            Some(Take {
                start: 0,
                count: 2,
                repost: false
            })
        );
        assert_eq!(
            c.take(5 | DONE, 4096, 2),
            Some(Take {
                start: 2,
                count: 2,
                repost: false
            })
        );
        assert_eq!(
            c.take(5 | DONE, 4096, 2),
            Some(Take {
                start: 4,
                count: 1,
                repost: true
            })
        );
        assert_eq!(
            c.take(3 | DONE, 4096, 64),
            Some(Take {
                start: 0,
                count: 3,
                repost: true
            })
        );
        assert_eq!(
            c.take(9999 | DONE, 4096, 8192),
            Some(Take {
                start: 0,
                count: 4096,
                repost: true
            }),
            "clamped"
        );
        assert_eq!(
            c.take(DONE, 4096, 8),
            Some(Take {
                start: 0,
                count: 0,
                repost: true
            }),
            "empty fill"
        );
    }
}
