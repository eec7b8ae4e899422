//! The set of defects one mock instance plants ([`Defect`]s are scenario data, in mtls-core);
//! the behaviours they switch off are in the endpoints that check `AsState::has`.

use mtls_core::scenario::Defect;

/// The set of defects one mock instance plants.
#[derive(Debug, Clone, Default)]
pub struct Defects(Vec<Defect>);

impl Defects {
    pub fn new(list: &[Defect]) -> Self {
        Defects(list.to_vec())
    }

    pub fn has(&self, d: Defect) -> bool {
        self.0.contains(&d)
    }

    pub fn list(&self) -> &[Defect] {
        &self.0
    }
}
