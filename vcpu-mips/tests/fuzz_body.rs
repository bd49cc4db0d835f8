//! The cargo-fuzz target's body (`vcpu_mips::fuzz::run`), run over generated inputs so CI
//! exercises it without cargo-fuzz.

/// xorshift32: deterministic inputs, different lengths and densities.
fn inputs(count: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut state = 0x9E37_79B9u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    (0..count).map(move |i| {
        let len = (next() % 700) as usize;
        let mut v: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Every fourth input biases instruction words toward COP0 / cache / rdhwr encodings.
        if i % 4 == 0 {
            for chunk in v.chunks_mut(9) {
                chunk[0] = [0x40, 0x42, 0x41, 0xBC, 0x7C][chunk.len() % 5];
            }
        }
        v
    })
}

#[test]
fn fuzz_body_over_generated_inputs() {
    for data in inputs(5000) {
        vcpu_mips::fuzz::run(&data);
    }
}

/// Per-guest hypervisor memory for the CPU model (printed; the budget is 16 KiB per guest).
#[test]
fn per_guest_footprint() {
    let size = core::mem::size_of::<vcpu_mips::Vcpu>();
    println!("size_of::<Vcpu>() = {size} bytes");
    assert!(size <= 16 * 1024);
}
