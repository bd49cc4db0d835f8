//! Arbitrary guest RAM, ring heads and device operations against the device layer; the body
//! (`vdevices::fuzzing::run`) checks every write against the RAM as it was before.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vdevices::fuzzing::run(data);
});
