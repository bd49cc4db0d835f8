//! The layout is checked by reading it back the way the guest kernel does: a port of
//! `prom_init`, `setup_kmac` and `memparse` from the RouterOS kernel.

use super::*;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

const BASE: u32 = 0xC000_1000;

/// What the guest kernel ends up with.
#[derive(Debug, Default, PartialEq, Eq)]
struct GuestView {
    hz: u64,
    board: Vec<u8>,
    cmdline: Vec<u8>,
    mac: Option<[u8; 6]>,
    mem: Option<u64>,
}

fn be32_at(area: &[u8], base: u32, addr: u32) -> u32 {
    let at = (addr - base) as usize;
    u32::from_be_bytes(area[at..at + 4].try_into().unwrap())
}

fn cstr(area: &[u8], base: u32, addr: u32) -> &[u8] {
    let at = (addr - base) as usize;
    let len = area[at..].iter().position(|&b| b == 0).unwrap();
    &area[at..at + len]
}

/// `simple_strtoul(s, 0, 10)`: leading decimal digits.
fn strtoul(s: &[u8]) -> u64 {
    s.iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0, |v, &b| v * 10 + u64::from(b - b'0'))
}

/// `setup_kmac` as the guest has it: returns the MAC it stores (it stores as it goes).
fn setup_kmac(s: &[u8]) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut i = 0;
    for (n, slot) in mac.iter_mut().enumerate() {
        if s.get(i).is_none() || s.get(i + 1).is_none() {
            return None;
        }
        if n != 5 && s.get(i + 2) != Some(&b':') {
            return None;
        }
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        *slot = hex(s[i])? * 16 + hex(s[i + 1])?;
        i += 3;
    }
    Some(mac)
}

/// `memparse`: number with an optional K/M/G suffix.
fn memparse(s: &[u8]) -> u64 {
    let n = strtoul(s);
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    match s.get(digits) {
        Some(b'G' | b'g') => n << 30,
        Some(b'M' | b'm') => n << 20,
        Some(b'K' | b'k') => n << 10,
        _ => n,
    }
}

fn guest_view(area: &[u8], layout: &ArgvLayout) -> GuestView {
    let mut v = GuestView::default();
    for i in 0..layout.argc {
        let p = be32_at(area, BASE, layout.argv + 4 * i);
        if p == 0 {
            break;
        }
        let word = cstr(area, BASE, p);
        if let Some(hz) = word.strip_prefix(b"HZ=") {
            v.hz = strtoul(hz);
            continue;
        }
        if let Some(board) = word.strip_prefix(b"board=") {
            v.board = board[..board.len().min(16)].to_vec();
        }
        v.cmdline.extend_from_slice(word);
        v.cmdline.push(b' ');
    }
    for param in v.cmdline.split(|&b| b == b' ') {
        if let Some(mac) = param.strip_prefix(b"kmac=") {
            v.mac = setup_kmac(mac);
        }
        if let Some(mem) = param.strip_prefix(b"mem=") {
            v.mem = Some(memparse(mem));
        }
    }
    v
}

fn args(command_line: &str) -> MipsBootArgs<'_> {
    MipsBootArgs {
        count_hz: 100_000_000,
        mem_mib: 64,
        kmac: [0x02, 0x4A, 0xBC, 0x00, 0x1F, 0xE9],
        command_line,
    }
}

#[test]
fn guest_parses_what_we_lay_out() {
    let mut area = vec![0xEEu8; 512];
    let layout = build_mips_argv(
        &args("console=hvc0  quiet\tinit=/sbin/init"),
        BASE,
        &mut area,
    )
    .unwrap();
    assert_eq!((layout.argc, layout.argv), (7, BASE));
    assert_eq!(be32_at(&area, BASE, BASE + 4 * 7), 0, "argv[argc] is NULL");
    let v = guest_view(&area, &layout);
    assert_eq!(v.hz, 100_000_000);
    assert_eq!(v.board, b"vm");
    assert_eq!(v.mem, Some(64 << 20));
    assert_eq!(v.mac, Some([0x02, 0x4A, 0xBC, 0x00, 0x1F, 0xE9]));
    assert_eq!(
        v.cmdline,
        b"board=vm mem=64M kmac=02:4a:bc:00:1f:e9 console=hvc0 quiet init=/sbin/init "
    );
    assert_eq!(
        cstr(&area, BASE, be32_at(&area, BASE, BASE)),
        b"HZ=100000000"
    );
    assert!(
        area[layout.used as usize..].iter().all(|&b| b == 0xEE),
        "nothing written past `used`"
    );
}

