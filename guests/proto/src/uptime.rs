//! Durations printed the RouterOS way: `3d22h15m41s`, `1m3s`, `0s` (weeks as `w`).

use core::fmt;

/// A duration in milliseconds, shown in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uptime(pub u64);

impl fmt::Display for Uptime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0 / 1000;
        if s == 0 {
            return f.write_str("0s");
        }
        for (unit, name) in [
            (604_800, "w"),
            (86_400, "d"),
            (3600, "h"),
            (60, "m"),
            (1, "s"),
        ] {
            if s >= unit {
                write!(f, "{}{name}", s / unit)?;
                s %= unit;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Text;
    use core::fmt::Write;

    fn show(ms: u64) -> Text<32> {
        let mut t = Text::new();
        write!(t, "{}", Uptime(ms)).unwrap();
        t
    }

    #[test]
    fn routeros_style() {
        assert_eq!(show(0).as_str(), "0s");
        assert_eq!(show(999).as_str(), "0s");
        assert_eq!(show(5_000).as_str(), "5s");
        assert_eq!(show(63_000).as_str(), "1m3s");
        assert_eq!(show(7_205_000).as_str(), "2h5s");
        assert_eq!(
            show((3 * 86_400 + 22 * 3600 + 15 * 60 + 41) * 1000).as_str(),
            "3d22h15m41s"
        );
        assert_eq!(show(15 * 86_400 * 1000).as_str(), "2w1d");
    }
}
