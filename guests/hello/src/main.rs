//! `hello`: the smallest useful MetaROUTER guest.
//!
//! Console banner (memory size from `mem=`, Count frequency from `HZ=`; on the e500 both from
//! the device tree, the frequency being the time base's), then a shell on the
//! console: `help`, `uptime`, `halt` (sends "halt" on the control queue and stops), `reboot`
//! (sends "restart"); any other line is echoed back as `echo: <line>`. A "halt" or "restart"
//! from the host on the control queue is answered the same way.
#![no_std]
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]
#![no_main]

use mr_guest::proto::command::Command;
use mr_guest::proto::control::ControlMessage;
use mr_guest::proto::line::{Edit, LineEditor};
use mr_guest::proto::uptime::Uptime;
use mr_guest::{console, control, event, print, println, timer, Boot};

mod bench;
mod disk;

mr_guest::entry!(main);

const PROMPT: &str = "hello> ";

fn main(boot: &'static Boot) -> ! {
    println!();
    println!(
        "hello: MetaROUTER guest (mr-guest {})",
        env!("CARGO_PKG_VERSION")
    );
    match boot.ram_bytes {
        0 => println!("memory-size: unknown"),
        b => println!("memory-size: {}MiB", b >> 20),
    }
    println!("count-frequency: {}Hz", boot.count_hz);
    println!(
        "virtualized: {}",
        if boot.virtualized { "yes" } else { "no" }
    );
    println!(
        "command-line: {}",
        core::str::from_utf8(boot.command_line.as_bytes()).unwrap_or("?")
    );
    println!("type help for commands");
    print!("{PROMPT}");
    let mut editor = LineEditor::<128>::new();
    let mut disk = disk::Disk::new();
    loop {
        let events = event::wait();
        if events & event::CONTROL != 0 {
            while let Some(msg) = control::poll() {
                on_control(msg);
            }
        }
        let mut input = [0u8; 64];
        loop {
            let n = console::read(&mut input);
            if n == 0 {
                break;
            }
            for &b in &input[..n] {
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
                        run(editor.line(), &mut disk);
                        editor.clear();
                        print!("{PROMPT}");
                    }
                }
            }
        }
    }
}

fn run(line: &[u8], disk: &mut disk::Disk) {
    let cmd = Command::parse(line);
    match cmd.name {
        b"" => {}
        b"help" => {
            println!("commands:");
            println!("  help     this list");
            println!("  uptime   time since start");
            println!("  halt     power off (tells the host)");
            println!("  reboot   restart (tells the host)");
            #[cfg(target_arch = "mips")]
            println!("  bench    measure hypercall, CP0 and TLB refill costs");
            #[cfg(target_arch = "powerpc")]
            println!("  bench    measure hypercall, SPR, MSR and TLB costs");
            println!("  ls [PATH]          list a directory of the disk");
            println!("  cat PATH           print a file of the disk");
            println!("  write PATH TEXT    append a line to a file of the disk");
            println!("  disk-bench [PAGES] time 4 KiB writes and reads of the disk");
            println!("  anything else is echoed back");
        }
        b"uptime" => println!("uptime: {}", Uptime(timer::uptime_ms())),
        b"disk-bench" => {
            let pages = cmd.args().next().and_then(|a| core::str::from_utf8(a).ok());
            disk.bench(pages.and_then(|p| p.parse().ok()).unwrap_or(256));
        }
        b"ls" => disk.ls(cmd.args().next().unwrap_or(b"/")),
        b"cat" => disk.cat(cmd.args().next().unwrap_or(b"")),
        b"write" => {
            let inner = Command::parse(cmd.rest);
            if inner.name.is_empty() || inner.rest.is_empty() {
                println!("write: PATH TEXT");
            } else {
                disk.write(inner.name, inner.rest);
            }
        }
        b"bench" => bench::run(),
        b"halt" => {
            println!("halting");
            control::halt();
        }
        b"reboot" => {
            println!("rebooting");
            control::reboot();
        }
        _ => println!("echo: {}", core::str::from_utf8(line).unwrap_or("?")),
    }
}

fn on_control(msg: ControlMessage) {
    match msg {
        ControlMessage::Halt => {
            println!();
            println!("host requested halt: halting");
            control::halt();
        }
        ControlMessage::Restart => {
            println!();
            println!("host requested restart: rebooting");
            control::reboot();
        }
    }
}
