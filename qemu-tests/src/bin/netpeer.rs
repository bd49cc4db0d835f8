//! `netpeer`: the network tests' peer program (`qemu_tests::netpeer`), run inside a network
//! namespace.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = qemu_tests::netpeer::run(&args) {
        eprintln!("netpeer: {e}");
        std::process::exit(1);
    }
}
