//! The set of defects one mock instance plants ([`Defect`]s are scenario data, in mtls-core);
//! the behaviours they switch off are in the endpoints that check `AsState::has`.

use mtls_core::scenario::Defect;

/// The set of defects one mock instance plants.
#[derive(Debug, Clone, Default)]
pub struct Defects(Vec<Defect>);

impl Defects {
    pub(crate) fn new(list: &[Defect]) -> Self {
        Defects(list.to_vec())
    }

    pub(crate) fn has(&self, d: Defect) -> bool {
        self.0.contains(&d)
    }

    /// The planted defects, in scenario order.
    pub fn list(&self) -> &[Defect] {
        &self.0
    }
}
