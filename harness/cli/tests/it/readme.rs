//! The README stays true: every check and every planted defect is documented, each defect
//! with exactly the checks that catch it.

use mtls_harness::checks::CATALOGUE;
use mtls_harness::mock::Defect;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README.md at the repository root")
}

#[test]
fn every_check_has_a_row() {
    let r = readme();
    for c in CATALOGUE {
        assert!(r.contains(&format!("| `{}` |", c.id)), "README has no row for check {}", c.id);
    }
}

#[test]
fn every_defect_has_a_row_naming_its_catching_checks() {
    let r = readme();
    for &d in Defect::ALL {
        let prefix = format!("| `{}` |", d.name());
        let row = r.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("README has no row for defect {}", d.name()));
        let caught = row.rsplit('|').nth(1).unwrap_or_default();
        let listed: Vec<&str> = caught.split(',').map(|s| s.trim().trim_matches('`')).filter(|s| !s.is_empty()).collect();
        assert_eq!(listed, d.caught_by(), "README row for {}", d.name());
    }
}

#[test]
fn opens_with_the_two_commands() {
    let r = readme();
    let block: Vec<&str> = r.split("```").nth(1).unwrap_or_default().lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(block.len(), 3, "a sh fence with exactly two commands: {block:?}");
    assert!(block[1].starts_with("cargo run --release -- run"));
    assert!(block[2].starts_with("cargo test"));
}
