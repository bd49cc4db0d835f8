//! File-system operations, remounts and power cuts on the file store, each result compared with
//! the reference model: `filestore::fuzz::operations`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    filestore::fuzz::operations(data);
});
