//! `userbench`: a guest kernel with user processes, measuring what a Unix-like guest's user
//! code, system calls and process creation cost under the hypervisor.
//!
//! Its exception paths are modelled on Linux 6.1's for a 32-bit 24Kc ([`entry`]): the same
//! refill handler, the same trapping CP0 instructions on system call entry and return, demand
//! paging with `__update_tlb`. Built with the `qemu-malta` feature the same code runs on bare
//! QEMU (kernel mode, the real TLB), which gives the figures to compare against.
//!
//! Console commands: `bench [TOUCHES]` (default 200000; see [`bench`](mod@bench)), `halt`, `help`.
#![no_std]
#![feature(asm_experimental_arch)]
#![no_main]

use mr_guest::proto::command::Command;
use mr_guest::proto::line::{Edit, LineEditor};
use mr_guest::{console, control, event, print, println, Boot};

mod bench;
mod entry;
mod mm;
mod user;

mr_guest::entry!(main);

const PROMPT: &str = "userbench> ";
const DEFAULT_TOUCHES: u32 = 200_000;

fn main(boot: &'static Boot) -> ! {
    entry::install_vectors(mr_guest::arch::vectors::exception_base());
    println!();
    println!(
        "userbench: user-mode workloads (mr-guest {})",
        env!("CARGO_PKG_VERSION")
    );
    println!(
        "virtualized: {}",
        if boot.virtualized { "yes" } else { "no" }
    );
    print!("{PROMPT}");
    let mut editor = LineEditor::<128>::new();
    loop {
        let events = event::wait();
        if events & event::CONTROL != 0 && control::poll().is_some() {
            println!("host requested stop: halting");
            control::halt();
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
                        run(editor.line());
                        editor.clear();
                        print!("{PROMPT}");
                    }
                }
            }
        }
    }
}

fn run(line: &[u8]) {
    let cmd = Command::parse(line);
    match cmd.name {
        b"" => {}
        b"help" => {
            println!("commands:");
            println!("  bench [TOUCHES]  user-mode workloads (default {DEFAULT_TOUCHES} loads per working set)");
            println!("  halt             power off (tells the host)");
        }
        b"bench" => {
            let touches = cmd
                .args()
                .next()
                .and_then(|a| core::str::from_utf8(a).ok())
                .and_then(|a| a.parse::<u32>().ok())
                .unwrap_or(DEFAULT_TOUCHES);
            bench::run(touches.max(1000));
        }
        b"halt" => {
            println!("halting");
            control::halt();
        }
        _ => println!("unknown command (try help)"),
    }
}
