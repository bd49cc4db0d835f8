//! A hostile guest's metafs requests served from the disk's file store:
//! `metafs_disk::fuzz::server`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    metafs_disk::fuzz::server(data);
});
