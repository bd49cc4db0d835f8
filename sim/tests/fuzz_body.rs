//! Runs the fuzz body over a few thousand generated inputs: random bytes, and lines built from
//! the CLI's own words (menus, commands, argument names, values) so that deep paths are reached.
#![allow(clippy::manual_is_multiple_of)]

use sim::fuzz::shell_input;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PATHS: &[&str] = &[
    "/metarouter",
    "/metarouter interface",
    "/interface",
    "/interface bridge",
    "/interface bridge port",
    "/interface ethernet",
    "/ip address",
    "/ipv6 address",
    "/ip route",
    "/ipv6 route",
    "/routing route",
    "/routing table",
    "/routing rule",
    "/system identity",
    "/system resource",
    "/user",
    "/file",
    "/system",
    "..",
    "/",
    "",
    "/ip/address",
    "metarouter",
];
const COMMANDS: &[&str] = &[
    "add",
    "set",
    "remove",
    "print",
    "enable",
    "disable",
    "export",
    "find",
    "console",
    "start",
    "shut-down",
    "reboot",
    "import-image",
    "p",
    "pr",
    "quit",
    "shutdown",
    "x",
];
const ITEMS: &[&str] = &[
    "0",
    "1",
    "2",
    "0,1",
    "mr0",
    "mr1",
    "bridge1",
    "ether1",
    "vif1",
    "*1",
    "[ find ]",
    "[find name=mr0]",
    "[find where !disabled and name~\"^mr\"]",
    "[find where (comment=\"\" or disabled)]",
    "99",
    "admin",
];
const ARGS: &[&str] = &[
    "name",
    "memory-size",
    "disk-size",
    "disabled",
    "comment",
    "virtual-machine",
    "type",
    "dynamic-bridge",
    "dynamic-mac-address",
    "vm-mac-address",
    "static-interface",
    "copy-from",
    "host-interface",
    "interface",
    "bridge",
    "priority",
    "path-cost",
    "horizon",
    "address",
    "network",
    "mtu",
    "arp",
    "protocol-mode",
    "auto-mac",
    "admin-mac",
    "ageing-time",
    "group",
    "password",
    "file-name",
    "gateway",
    "dst-address",
    "distance",
    "table",
    "numbers",
    "m",
    "d",
];
const VALUES: &[&str] = &[
    "mr0",
    "mr1",
    "mr2",
    "16",
    "32",
    "256",
    "300",
    "0",
    "unlimited",
    "yes",
    "no",
    "static",
    "dynamic",
    "bridge1",
    "ether1",
    "ether2",
    "ether3",
    "vif1",
    "vif2",
    "02:00:00:00:00:01",
    "10.0.0.1/24",
    "10.0.1.1",
    "2001:db8::1/64",
    "none",
    "rstp",
    "5m",
    "0x8000",
    "full",
    "read",
    "openwrt-mr-mips-rootfs.tgz",
    "broken.tgz",
    "\"a b\"",
    "\"\"",
    "-1",
    "main",
];
const WORDS: &[&str] = &[
    "detail",
    "count-only",
    "where",
    "name=mr0",
    "disabled",
    "!disabled",
    "memory-size>16",
    "or",
    "and",
    "not",
    "brief",
    "terse",
    "value-list",
    "as-value",
    "stats",
    "interval=1",
    "name~\"^m[r0-9]+$\"",
    "dst-address in 10.0.0.0/8",
    "(name=mr0",
    ")",
];

fn generated_line(rng: &mut Rng) -> String {
    let mut line = String::from(rng.pick(PATHS));
    line.push(' ');
    line.push_str(rng.pick(COMMANDS));
    if rng.next() % 2 == 0 {
        line.push(' ');
        line.push_str(rng.pick(ITEMS));
    }
    for _ in 0..rng.next() % 4 {
        line.push(' ');
        if rng.next() % 5 == 0 {
            line.push_str(rng.pick(WORDS));
        } else {
            line.push_str(rng.pick(ARGS));
            line.push('=');
            line.push_str(rng.pick(VALUES));
        }
    }
    line
}

#[test]
fn fuzz_body_over_generated_inputs() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..3000 {
        let input: Vec<u8> = if case % 3 == 0 {
            let len = (rng.next() % 200) as usize;
            (0..len).map(|_| (rng.next() % 256) as u8).collect()
        } else {
            let mut text = String::new();
            for _ in 0..1 + rng.next() % 6 {
                text.push_str(&generated_line(&mut rng));
                text.push(if rng.next() % 4 == 0 { '\t' } else { '\r' });
                if rng.next() % 10 == 0 {
                    text.push_str("\x01q?\x1b[A\x1b[D\x7f");
                }
            }
            text.into_bytes()
        };
        shell_input(&input);
    }
}
