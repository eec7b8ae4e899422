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

/// A profile's `tls:` rules, one line each.
fn tls_lines(t: &mtls_harness::tls_policy::TlsPolicy) {
    if let Some(c) = &t.prefer_tls13 {
        println!("  tls      {:<28} {}", "prefer_tls13", c.citation);
    }
    if let Some(s) = &t.tls12_suites {
        let except = if s.except.is_empty() { String::new() } else { format!(" (except {})", s.except.join(", ")) };
        println!("  tls      {:<28} {}{except} — {}", "tls12_suites", s.only.join(", "), s.citation);
    }
    if let Some(r) = &t.renegotiation {
        let what = if r.refused { "indication, and refused" } else { "indication" };
        println!("  tls      {:<28} {what} — {}", "renegotiation", r.citation);
    }
    if let Some(c) = &t.extended_master_secret {
        println!("  tls      {:<28} {}", "extended_master_secret", c.citation);
    }
    if let Some(c) = &t.cert_request {
        println!(
            "  tls      {:<28} required: {}; forbidden: {} — {}",
            "cert_request",
            c.required.join(", "),
            c.forbidden.join(", "),
            c.citation
        );
    }
}

/// `list --profiles`: every profile with its sources, required checks, levels and rules.
pub(crate) fn profiles(extra: Option<&std::path::Path>) -> anyhow::Result<u8> {
    for p in mtls_harness::profile::available(extra)? {
        println!("{} — {} ({})", p.id.0, p.title, p.version);
        for s in &p.sources {
            println!("  source   {} <{}>", s.name, s.url);
        }
        for r in &p.required {
            println!("  requires {:<28} {}", r.name(), r.citation.0);
        }
        for l in &p.levels {
            println!("  level    {:<28} {:<5} {}", l.check.0, format!("{:?}", l.level).to_lowercase(), l.citation.0);
        }
        for r in &p.rules {
            let dates = match (r.effective_from, r.effective_until) {
                (Some(f), Some(u)) => format!(" [{f} – {u}]"),
                (Some(f), None) => format!(" [from {f}]"),
                (None, Some(u)) => format!(" [until {u}]"),
                (None, None) => String::new(),
            };
            println!("  rule     {:<28} {:<5} {} — {}{dates}", r.id.0, format!("{:?}", r.level).to_lowercase(), r.title, r.citation.0);
        }
        if let Some(t) = &p.tls {
            tls_lines(t);
        }
        println!();
    }
    Ok(0)
}
