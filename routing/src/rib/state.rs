//! What resolution produces for one gateway, and the rule that decides which routes can
//! resolve through routes of their own scope (shared by the incremental RIB and the
//! full-recomputation reference).

use super::types::{Gateway, Hop, RouteSpec};
use alloc::vec::Vec;

/// Resolution of one configured gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayState {
    pub gateway: Gateway,
    pub reachable: bool,
    /// The directly reachable next hops it resolves to (several through an ECMP route).
    pub hops: Vec<Hop>,
}

/// The scope level a route's gateway addresses resolve at: routes of `main` with a scope up
/// to `min(target-scope, scope)`.
pub(crate) fn resolution_level(spec: &RouteSpec) -> u8 {
    spec.scope.min(spec.target_scope)
}

/// Whether a route of `main` may resolve through routes of its own scope: an address
/// gateway and a target-scope of at least its scope. Only such routes can resolve through
/// each other in a loop.
pub(crate) fn resolves_at_own_scope(spec: &RouteSpec) -> bool {
    spec.target_scope >= spec.scope
        && spec
            .gateways
            .iter()
            .any(|g| matches!(g, Gateway::Address(_)))
}
