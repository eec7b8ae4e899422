//! `mtls-harness init`: read an AS and write a commented target file (see `mtls_harness::init`).

use anyhow::Context;
use mtls_harness::init::{self, InitInputs};

pub(crate) fn init(i: &InitInputs) -> anyhow::Result<u8> {
    if i.insecure {
        eprintln!(
            "WARNING: --insecure: the AS's server certificate is NOT verified while init reads it. What it finds may come from anyone on the path; give --ca for a run."
        );
    }
    // Refused before any request: init never replaces a file (or follows a link at that name).
    if std::fs::symlink_metadata(&i.out).is_ok() {
        anyhow::bail!("{} exists: init never overwrites a file; choose another --out or remove it", i.out.display());
    }
    let rt = super::runtime()?;
    let survey = rt.block_on(init::survey(i))?;
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let yaml = init::render(i, &survey, &today);
    mtls_harness::pki::write_new_file(&i.out, yaml.as_bytes(), false).with_context(|| format!("writing {}", i.out.display()))?;
    println!(
        "read {}: shape {}, {} endpoint(s), {} origin(s)",
        survey.discovery_url,
        survey.shape,
        survey.endpoints.len(),
        survey.origins.len()
    );
    for (o, asked) in &survey.origins {
        let what = match asked {
            Ok(true) => "asks for a client certificate".to_string(),
            Ok(false) => "asks for no client certificate".to_string(),
            Err(e) => format!("not probed: {e}"),
        };
        println!("  {o}: {what}");
    }
    println!("auth methods: {}", if survey.auth_methods.is_empty() { "(not published)".into() } else { survey.auth_methods.join(", ") });
    let todos: Vec<usize> =
        yaml.lines().enumerate().filter(|(_, l)| l.split('#').next().unwrap_or_default().contains("TODO")).map(|(n, _)| n + 1).collect();
    println!("wrote {}", i.out.display());
    let out = i.out.display();
    if !todos.is_empty() {
        let lines: Vec<String> = todos.iter().map(|n| n.to_string()).collect();
        println!("next: fill in the TODO on line(s) {} of {out}, then: mtls-harness check-target {out}", lines.join(", "));
        return Ok(0);
    }
    // Nothing left to fill: the file's first contact, at once; init exits as check-target would
    // (0 ready; the file is written either way).
    println!("nothing left to fill; checking it:");
    let tf = mtls_harness::live::TargetFile::load(&i.out)?;
    tf.parts(i.insecure, &mtls_harness::redact::Secrets::new())?;
    let cfg = mtls_harness::run::RunConfig::default();
    let pre = rt.block_on(mtls_harness::preflight::check_target(tf, i.insecure, &cfg));
    Ok(super::check_target::show(&i.out, &pre))
}
