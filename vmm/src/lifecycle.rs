//! A guest's life as `/metarouter print` shows it: booting, running, rebooting, shutting-down,
//! stopped, disabled; and what the hypervisor must do on each event.
//!
//! Conventions (MetaROUTER's control channel, ABI section 4): to stop a guest the host sends
//! "halt" on its control queue and waits for the guest to halt (it answers "halt" or simply
//! stops); to reboot it sends "restart" and the guest answers "restart" when it is ready to be
//! restarted. A guest without a control queue (or one that ignores it) is forced after
//! [`GRACE_MS`]. A guest counts as *running* once it shows it is alive: its first hypercall.

/// How long a guest gets to honour "halt"/"restart" before it is forced.
pub const GRACE_MS: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Stopped,
    Booting,
    Running,
    Rebooting,
    ShuttingDown,
    Disabled,
}

impl State {
    /// The RouterOS word.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Stopped => "stopped",
            State::Booting => "booting",
            State::Running => "running",
            State::Rebooting => "rebooting",
            State::ShuttingDown => "shutting-down",
            State::Disabled => "disabled",
        }
    }

    /// Whether the guest's CPU exists (it holds RAM and may be scheduled).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            State::Booting | State::Running | State::Rebooting | State::ShuttingDown
        )
    }
}

/// Something that happened to a guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The user started it (`/metarouter start`, enable, or add with disabled=no).
    Start,
    /// The user asked it to shut down.
    Shutdown,
    /// The user asked it to reboot.
    Reboot,
    /// The user disabled it.
    Disable,
    /// The user enabled it.
    Enable,
    /// The guest made its first hypercall.
    Alive,
    /// The guest sent "halt" or stopped its CPU.
    GuestHalted,
    /// The guest sent "restart".
    GuestRestart,
    /// The guest faulted in a way that cannot be reflected to it.
    Fault,
    /// The grace period after "halt"/"restart" ran out.
    GraceExpired,
}

/// What the hypervisor must do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Load the image and start the CPU.
    Boot,
    /// Send "halt" on the control queue (or force at once if the guest has none) and start the
    /// grace timer.
    AskHalt,
    /// Send "restart" on the control queue (same rules).
    AskRestart,
    /// Stop the CPU and release its resources.
    Stop,
    /// Stop the CPU and boot it again.
    Restart,
}

/// The event does not apply in the current state (e.g. start while running).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongState;

/// Apply `event` in state `from`: the new state and the action, or [`WrongState`].
pub fn transition(from: State, event: Event) -> Result<(State, Action), WrongState> {
    use Action as A;
    use Event as E;
    use State as S;
    Ok(match (from, event) {
        (S::Stopped, E::Start) => (S::Booting, A::Boot),
        (S::Stopped, E::Disable) | (S::Disabled, E::Disable) => (S::Disabled, A::Nothing),
        (S::Disabled, E::Enable) => (S::Booting, A::Boot),
        (S::Booting, E::Alive) => (S::Running, A::Nothing),
        (S::Running | S::Booting, E::Shutdown) => (S::ShuttingDown, A::AskHalt),
        (S::Running | S::Booting, E::Reboot) => (S::Rebooting, A::AskRestart),
        (S::Running | S::Booting | S::Rebooting | S::ShuttingDown, E::Disable) => {
            (S::Disabled, A::Stop)
        }
        (S::Running | S::Booting | S::ShuttingDown, E::GuestHalted) => (S::Stopped, A::Stop),
        (S::Rebooting, E::GuestHalted | E::GuestRestart) => (S::Booting, A::Restart),
        (S::Running | S::Booting, E::GuestRestart) => (S::Booting, A::Restart),
        (S::ShuttingDown, E::GuestRestart) => (S::Stopped, A::Stop),
        (S::ShuttingDown, E::GraceExpired) => (S::Stopped, A::Stop),
        (S::Rebooting, E::GraceExpired) => (S::Booting, A::Restart),
        (S::Running | S::Booting | S::Rebooting | S::ShuttingDown, E::Fault) => {
            (S::Stopped, A::Stop)
        }
        (S::Running, E::Alive) | (S::Rebooting | S::ShuttingDown, E::Alive) => (from, A::Nothing),
        _ => return Err(WrongState),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_life() {
        let (s, a) = transition(State::Stopped, Event::Start).unwrap();
        assert_eq!((s, a), (State::Booting, Action::Boot));
        let (s, _) = transition(s, Event::Alive).unwrap();
        assert_eq!(s, State::Running);
        let (s, a) = transition(s, Event::Reboot).unwrap();
        assert_eq!((s, a), (State::Rebooting, Action::AskRestart));
        let (s, a) = transition(s, Event::GuestRestart).unwrap();
        assert_eq!((s, a), (State::Booting, Action::Restart));
        let (s, _) = transition(s, Event::Alive).unwrap();
        let (s, a) = transition(s, Event::Shutdown).unwrap();
        assert_eq!((s, a), (State::ShuttingDown, Action::AskHalt));
        let (s, a) = transition(s, Event::GraceExpired).unwrap();
        assert_eq!((s, a), (State::Stopped, Action::Stop));
    }

    #[test]
    fn guest_initiated_halt_and_restart() {
        assert_eq!(
            transition(State::Running, Event::GuestHalted),
            Ok((State::Stopped, Action::Stop))
        );
        assert_eq!(
            transition(State::Running, Event::GuestRestart),
            Ok((State::Booting, Action::Restart))
        );
    }

    #[test]
    fn wrong_state_changes_nothing() {
        assert_eq!(transition(State::Running, Event::Start), Err(WrongState));
        assert_eq!(transition(State::Stopped, Event::Shutdown), Err(WrongState));
        assert_eq!(transition(State::Disabled, Event::Start), Err(WrongState));
        assert_eq!(
            transition(State::Stopped, Event::GraceExpired),
            Err(WrongState)
        );
    }

    #[test]
    fn disable_stops_a_live_guest() {
        for s in [
            State::Booting,
            State::Running,
            State::Rebooting,
            State::ShuttingDown,
        ] {
            assert_eq!(
                transition(s, Event::Disable),
                Ok((State::Disabled, Action::Stop))
            );
        }
        assert_eq!(
            transition(State::Disabled, Event::Enable),
            Ok((State::Booting, Action::Boot))
        );
    }

    #[test]
    fn faults_stop_the_guest() {
        for s in [
            State::Booting,
            State::Running,
            State::Rebooting,
            State::ShuttingDown,
        ] {
            assert_eq!(
                transition(s, Event::Fault),
                Ok((State::Stopped, Action::Stop))
            );
        }
    }
}
