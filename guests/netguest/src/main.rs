//! `netguest`: a MetaROUTER guest with an IPv4 stack (smoltcp) on its first virtual interface.
//!
//! Command-line words (after the host's `HZ=`, `board=vm`, `mem=`, `kmac=`):
//! - `ip=A.B.C.D/N`: the static address of the first interface (required to be reachable);
//! - `gw=A.B.C.D`: an optional default gateway.
//!
//! It answers ICMP echo (ping) and UDP echo on port 7, and has a console shell: `ping <addr>
//! [count]` (RouterOS-like output ending in `sent=N received=M packet-loss=P%`), `ip` (show)
//! and `ip A.B.C.D/N` (set the address; MetaROUTER gives guests no way to pass their own
//! command line, so this is how a user configures one), `gw A.B.C.D` (set the default
//! gateway: the host's vif address, to reach other networks through the host's routing),
//! `tcp-listen <port>`, `tcp-send <addr> <port> <bytes>` and `tcp-loop <bytes>` (TCP
//! transfers and their rates: [`transfers`]), `uptime`, `help`, `halt`, `reboot`.
//! "halt"/"restart" from the host are obeyed.
#![no_std]
#![no_main]

extern crate alloc;

mod device;
mod loopback;
mod net;
mod ping;
mod tcp;
mod transfers;

use mr_guest::proto::command::Command;
use mr_guest::proto::control::ControlMessage;
use mr_guest::proto::ipv4::{self, Dotted, Mac};
use mr_guest::proto::line::{Edit, LineEditor};
use mr_guest::proto::ping::PingArgs;
use mr_guest::proto::uptime::Uptime;
use mr_guest::proto::veth::InterfaceChange;
use mr_guest::veth::Veth;
use mr_guest::{console, control, event, print, println, timer, Boot};

use net::Net;
use ping::PingRun;
use transfers::Transfers;

mr_guest::entry!(main);

const PROMPT: &str = "netguest> ";

fn main(boot: &'static Boot) -> ! {
    println!();
    println!(
        "netguest: MetaROUTER guest with smoltcp (mr-guest {})",
        env!("CARGO_PKG_VERSION")
    );
    match boot.ram_bytes {
        0 => println!("memory-size: unknown"),
        b => println!("memory-size: {}MiB", b >> 20),
    }
    let mut address = boot.value("ip").and_then(ipv4::parse_cidr);
    let mut gateway = boot.value("gw").and_then(ipv4::parse_addr);
    match (boot.value("ip"), address) {
        (_, Some((a, len))) => println!("address: {}/{}", Dotted(a), len),
        (Some(_), None) => println!("address: invalid ip= word (expected ip=A.B.C.D/N)"),
        (None, None) => println!("address: none (add ip=A.B.C.D/N to the command line)"),
    }
    if let Some(g) = gateway {
        println!("gateway: {}", Dotted(g));
    }
    let mut veth = match Veth::init() {
        Ok(v) => v,
        Err(e) => {
            println!("veth: cannot create queue 3: {e:?}");
            control::halt();
        }
    };
    println!("veth: waiting for an interface");
    print!("{PROMPT}");
    let mut net: Option<Net> = None;
    let mut ping: Option<PingRun> = None;
    let mut transfers = Transfers::new();
    let mut editor = LineEditor::<128>::new();
    loop {
        let events = event::wait();
        if events & event::CONTROL != 0 {
            while let Some(msg) = control::poll() {
                on_control(msg);
            }
        }
        match &mut net {
            Some(n) => n.poll(&mut veth),
            None => drop(veth.rx.receive_on(0)),
        }
        while let Some(change) = veth.rx.take_change() {
            match change {
                InterfaceChange::Added { id, mac } => {
                    println!();
                    println!("veth: interface {id} added, mac-address={}", Mac(mac));
                    if net.is_none() {
                        net = Net::new(&mut veth, id, mac, address, gateway);
                        if let Some(n) = &net {
                            n.show();
                        }
                    }
                }
                InterfaceChange::Removed { id } => {
                    println!();
                    println!("veth: interface {id} removed");
                    if net.as_ref().is_some_and(|n| n.id == id) {
                        net = None;
                        ping = None;
                        if transfers.sending() {
                            println!("tcp-send: interface removed");
                        }
                        transfers.forget();
                    }
                }
                InterfaceChange::Ignored => {}
            }
            print!("{PROMPT}");
        }
        if let (Some(run), Some(n)) = (&mut ping, &mut net) {
            if !run.step(n.icmp(), timer::uptime_us()) {
                ping = None;
                print!("{PROMPT}");
            }
            n.poll(&mut veth);
        }
        if let Some(n) = &mut net {
            if transfers.step(n) {
                print!("{PROMPT}");
            }
            n.poll(&mut veth);
        }
        let mut input = [0u8; 64];
        loop {
            let count = console::read(&mut input);
            if count == 0 {
                break;
            }
            for &b in &input[..count] {
                if ping.is_some() || transfers.sending() {
                    if editor.push(b) == Edit::Cancel {
                        if let Some(mut run) = ping.take() {
                            run.finish();
                        }
                        transfers.cancel(net.as_mut());
                        print!("{PROMPT}");
                    }
                    editor.clear();
                    continue;
                }
                match editor.push(b) {
                    Edit::None => {}
                    Edit::Echo(c) => console::write_bytes(&[c]),
                    Edit::Erase => console::write_bytes(b"\x08 \x08"),
                    Edit::Cancel => {
                        println!("^C");
                        print!("{PROMPT}");
                    }
                    Edit::Line => {
                        println!();
                        let cmd = Command::parse(editor.line());
                        if !transfers.command(&cmd, net.as_mut()) {
                            ping = run(&cmd, net.as_mut(), &mut address, &mut gateway);
                        }
                        editor.clear();
                        if ping.is_none() && !transfers.sending() {
                            print!("{PROMPT}");
                        }
                    }
                }
            }
        }
    }
}

