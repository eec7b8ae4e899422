//! The report's pictures, inline SVG (no script, no network, printable): the endpoint map of a
//! target (RFC 8705 §5: which origin serves each endpoint, alias or top level, and whether it
//! asks for a client certificate), a client's journey (its requests in order, the failing ones
//! marked) and the verdict at a glance (every check a cell, grouped by requirement, linking to
//! its row).

use std::fmt::Write as _;

use serde_json::Value;

use mtls_core::results::{CheckResult, ScenarioResult, Status};

/// Text for SVG/HTML content and attributes.
fn esc(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn colour(s: Status) -> &'static str {
    match s {
        Status::Pass => "#1a7f37",
        Status::Fail => "#cf222e",
        Status::Warn => "#9a6700",
        Status::Skip => "#6e7781",
        Status::Blocked => "#bc4c00",
        Status::Error => "#8250df",
    }
}

fn origin_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| url.to_string())
}

/// The anchor of a check's row.
pub(crate) fn row_id(scenario: &str, check: &str) -> String {
    format!("check-{}-{}", scenario.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"), check.replace('.', "_"))
}

/// The endpoint map of `s`: origins as boxes (marked by whether the TLS server asks for a client
/// certificate, from `tls.cert-request.required`'s probes), each endpoint an arrow to the box
/// serving its effective URL (solid: alias; plain: top level) and, for an alias, a dashed arrow
/// to its top-level twin. `None` without a target or endpoints.
pub(crate) fn endpoint_map(s: &ScenarioResult) -> Option<String> {
    let t = s.target.as_ref()?;
    if t.endpoints.is_empty() {
        return None;
    }
    let probes: Vec<(String, bool)> = s
        .checks
        .iter()
        .find(|c| c.id == "tls.cert-request.required")
        .and_then(|c| c.details.as_ref())
        .and_then(|d| d.get("probes"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter().filter_map(|p| Some((p.get("origin")?.as_str()?.to_string(), p.get("certificate_requested")?.as_bool()?))).collect()
        })
        .unwrap_or_default();
    // Aliases the resolution did not use (an aliased authorization_endpoint, an unknown key):
    // drawn in red, what makes a malformed document visibly different.
    let ignored: Vec<(String, String)> = s
        .checks
        .iter()
        .find(|c| c.id == "disc.aliases.object")
        .and_then(|c| c.details.as_ref())
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !t.endpoints.iter().any(|e| e.key == k.as_str()))
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut origins: Vec<String> = vec![origin_of(&t.issuer)];
    for e in &t.endpoints {
        for u in std::iter::once(e.url.to_string()).chain(e.top_level.clone()) {
            let o = origin_of(&u);
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
    }
    for (_, u) in &ignored {
        let o = origin_of(u);
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    let row = 30;
    let top = 44;
    let rows = t.endpoints.len() + ignored.len();
    let height = top + (rows.max(origins.len() * 2) as i32) * row + 20;
    let (left_w, box_x, box_w) = (300, 560, 330);
    let box_h = 2 * row - 12;
    let box_y = |i: usize| top + (i as i32) * 2 * row;
    let mut svg = String::new();
    let shape = t.shape_observed.unwrap_or("unknown");
    let _ = write!(
        svg,
        r#"<svg class="endpoint-map" data-shape="{shape}" role="img" xmlns="http://www.w3.org/2000/svg" width="900" height="{height}" viewBox="0 0 900 {height}" font-family="system-ui, sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<title>Endpoint map, shape {shape}</title>"#);
    let _ = write!(
        svg,
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>"##
    );
    let _ = write!(svg, r#"<text x="8" y="18" font-weight="600" font-size="13">Endpoint map — shape {shape}</text>"#);
    let _ = write!(
        svg,
        r##"<text x="8" y="34" fill="#59636e">endpoint (→ alias, ⇢ its top-level twin)</text><text x="{box_x}" y="34" fill="#59636e">origin (TLS server)</text>"##
    );
    for (i, o) in origins.iter().enumerate() {
        let asked = probes.iter().find(|(p, _)| p == o).map(|(_, a)| *a);
        let (stroke, label) = match asked {
            Some(true) => ("#1a7f37", "requests a client certificate"),
            Some(false) => ("#6e7781", "requests no client certificate"),
            None => ("#8c959f", "not probed"),
        };
        let y = box_y(i);
        let _ = write!(
            svg,
            r##"<g class="origin" data-origin="{o}" data-requests-cert="{req}"><rect x="{box_x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="#f6f8fa" stroke="{stroke}" stroke-width="2"{dash}/><text x="{tx}" y="{ty1}" font-family="ui-monospace, monospace">{o}</text><text x="{tx}" y="{ty2}" fill="{stroke}">{label}</text></g>"##,
            o = esc(o),
            req = asked.map(|a| a.to_string()).unwrap_or_else(|| "unknown".into()),
            dash = if asked == Some(false) { r#" stroke-dasharray="4 3""# } else { "" },
            tx = box_x + 10,
            ty1 = y + 20,
            ty2 = y + 38,
        );
    }
    for (i, e) in t.endpoints.iter().enumerate() {
        let y = top + (i as i32) * row + row / 2;
        let alias = e.source == mtls_core::discovery::Source::Alias;
        let _ = write!(
            svg,
            r#"<g class="endpoint" data-key="{k}" data-source="{src}"><text x="8" y="{ty}">{k}</text>"#,
            k = esc(e.key),
            src = if alias { "alias" } else { "top-level" },
            ty = y + 4
        );
        let target = |url: &str| origins.iter().position(|o| *o == origin_of(url)).unwrap_or(0);
        let to = box_y(target(e.url.as_str())) + box_h / 2;
        let _ = write!(
            svg,
            r##"<path d="M{x0},{y} C{c1},{y} {c2},{to} {x1},{to}" fill="none" stroke="{c}" stroke-width="{w}" marker-end="url(#arrow)"/>"##,
            x0 = left_w - 20,
            c1 = left_w + 80,
            c2 = box_x - 80,
            x1 = box_x - 2,
            c = if alias { "#0969da" } else { "#57606a" },
            w = if alias { "2" } else { "1.5" },
        );
        if alias {
            if let Some(top_url) = &e.top_level {
                let to2 = box_y(target(top_url)) + box_h / 2 + 8;
                let _ = write!(
                    svg,
                    r##"<path d="M{x0},{y2} C{c1},{y2} {c2},{to2} {x1},{to2}" fill="none" stroke="#8c959f" stroke-dasharray="5 4" marker-end="url(#arrow)"/>"##,
                    x0 = left_w - 20,
                    y2 = y + 4,
                    c1 = left_w + 80,
                    c2 = box_x - 80,
                    x1 = box_x - 2,
                );
            }
        }
        svg.push_str("</g>");
    }
    for (j, (key, url)) in ignored.iter().enumerate() {
        let y = top + ((t.endpoints.len() + j) as i32) * row + row / 2;
        let to = box_y(origins.iter().position(|o| *o == origin_of(url)).unwrap_or(0)) + box_h / 2 - 8;
        let _ = write!(
            svg,
            r##"<g class="ignored-alias" data-key="{k}"><text x="8" y="{ty}" fill="#cf222e">{k} (alias ignored)</text><path d="M{x0},{y} C{c1},{y} {c2},{to} {x1},{to}" fill="none" stroke="#cf222e" stroke-width="2" stroke-dasharray="2 3" marker-end="url(#arrow)"/></g>"##,
            k = esc(key),
            ty = y + 4,
            x0 = left_w - 20,
            c1 = left_w + 80,
            c2 = box_x - 80,
            x1 = box_x - 2,
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// The journey of a client (client and observe mode): its requests in order as a sequence
/// diagram — the client on the left, each listener a lifeline — with the requests a failing
/// check cites marked. From `client.discovery`'s details; `None` without them.
pub(crate) fn journey(s: &ScenarioResult) -> Option<String> {
    let steps = s.checks.iter().find(|c| c.id == "client.discovery")?.details.as_ref()?.get("journey")?.as_array()?.clone();
    if steps.is_empty() {
        return None;
    }
    let failing: Vec<String> =
        s.checks.iter().filter(|c| c.status == Status::Fail).flat_map(|c| c.evidence.iter().map(|e| e.request.clone())).collect();
    let mut lanes: Vec<String> = Vec::new();
    for st in &steps {
        let l = st.get("listener").and_then(Value::as_str).unwrap_or("?").to_string();
        if !lanes.contains(&l) {
            lanes.push(l);
        }
    }
    let lane_x = |i: usize| 260 + (i as i32) * 260;
    let width = lane_x(lanes.len()) + 20;
    let row = 34;
    let top = 60;
    let height = top + (steps.len() as i32) * row + 20;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="journey" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="12">"#
    );
    svg.push_str("<title>The client's journey</title>");
    let _ = write!(
        svg,
        r##"<defs><marker id="jarrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>"##
    );
    let _ =
        write!(svg, r##"<text x="8" y="18" font-weight="600" font-size="13">The client's journey ({} request(s))</text>"##, steps.len());
    let _ = write!(
        svg,
        r##"<text x="40" y="44" font-weight="600">client</text><line x1="60" y1="50" x2="60" y2="{h}" stroke="#d0d7de"/>"##,
        h = height - 10
    );
    for (i, l) in lanes.iter().enumerate() {
        let x = lane_x(i);
        let _ = write!(
            svg,
            r##"<text x="{tx}" y="44" font-family="ui-monospace, monospace" text-anchor="middle">{l}</text><line x1="{x}" y1="50" x2="{x}" y2="{h}" stroke="#d0d7de"/>"##,
            tx = x,
            l = esc(l),
            h = height - 10
        );
    }
    for (i, st) in steps.iter().enumerate() {
        let get = |k: &str| st.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let request = get("request");
        let lane = lanes.iter().position(|l| *l == get("listener")).unwrap_or(0);
        let y = top + (i as i32) * row + 12;
        let bad = failing.contains(&request);
        let status = st.get("status").and_then(Value::as_u64).unwrap_or(0);
        let cert = match (st.get("cert").and_then(Value::as_str), st.get("cert_requested").and_then(Value::as_bool)) {
            (Some(_), _) => "certificate",
            (None, Some(true)) => "NO certificate",
            _ => "no certificate (not asked)",
        };
        let error = st.get("error").and_then(Value::as_str).map(|e| format!(" {e}")).unwrap_or_default();
        let colour = if bad { "#cf222e" } else { "#57606a" };
        let _ = write!(
            svg,
            r##"<g class="step{cls}" data-request="{rq}" data-status="{status}"><line x1="60" y1="{y}" x2="{x}" y2="{y}" stroke="{colour}" stroke-width="{w}" marker-end="url(#jarrow)"/><text x="70" y="{ty}" fill="{colour}">{n}. {m} {p} · {cert} → {status}{err}</text></g>"##,
            cls = if bad { " failing" } else { "" },
            rq = esc(&request),
            x = lane_x(lane) - 2,
            w = if bad { 2.5 } else { 1.2 },
            ty = y - 4,
            n = i + 1,
            m = esc(&get("method")),
            p = esc(&get("path")),
            err = esc(&error),
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// Every check of the run a cell, grouped by requirement and coloured by status, each linking to
/// its row: the verdict at a glance.
pub(crate) fn verdict_grid(groups: &[(String, Vec<(&str, &CheckResult)>)]) -> String {
    let cell = 14;
    let per_row = 40;
    let label_w = 440;
    let mut y = 30;
    let mut body = String::new();
    for (req, checks) in groups {
        let rows = checks.len().div_ceil(per_row).max(1) as i32;
        // Long requirement titles are cut to the label column (the row's title has them whole).
        let shown: String = if req.chars().count() > 62 { format!("{}…", req.chars().take(61).collect::<String>()) } else { req.clone() };
        let _ = write!(
            body,
            r##"<text x="8" y="{ty}" fill="#1f2328"><title>{r}</title>{sh} ({n})</text>"##,
            ty = y + 11,
            r = esc(req),
            sh = esc(&shown),
            n = checks.len()
        );
        for (i, (scenario, c)) in checks.iter().enumerate() {
            let (cx, cy) = (label_w + (i % per_row) as i32 * (cell + 2), y + (i / per_row) as i32 * (cell + 2));
            let _ = write!(
                body,
                r##"<a href="#{href}"><rect class="cell" data-status="{st}" x="{cx}" y="{cy}" width="{cell}" height="{cell}" rx="2" fill="{fill}"><title>{sc}::{id} — {st}</title></rect></a>"##,
                href = row_id(scenario, c.id),
                st = c.status.name(),
                fill = colour(c.status),
                sc = esc(scenario),
                id = esc(c.id),
            );
        }
        y += rows * (cell + 2) + 8;
    }
    let width = label_w + per_row as i32 * (cell + 2) + 10;
    format!(
        r##"<svg class="verdict-grid" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" font-family="system-ui, sans-serif" font-size="12"><title>Verdict at a glance</title><text x="8" y="16" font-weight="600" font-size="13">Verdict at a glance: every check, by requirement (click a cell for its row)</text>{body}</svg>"##,
        h = y + 4
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(esc("<a href=\"x\">&\u{7}"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
