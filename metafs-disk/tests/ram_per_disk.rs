//! The host RAM a mounted guest disk takes, as the store accounts for it
//! (`Store::ram_bytes`: the free-space bitmap, the node cache, the areas' state), measured
//! by mounting eight guests' disks on a store and serving each its root: what grows per disk
//! is its area's state, kept twice (live and as last committed). The node cache and the
//! bitmap are the store's, shared by every disk. Printed with `-- --nocapture`.

use filestore::sim::MemDevice;
use filestore::{MountOptions, Store, Time};
use metafs_disk::{volume_of, DiskVolumes};
use vdevices::MetafsStore;

#[test]
fn figures_host_ram_per_mounted_guest_disk() {
    let mut store = Store::format(MemDevice::new(16384), Time::ZERO).unwrap();
    store.sync().unwrap();
    let dev = store.into_device().map_err(|(e, _)| e).unwrap();
    let (mut store, _) = Store::mount(dev, MountOptions::default()).unwrap();
    let empty = store.ram_bytes();
    let mut areas = Vec::new();
    for i in 0..8 {
        let area = store
            .create_area(format!("guest{i}").as_bytes(), Some(64 << 20))
            .unwrap();
        areas.push(area);
    }
    for &area in &areas {
        let volume = volume_of(area).unwrap();
        let mut volumes = DiskVolumes::new(&mut store);
        let root = volumes.root(volume).unwrap();
        volumes.getattr(volume, root).unwrap();
    }
    let eight = store.ram_bytes();
    let per_area = store.area_ram_bytes(areas[0]);
    let per_disk = (eight - empty) / 8;
    println!(
        "store RAM: {empty} bytes with no guest disk (bitmap and node cache), {eight} with 8; \
         {per_disk} bytes per mounted disk as accounted ({per_area} of area state, kept twice: \
         {} bytes); the export in the guest's devices: {} bytes",
        2 * per_area,
        std::mem::size_of::<Option<vdevices::Export>>()
    );
    assert!(per_area > 0 && per_area < 1024, "{per_area}");
}
