//! Damaged and raw store images mounted, checked and used: `filestore::fuzz::image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    filestore::fuzz::image(data);
});
