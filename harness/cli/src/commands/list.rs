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

/// The level `check` is judged at under `p`: the profile's own (`levels:`), else the catalogue's.
fn check_level(p: &mtls_harness::profile::Profile, check: &str) -> String {
    if let Some(l) = p.level_of(check) {
        return format!("{:?}", l.level).to_lowercase();
    }
    match CATALOGUE.iter().find(|c| c.id == check).map(|c| c.level) {
        Some(mtls_harness::results::Level::Must) => "fail".into(),
        Some(mtls_harness::results::Level::Should) => "warn".into(),
        Some(mtls_harness::results::Level::Info) => "info".into(),
        None => "?".into(),
    }
}

/// A profile's `tls:` rules, one line each: the rule, the level of the check that judges it under
/// this profile, what it asks and its clause.
fn tls_lines(p: &mtls_harness::profile::Profile, t: &mtls_harness::tls_policy::TlsPolicy) {
    let line = |name: &str, check: &str, what: &str, citation: &str| {
        let what = if what.is_empty() { String::new() } else { format!("{what} — ") };
        println!("  tls      {name:<28} {:<5} {what}{citation} [{check}]", check_level(p, check));
    };
    if let Some(c) = &t.prefer_tls13 {
        line("prefer_tls13", "tls.version.prefers-13", "", &c.citation);
    }
    if let Some(s) = &t.tls12_suites {
        let except = if s.except.is_empty() { String::new() } else { format!(" (except {})", s.except.join(", ")) };
        if !s.only.is_empty() {
            line("tls12_suites", "tls.ciphers.tls12", &format!("{}{except}", s.only.join(", ")), &s.citation);
        }
        if !s.accepts.is_empty() {
            line("tls12_suites.accepts", "tls.ciphers.required", &format!("{}{except}", s.accepts.join(", ")), &s.citation);
        }
    }
    if let Some(k) = &t.key_sizes {
        let bits = |what: &str, v: Option<u32>| v.map(|b| format!("{what} ≥ {b}"));
        let server: Vec<String> = [bits("RSA", k.rsa), bits("EC", k.ec)].into_iter().flatten().collect();
        if !server.is_empty() {
            line("key_sizes", "tls.key-size.server", &format!("{} bits", server.join(", ")), &k.citation);
        }
        if let Some(d) = bits("DHE", k.dhe) {
            line("key_sizes", "tls.key-size.dhe", &format!("{d} bits"), &k.citation);
        }
    }
    if let Some(r) = &t.renegotiation {
        let what = if r.refused { "indication, and refused" } else { "indication" };
        line("renegotiation", "tls.renegotiation", what, &r.citation);
    }
    if let Some(c) = &t.extended_master_secret {
        line("extended_master_secret", "tls.ems", "", &c.citation);
    }
    if let Some(c) = &t.cert_request {
        if !c.required.is_empty() {
            line("cert_request.required", "tls.cert-request.required", &c.required.join(", "), &c.citation);
        }
        if !c.forbidden.is_empty() {
            line("cert_request.forbidden", "tls.cert-request.forbidden", &c.forbidden.join(", "), &c.citation);
        }
    }
}

/// `list --profiles`: every profile with its sources, then every rule with its level and clause:
/// required checks (`fail`: each must be judged and pass), the levels it sets, its own rules and
/// its TLS rules (at the level of the check that judges them).
pub(crate) fn profiles(extra: Option<&std::path::Path>) -> anyhow::Result<u8> {
    for p in mtls_harness::profile::available(extra)? {
        println!("{} — {} ({})", p.id.0, p.title, p.version);
        for s in &p.sources {
            println!("  source   {} <{}>", s.name, s.url);
        }
        let bound = if p.bound_tokens { "required (disc.bound-flag needs true)" } else { "not required" };
        println!("  bound    {:<28} {bound}", "bound_tokens");
        for r in &p.required {
            println!("  requires {:<28} {:<5} {}", r.name(), "fail", r.citation.0);
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
            tls_lines(&p, t);
        }
        println!();
    }
    Ok(0)
}
