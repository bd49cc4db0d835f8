//! RouterBOOT-style boot words, read the way the RouterOS guest kernel reads them.
//!
//! The host starts a MIPS guest with `$a0 = argc`, `$a1 = argv` (guest-virtual `char **`); the
//! words are `HZ=<Count frequency>`, `board=vm`, `mem=<N>M`, `kmac=<xx:xx:xx:xx:xx:xx>` and the
//! user's command line (`prom_init`, `setup_kmac` in `arch/mips/rb/prom.c`; `mem=` is Linux's
//! generic `memparse`). Words of the guest programs in this workspace (e.g. `ip=10.0.0.2/24`)
//! are ordinary `key=value` words of the user's command line.
//!
//! The runtime copies the words into a [`CommandLine`] before anything else touches memory
//! (argv may sit anywhere in guest RAM outside the image), then parses [`BootWords`] from it.

/// The words, copied out of argv into a fixed buffer (space separated, truncated when full).
#[derive(Clone, Debug)]
pub struct CommandLine<const N: usize> {
    bytes: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> Default for CommandLine<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> CommandLine<N> {
    /// An empty command line.
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
            truncated: false,
        }
    }

    /// Append one word (bytes up to its NUL). Spaces inside a word are kept as they are, so a
    /// word with spaces reads back as several words. Returns false if it did not fit.
    pub fn push(&mut self, word: &[u8]) -> bool {
        let word = word.split(|&b| b == 0).next().unwrap_or(&[]);
        if word.is_empty() {
            return true;
        }
        let sep = usize::from(self.len != 0);
        if self.len + sep + word.len() > N {
            self.truncated = true;
            return false;
        }
        if sep == 1 {
            self.bytes[self.len] = b' ';
        }
        self.bytes[self.len + sep..self.len + sep + word.len()].copy_from_slice(word);
        self.len += sep + word.len();
        true
    }

    /// The whole line.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Whether some word did not fit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The words.
    pub fn words(&self) -> impl Iterator<Item = &[u8]> {
        self.as_bytes()
            .split(|&b| b == b' ')
            .filter(|w| !w.is_empty())
    }

    /// The value of the first `key=value` word.
    pub fn value(&self, key: &str) -> Option<&[u8]> {
        self.words()
            .find_map(|w| w.strip_prefix(key.as_bytes())?.strip_prefix(b"="))
    }

    /// The words the runtime understands.
    pub fn boot_words(&self) -> BootWords {
        BootWords::parse(self.words())
    }
}

/// What the runtime takes from the boot words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootWords {
    /// CP0 Count frequency in Hz (`HZ=`, decimal).
    pub count_hz: Option<u32>,
    /// Whether `board=vm` was given (the MetaROUTER machine).
    pub board_vm: bool,
    /// RAM size in bytes (`mem=`), saturated at 4 GiB - 1.
    pub mem_bytes: Option<u32>,
    /// The MAC address (`kmac=`), when well formed.
    pub kmac: Option<[u8; 6]>,
}

