//! The files guests' images come from: the store read at boot (a preload, or the disk's host
//! files copied into RAM), and the import archives kept in the file store since (a `/file
//! receive` or `/tool fetch`), which the hypervisor hands over one by one
//! ([`crate::manager::Manager::add_file`]). A name received since boot shadows the boot store's.
//!
//! Images are `'static` bytes: a guest boots and imports from them in place. A received archive
//! stays in RAM until the next boot, also when a newer one of that name replaces it (a guest
//! may still run from it); the hypervisor takes only archives, and only as much as a boot store.

use alloc::vec::Vec;

use guest_loader::store::{FileStore, StoredFile};

/// The boot store and the archives received since.
#[derive(Clone, Debug, Default)]
pub struct ImageFiles {
    boot: Option<FileStore<'static>>,
    /// Newest last; one per name.
    received: Vec<StoredFile<'static>>,
}

impl ImageFiles {
    /// The store read at boot, nothing received yet.
    pub fn new(boot: Option<FileStore<'static>>) -> Self {
        ImageFiles {
            boot,
            received: Vec::new(),
        }
    }

    /// File `name`: the received one, else the boot store's.
    pub fn find(&self, name: &str) -> Option<StoredFile<'static>> {
        self.received
            .iter()
            .find(|f| f.name == name)
            .copied()
            .or_else(|| self.boot.and_then(|s| s.find(name)))
    }

    /// Every file, once per name: the boot store's (in its order), then those received since
    /// that it did not have.
    pub fn iter(&self) -> impl Iterator<Item = StoredFile<'static>> + '_ {
        let boot = self.boot.iter().flat_map(|s| s.iter());
        let received = self
            .received
            .iter()
            .filter(|f| self.boot.and_then(|s| s.find(f.name)).is_none())
            .copied();
        boot.map(|f| self.find(f.name).unwrap_or(f)).chain(received)
    }

    /// A file kept in the store since boot (replacing one received earlier of its name).
    pub fn add(&mut self, file: StoredFile<'static>) {
        self.received.retain(|f| f.name != file.name);
        self.received.push(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use guest_loader::store::StoreBuilder;

    fn leak(bytes: &[u8]) -> &'static [u8] {
        Box::leak(bytes.to_vec().into_boxed_slice())
    }

    #[test]
    fn received_files_shadow_and_join_the_boot_store() {
        let mut builder = StoreBuilder::new();
        builder.add("a.tgz", 0, b"old a").unwrap();
        builder.add("b.tgz", 0, b"b").unwrap();
        let boot = FileStore::parse(leak(&builder.build())).unwrap();
        let mut files = ImageFiles::new(Some(boot));
        assert_eq!(files.find("a.tgz").unwrap().data, b"old a");
        files.add(StoredFile {
            name: "a.tgz",
            created: 0,
            data: leak(b"new a"),
        });
        files.add(StoredFile {
            name: "c.tgz",
            created: 0,
            data: leak(b"c"),
        });
        files.add(StoredFile {
            name: "c.tgz",
            created: 0,
            data: leak(b"newer c"),
        });
        assert_eq!(files.find("a.tgz").unwrap().data, b"new a");
        assert_eq!(files.find("c.tgz").unwrap().data, b"newer c");
        let listed: Vec<_> = files.iter().map(|f| (f.name, f.data)).collect();
        assert_eq!(
            listed,
            [
                ("a.tgz", &b"new a"[..]),
                ("b.tgz", &b"b"[..]),
                ("c.tgz", &b"newer c"[..])
            ]
        );
        assert!(ImageFiles::new(None).find("a.tgz").is_none());
    }
}
