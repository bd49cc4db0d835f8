//! Isolation-probe outcomes and their exact console wording.
//!
//! Each probe prints one line, `probe <name>: <outcome>`, where the outcome is
//! - `contained (<evidence>)`: the guest saw the attempt fail: a reflected exception
//!   (`AdEL at 0x80000000`, `CpU`), an error from the host (`error -22`), or a read-back that
//!   shows nothing leaked;
//! - `NOT CONTAINED (<what succeeded>)`: something that must fail succeeded;
//! - `host-checked (<what the guest observed>)`: containment is visible only from the host
//!   (a faulted queue, a log line, the other guests still answering).
//!
//! After the last probe: `probes host-checked: K` and `probes done: N contained, M not contained`.

use crate::exception;
use crate::text::Text;
use core::fmt;

/// An exception the guest took during a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Cause.ExcCode.
    pub code: u32,
    /// BadVAddr (meaningful for TLB and address errors).
    pub bad_vaddr: u32,
    /// EPC of the faulting instruction.
    pub epc: u32,
}

impl fmt::Display for Fault {
    /// `AdEL at 0x80000000` for TLB/address errors, the bare name otherwise (`CpU`, `RI`):
    /// EPC is not printed, so the text does not depend on the image layout.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", exception::name(self.code))?;
        if exception::has_bad_vaddr(self.code) {
            write!(f, " at {:#010x}", self.bad_vaddr)?;
        }
        Ok(())
    }
}

/// Room for an outcome's detail text.
pub type Detail = Text<96>;

/// The verdict of one probe.
#[derive(Clone, Copy, Debug)]
pub enum Outcome {
    /// The attempt failed as it must.
    Contained(Detail),
    /// Something that must fail succeeded.
    NotContained(Detail),
    /// Only the host can tell; the detail says what the guest observed.
    HostChecked(Detail),
}

impl Outcome {
    /// Contained, with formatted evidence.
    pub fn contained(args: fmt::Arguments<'_>) -> Self {
        Self::Contained(Text::format(args))
    }
    /// Not contained, with formatted detail.
    pub fn not_contained(args: fmt::Arguments<'_>) -> Self {
        Self::NotContained(Text::format(args))
    }
    /// Host-checked, with formatted detail.
    pub fn host_checked(args: fmt::Arguments<'_>) -> Self {
        Self::HostChecked(Text::format(args))
    }
    /// Contained by an exception.
    pub fn fault(f: Fault) -> Self {
        Self::contained(format_args!("{f}"))
    }
    /// Contained by an error result from the host.
    pub fn error(code: i32) -> Self {
        Self::contained(format_args!("error {code}"))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Contained(d) => write!(f, "contained ({d})"),
            Self::NotContained(d) => write!(f, "NOT CONTAINED ({d})"),
            Self::HostChecked(d) => write!(f, "host-checked ({d})"),
        }
    }
}

/// A probe's report line.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Probe name (lower case, `-` separated).
    pub name: &'a str,
    /// Its outcome.
    pub outcome: &'a Outcome,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe {}: {}", self.name, self.outcome)
    }
}

/// Running totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Probes contained.
    pub contained: u32,
    /// Probes not contained.
    pub not_contained: u32,
    /// Probes left to the host to judge.
    pub host_checked: u32,
}

impl Tally {
    /// Count one outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Contained(_) => self.contained += 1,
            Outcome::NotContained(_) => self.not_contained += 1,
            Outcome::HostChecked(_) => self.host_checked += 1,
        }
    }

    /// The closing lines: `probes host-checked: K` then
    /// `probes done: N contained, M not contained`.
    pub fn closing(&self) -> Closing {
        Closing(*self)
    }
}

/// Display of the closing lines (two lines, `\r\n` between them, none after).
#[derive(Clone, Copy, Debug)]
pub struct Closing(Tally);

impl fmt::Display for Closing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "probes host-checked: {}\r\nprobes done: {} contained, {} not contained",
            self.0.host_checked, self.0.contained, self.0.not_contained
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(name: &str, o: Outcome) -> Text<160> {
        Text::format(format_args!("{}", Report { name, outcome: &o }))
    }

    #[test]
    fn exact_wording() {
        let adel = Fault {
            code: exception::ADEL,
            bad_vaddr: 0x8000_0000,
            epc: 0xC010_1234,
        };
        assert_eq!(
            show("kseg0-read", Outcome::fault(adel)).as_str(),
            "probe kseg0-read: contained (AdEL at 0x80000000)"
        );
        let cpu = Fault {
            code: exception::CPU,
            bad_vaddr: 0,
            epc: 0xC010_1234,
        };
        assert_eq!(
            show("cache-op", Outcome::fault(cpu)).as_str(),
            "probe cache-op: contained (CpU)"
        );
        assert_eq!(
            show("hc", Outcome::error(-22)).as_str(),
            "probe hc: contained (error -22)"
        );
        let bad = Outcome::not_contained(format_args!(
            "read {:#010x} at {:#010x}",
            0x1234u32, 0x8000_0000u32
        ));
        assert_eq!(
            show("x", bad).as_str(),
            "probe x: NOT CONTAINED (read 0x00001234 at 0x80000000)"
        );
        assert_eq!(
            show("y", Outcome::host_checked(format_args!("created: 0"))).as_str(),
            "probe y: host-checked (created: 0)"
        );
    }

    #[test]
    fn totals() {
        let mut t = Tally::default();
        t.add(&Outcome::error(-1));
        t.add(&Outcome::error(-1));
        t.add(&Outcome::not_contained(format_args!("x")));
        t.add(&Outcome::host_checked(format_args!("x")));
        let c = Text::<100>::format(format_args!("{}", t.closing()));
        assert_eq!(
            c.as_str(),
            "probes host-checked: 1\r\nprobes done: 2 contained, 1 not contained"
        );
    }
}
