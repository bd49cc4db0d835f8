//! The cargo-fuzz target's body (`vcpu_e500::fuzz::run`), run over generated inputs so that
//! `cargo test` exercises it without cargo-fuzz; and the per-guest footprint.

/// xorshift32: deterministic inputs of different lengths and densities.
fn inputs(count: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut state = 0x9E37_79B9u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    (0..count).map(move |_| {
        let len = (next() % 900) as usize;
        (0..len).map(|_| next() as u8).collect()
    })
}

#[test]
fn fuzz_body_over_generated_inputs() {
    for data in inputs(3000) {
        vcpu_e500::fuzz::run(&data);
    }
}

/// Per-guest hypervisor memory for the CPU model (printed; the budget is 16 KiB per guest).
#[test]
fn per_guest_footprint() {
    use core::mem::size_of;
    let size = size_of::<vcpu_e500::Vcpu>();
    println!("size_of::<Vcpu>() = {size} bytes");
    println!(
        "  Tlb {}, RefillCache {}, GuestSids {}, SprFile {}, Timers {}",
        size_of::<vcpu_e500::tlb::Tlb>(),
        size_of::<vcpu_e500::RefillCache>(),
        size_of::<vcpu_e500::sid::GuestSids>(),
        size_of::<vcpu_e500::sprs::SprFile>(),
        size_of::<vcpu_e500::timer::Timers>(),
    );
    assert!(size <= 16 * 1024, "{size} bytes");
}