#[test]
fn exact_fit_and_one_byte_short() {
    let mut big = vec![0u8; 1024];
    let need = build_mips_argv(&args("a b"), BASE, &mut big).unwrap().used as usize;
    let mut exact = vec![0u8; need];
    assert!(build_mips_argv(&args("a b"), BASE, &mut exact).is_ok());
    let mut short = vec![0u8; need - 1];
    assert_eq!(
        build_mips_argv(&args("a b"), BASE, &mut short),
        Err(ArgvError::DoesNotFit {
            needed: need,
            available: need - 1
        })
    );
    assert!(short.iter().all(|&b| b == 0), "nothing written on refusal");
}

#[test]
fn refusals() {
    let mut area = vec![0u8; 8192];
    for (line, index) in [
        ("quiet mem=128M", 1u16),
        ("HZ=5", 0),
        ("x Board=rb433", 1),
        ("kmac=00:00:00:00:00:01", 0),
        ("board=vm", 0),
    ] {
        assert_eq!(
            build_mips_argv(&args(line), BASE, &mut area),
            Err(ArgvError::ReservedWord { index }),
            "{line}"
        );
    }
    assert_eq!(
        build_mips_argv(&args("a b\0c"), BASE, &mut area),
        Err(ArgvError::NulInWord { index: 1 })
    );
    assert_eq!(
        build_mips_argv(&args(""), BASE + 2, &mut area),
        Err(ArgvError::BadArea { base: BASE + 2 })
    );
    assert_eq!(
        build_mips_argv(&args(""), 0xFFFF_F000, &mut area),
        Err(ArgvError::BadArea { base: 0xFFFF_F000 })
    );
    let zero = MipsBootArgs {
        count_hz: 0,
        ..args("")
    };
    assert_eq!(
        build_mips_argv(&zero, BASE, &mut area),
        Err(ArgvError::ZeroValue)
    );
    let long = "word ".repeat(900);
    let mut huge = vec![0u8; 16384];
    assert!(matches!(
        build_mips_argv(&args(&long), BASE, &mut huge),
        Err(ArgvError::CommandLineTooLong { len }) if len > COMMAND_LINE_SIZE
    ));
}

proptest! {
    #[test]
    fn any_valid_arguments_read_back(
        hz in 1u32..,
        mem in 1u32..4096,
        mac in any::<[u8; 6]>(),
        words in proptest::collection::vec("[a-z][a-z0-9_.,/=-]{0,20}", 0..12),
    ) {
        let words: Vec<String> = words.into_iter().filter(|w| !RESERVED_PREFIXES.iter().any(|p| w.starts_with(p))).collect();
        let line = words.join(" ");
        let a = MipsBootArgs { count_hz: hz, mem_mib: mem, kmac: mac, command_line: &line };
        let mut area = vec![0u8; 2048];
        let layout = build_mips_argv(&a, BASE, &mut area).unwrap();
        let v = guest_view(&area, &layout);
        prop_assert_eq!(v.hz, u64::from(hz));
        prop_assert_eq!(v.mem, Some(u64::from(mem) << 20));
        prop_assert_eq!(v.mac, Some(mac));
        prop_assert_eq!(&v.board[..], b"vm");
        let user_part = alloc::format!("{} ", words.join(" "));
        prop_assert!(words.is_empty() || v.cmdline.ends_with(user_part.as_bytes()));
    }
}
