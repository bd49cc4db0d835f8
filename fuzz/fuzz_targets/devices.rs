//! Guest RAM, ring heads and device operations against the device layer:
//! `vdevices::fuzzing::run` (its summary of what was checked is not needed here).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vdevices::fuzzing::run(data);
});
