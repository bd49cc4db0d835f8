//! Packets waiting for their next hop's MAC: a fixed number of wait queues, each for one
//! (interface, next hop) and holding a few frames. A packet for an unknown neighbour opens a
//! queue (and the forwarder asks for the neighbour to be resolved) or joins its queue; a full
//! queue, or no free queue, drops it. A queue is released when its neighbour becomes known, or
//! given up [`WAIT_TIMEOUT_US`] after it opened (its packets answered with host unreachable).
//! Linux keeps 3 probes a second apart (`mcast_solicit`, `retrans_time_ms` 1000) and queues
//! up to `unres_qlen_bytes` per neighbour; here the bounds are fixed and small.

use core::net::IpAddr;

use routing::IfId;

use crate::{Micros, FRAME_MAX};

/// How many next hops can be waited for at once.
pub const WAIT_QUEUES: usize = 8;
/// How many packets one next hop's queue holds.
pub const WAIT_PACKETS: usize = 4;
/// How long a next hop is waited for (Linux: 3 solicitations 1 s apart).
pub const WAIT_TIMEOUT_US: Micros = 3_000_000;

/// One waiting frame, as it arrived (TTL already decremented), with its ingress interface.
#[derive(Clone)]
pub struct Waiting {
    pub in_interface: IfId,
    pub len: usize,
    pub frame: [u8; FRAME_MAX],
}

/// The queue of one next hop.
#[derive(Clone)]
pub struct Queue {
    pub interface: IfId,
    pub next_hop: IpAddr,
    pub since: Micros,
    pub len: usize,
    pub frames: [Waiting; WAIT_PACKETS],
}

/// What happened to a frame given to [`WaitQueues::push`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Joined an open queue.
    Joined,
    /// Opened a new queue: the neighbour must be asked for.
    Opened,
    /// No room.
    Full,
}

/// The wait queues.
#[derive(Clone)]
pub struct WaitQueues {
    queues: [Option<Queue>; WAIT_QUEUES],
    open: usize,
}

const EMPTY: Waiting = Waiting {
    in_interface: IfId(0),
    len: 0,
    frame: [0; FRAME_MAX],
};

impl WaitQueues {
    pub const fn new() -> Self {
        WaitQueues {
            queues: [const { None }; WAIT_QUEUES],
            open: 0,
        }
    }

    /// How many queues are open.
    pub fn open(&self) -> usize {
        self.open
    }

    /// How many packets wait in all.
    pub fn packets(&self) -> usize {
        self.queues.iter().flatten().map(|q| q.len).sum()
    }

    /// Queues `frame` (at most [`FRAME_MAX`] bytes) for `next_hop` on `interface`.
    pub fn push(
        &mut self,
        now: Micros,
        interface: IfId,
        next_hop: IpAddr,
        in_interface: IfId,
        frame: &[u8],
    ) -> Pushed {
        let found = self.queues.iter().position(|q| {
            q.as_ref()
                .is_some_and(|q| q.interface == interface && q.next_hop == next_hop)
        });
        let (slot, pushed) = match found {
            Some(i) => (i, Pushed::Joined),
            None => match self.queues.iter().position(Option::is_none) {
                Some(i) => {
                    self.queues[i] = Some(Queue {
                        interface,
                        next_hop,
                        since: now,
                        len: 0,
                        frames: [const { EMPTY }; WAIT_PACKETS],
                    });
                    self.open += 1;
                    (i, Pushed::Opened)
                }
                None => return Pushed::Full,
            },
        };
        let Some(q) = self.queues[slot].as_mut() else {
            return Pushed::Full;
        };
        if q.len == WAIT_PACKETS {
            return Pushed::Full;
        }
        let w = &mut q.frames[q.len];
        w.in_interface = in_interface;
        w.len = frame.len();
        w.frame[..frame.len()].copy_from_slice(frame);
        q.len += 1;
        pushed
    }

    /// Takes the queue for `next_hop` on `interface`, if one is open.
    pub fn take(&mut self, interface: IfId, next_hop: IpAddr) -> Option<Queue> {
        let i = self.queues.iter().position(|q| {
            q.as_ref()
                .is_some_and(|q| q.interface == interface && q.next_hop == next_hop)
        })?;
        self.open -= 1;
        self.queues[i].take()
    }

    /// The (interface, next hop) of open queue `i`, for `i` below [`WAIT_QUEUES`].
    pub fn key(&self, i: usize) -> Option<(IfId, IpAddr, Micros)> {
        self.queues[i]
            .as_ref()
            .map(|q| (q.interface, q.next_hop, q.since))
    }

    /// Takes open queue `i`.
    pub fn take_at(&mut self, i: usize) -> Option<Queue> {
        let q = self.queues[i].take()?;
        self.open -= 1;
        Some(q)
    }
}

impl Default for WaitQueues {
    fn default() -> Self {
        Self::new()
    }
}
