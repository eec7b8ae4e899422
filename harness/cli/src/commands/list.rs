//! `mtls-harness list`: scenarios, the check catalogue, the planted defects.

use mtls_harness::checks::CATALOGUE;
use mtls_harness::{mock, scenario};

pub(crate) fn list(dir: &std::path::Path) -> anyhow::Result<u8> {
    let scenarios = scenario::load_dir(dir)?;
    println!("scenarios:");
    for s in &scenarios {
        let defects: Vec<&str> = s.mock.defects.iter().map(|d| d.name()).collect();
        println!(
            "  {:<28} {:<10} {:<40} {}",
            s.id,
            s.discovery.shape.name(),
            s.title,
            if defects.is_empty() { String::new() } else { format!("defects: {}", defects.join(", ")) }
        );
    }
    println!("\nchecks:");
    for c in CATALOGUE {
        println!("  {:<24} {:<12} {:<5} {}", c.id, c.rfc, format!("{:?}", c.level).to_uppercase(), c.title);
    }
    println!("\nplanted defects:");
    for d in mock::Defect::ALL {
        println!("  {}", d.name());
    }
    Ok(0)
}
