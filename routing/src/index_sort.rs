//! One small sort for the routing core and the management plane: a heapsort of `u32` indexes
//! with a `dyn` comparator. Every slice sort of `core` is instantiated per element type and
//! comparator, about 5 KiB of code each on the MIPS target (opt-level `z`); sorting indexes
//! through one `dyn` comparator keeps a single copy of a few hundred bytes. Heapsort needs no
//! allocation and is O(n log n) in the worst case; it is not stable, so callers give a total
//! order (ids break ties), which every caller has.

use core::cmp::Ordering;

/// Sorts `indexes` so that `cmp(indexes[i], indexes[i + 1])` is never `Greater`.
pub fn sort_indexes(indexes: &mut [u32], cmp: &dyn Fn(usize, usize) -> Ordering) {
    let n = indexes.len();
    for root in (0..n / 2).rev() {
        sift_down(indexes, root, n, cmp);
    }
    for end in (1..n).rev() {
        indexes.swap(0, end);
        sift_down(indexes, 0, end, cmp);
    }
}

/// Restores the max-heap property below `root` in `heap[..end]`.
fn sift_down(
    heap: &mut [u32],
    mut root: usize,
    end: usize,
    cmp: &dyn Fn(usize, usize) -> Ordering,
) {
    let less = |a: u32, b: u32| cmp(a as usize, b as usize) == Ordering::Less;
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(heap[child], heap[child + 1]) {
            child += 1;
        }
        if !less(heap[root], heap[child]) {
            return;
        }
        heap.swap(root, child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::sort_indexes;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn sorted_by_index(keys: &[u16]) -> Vec<u16> {
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        sort_indexes(&mut order, &|a, b| keys[a].cmp(&keys[b]));
        order.iter().map(|&i| keys[i as usize]).collect()
    }

    #[test]
    fn small_cases() {
        assert_eq!(sorted_by_index(&[]), [0u16; 0]);
        assert_eq!(sorted_by_index(&[7]), [7]);
        assert_eq!(sorted_by_index(&[2, 1]), [1, 2]);
        assert_eq!(sorted_by_index(&[3, 1, 2, 1, 3]), [1, 1, 2, 3, 3]);
    }

    proptest! {
        #[test]
        fn sorts_like_core(keys in prop::collection::vec(any::<u16>(), 0..300)) {
            let mut expected = keys.clone();
            expected.sort_unstable();
            prop_assert_eq!(sorted_by_index(&keys), expected);
        }

        #[test]
        fn gives_a_permutation(keys in prop::collection::vec(0u16..8, 0..100)) {
            let mut order: Vec<u32> = (0..keys.len() as u32).collect();
            sort_indexes(&mut order, &|a, b| keys[a].cmp(&keys[b]));
            let mut seen = order.clone();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..keys.len() as u32).collect::<Vec<_>>());
        }
    }
}