/// Run a shell command; returns a started `ping`. `address` is the one a future interface
/// gets (`ip A.B.C.D/N` before the interface exists).
fn run(
    cmd: &Command<'_>,
    net: Option<&mut Net>,
    address: &mut Option<([u8; 4], u8)>,
    gateway: &mut Option<[u8; 4]>,
) -> Option<PingRun> {
    match cmd.name {
        b"" => {}
        b"help" => {
            println!("commands:");
            println!(
                "  ping <address> [count]   send ICMP echo requests (default 4, one per second)"
            );
            println!("  ip                       show the interface and address");
            println!("  ip <A.B.C.D/N>           set the interface's address");
            println!("  gw <A.B.C.D>             set the default gateway");
            println!("  tcp-listen <port>        count what TCP peers send (in the background)");
            println!("  tcp-send <address> <port> <bytes>   send bytes over TCP, print the rate");
            println!("  tcp-loop <bytes>         the same transfer inside this guest (loopback)");
            println!("  uptime                   time since start");
            println!("  halt                     power off (tells the host)");
            println!("  reboot                   restart (tells the host)");
        }
        b"uptime" => println!("uptime: {}", Uptime(timer::uptime_ms())),
        b"ip" => match (cmd.args().next(), net) {
            (None, Some(n)) => n.show(),
            (None, None) => println!("no interface yet"),
            (Some(word), net) => match ipv4::parse_cidr(word) {
                None => println!("invalid address (expected A.B.C.D/N)"),
                Some(a) => {
                    *address = Some(a);
                    match net {
                        Some(n) => {
                            n.set_address(a);
                            n.show();
                        }
                        None => println!(
                            "address {}/{} set for the first interface",
                            Dotted(a.0),
                            a.1
                        ),
                    }
                }
            },
        },
        b"gw" => match cmd.args().next().map(ipv4::parse_addr) {
            None => match gateway {
                Some(g) => println!("gateway: {}", Dotted(*g)),
                None => println!("gateway: none"),
            },
            Some(None) => println!("invalid gateway (expected A.B.C.D)"),
            Some(Some(g)) => {
                *gateway = Some(g);
                match net {
                    Some(n) => n.set_gateway(g),
                    None => println!("gateway {} set for the first interface", Dotted(g)),
                }
            }
        },
        b"ping" => match (PingArgs::parse(cmd), net) {
            (Err(e), _) => println!("{e}"),
            (Ok(_), None) => println!("no interface yet"),
            (Ok(_), Some(n)) if n.address.is_none() => {
                println!("no address (set one with ip A.B.C.D/N)")
            }
            (Ok(args), Some(n)) => {
                n.renew_icmp();
                return Some(PingRun::start(args, timer::uptime_us()));
            }
        },
        b"halt" => {
            println!("halting");
            control::halt();
        }
        b"reboot" => {
            println!("rebooting");
            control::reboot();
        }
        _ => println!(
            "unknown command: {} (try help)",
            core::str::from_utf8(cmd.name).unwrap_or("?")
        ),
    }
    None
}

fn on_control(msg: ControlMessage) {
    println!();
    match msg {
        ControlMessage::Halt => {
            println!("host requested halt: halting");
            control::halt();
        }
        ControlMessage::Restart => {
            println!("host requested restart: rebooting");
            control::reboot();
        }
    }
}