impl BootWords {
    /// Parse the words; for repeated words the first one counts (`board=` compares its first
    /// 16 bytes, like the guest kernel's `strncmp(board_type, "vm", 16)`).
    pub fn parse<'a>(words: impl Iterator<Item = &'a [u8]>) -> Self {
        let mut w = Self::default();
        for word in words {
            if let Some(v) = word.strip_prefix(b"HZ=") {
                w.count_hz = w.count_hz.or(Some(saturate(strtoul(v).0)));
            } else if let Some(v) = word
                .strip_prefix(b"board=")
                .or_else(|| word.strip_prefix(b"Board="))
            {
                w.board_vm |= &v[..v.len().min(16)] == b"vm";
            } else if let Some(v) = word.strip_prefix(b"mem=") {
                w.mem_bytes = w.mem_bytes.or(Some(saturate(memparse(v))));
            } else if let Some(v) = word.strip_prefix(b"kmac=") {
                w.kmac = w.kmac.or(parse_kmac(v));
            }
        }
        w
    }
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// `simple_strtoul(s, 0, 10)`: the leading decimal digits (saturating) and the rest.
pub fn strtoul(s: &[u8]) -> (u64, &[u8]) {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let v = s[..digits].iter().fold(0u64, |v, &b| {
        v.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    (v, &s[digits..])
}

/// Linux `memparse`: a number with an optional K/M/G suffix (either case).
pub fn memparse(s: &[u8]) -> u64 {
    let (n, rest) = strtoul(s);
    let shift = match rest.first() {
        Some(b'G' | b'g') => 30,
        Some(b'M' | b'm') => 20,
        Some(b'K' | b'k') => 10,
        _ => 0,
    };
    n.checked_shl(shift)
        .filter(|v| v >> shift == n)
        .unwrap_or(u64::MAX)
}

/// `setup_kmac`: six two-digit hex bytes separated by `:` and nothing after.
pub fn parse_kmac(s: &[u8]) -> Option<[u8; 6]> {
    if s.len() != 17 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, byte) in mac.iter_mut().enumerate() {
        let p = &s[3 * i..3 * i + 2];
        if i < 5 && s[3 * i + 2] != b':' {
            return None;
        }
        let hex = |c: u8| (c as char).to_digit(16);
        *byte = (hex(p[0])? * 16 + hex(p[1])?) as u8;
    }
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &[&str]) -> CommandLine<256> {
        let mut c = CommandLine::new();
        for w in words {
            assert!(c.push(w.as_bytes()));
        }
        c
    }

    #[test]
    fn metarouter_words() {
        let c = line(&[
            "HZ=100000000",
            "board=vm",
            "mem=64M",
            "kmac=02:4a:BC:00:1f:e9",
            "ip=10.0.0.2/24",
            "quiet",
        ]);
        let w = c.boot_words();
        assert_eq!(w.count_hz, Some(100_000_000));
        assert!(w.board_vm);
        assert_eq!(w.mem_bytes, Some(64 << 20));
        assert_eq!(w.kmac, Some([0x02, 0x4A, 0xBC, 0x00, 0x1F, 0xE9]));
        assert_eq!(c.value("ip"), Some(&b"10.0.0.2/24"[..]));
        assert_eq!(c.value("i"), None);
        assert_eq!(c.value("quiet"), None, "a bare word has no value");
        assert_eq!(
            c.as_bytes(),
            b"HZ=100000000 board=vm mem=64M kmac=02:4a:BC:00:1f:e9 ip=10.0.0.2/24 quiet"
        );
    }

    #[test]
    fn odd_words() {
        let w = line(&[
            "board=vm2",
            "HZ=12abc",
            "mem=1G",
            "mem=2M",
            "kmac=02:4a:bc:00:1f:e9x",
        ])
        .boot_words();
        assert!(!w.board_vm);
        assert_eq!(w.count_hz, Some(12));
        assert_eq!(w.mem_bytes, Some(1 << 30), "first mem= counts");
        assert_eq!(w.kmac, None);
        assert!(line(&["Board=vm"]).boot_words().board_vm);
        assert_eq!(line(&["mem=5000G"]).boot_words().mem_bytes, Some(u32::MAX));
        assert_eq!(line(&["mem=16"]).boot_words().mem_bytes, Some(16));
        assert_eq!(
            line(&["HZ=99999999999999999999999"]).boot_words().count_hz,
            Some(u32::MAX)
        );
        assert_eq!(BootWords::parse(core::iter::empty()), BootWords::default());
    }

    #[test]
    fn kmac_forms() {
        assert_eq!(
            parse_kmac(b"00:11:22:33:44:55"),
            Some([0, 0x11, 0x22, 0x33, 0x44, 0x55])
        );
        for bad in [
            &b"00:11:22:33:44"[..],
            b"00-11-22-33-44-55",
            b"0g:11:22:33:44:55",
            b"",
            b"00:11:22:33:44:5",
        ] {
            assert_eq!(parse_kmac(bad), None);
        }
    }

    #[test]
    fn command_line_truncates_and_stops_at_nul() {
        let mut c = CommandLine::<10>::new();
        assert!(c.push(b"abc\0junk"));
        assert!(c.push(b""));
        assert!(c.push(b"defgh"));
        assert!(!c.push(b"x"));
        assert!(c.truncated());
        assert_eq!(c.as_bytes(), b"abc defgh");
        assert_eq!(c.words().count(), 2);
    }
}
