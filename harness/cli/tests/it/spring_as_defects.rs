//! Spring Authorization Server (`spring_as.rs`) as stock Spring decides the client authentication
//! method — by the length of the presented chain (deviation 1) — with the compact PKI: the
//! registered client sending its leaf with `ca.pem` passes; sending the leaf alone, as TLS allows,
//! it is refused. Then each planted defect (`PEER_DEFECT`): verdict `fail`, exactly its checks
//! failing and exactly their dependents blocked, nothing erroring, every other check as for the
//! conformant peer. All configurations of a test at once, bounded by the JVMs allowed at a time.

use mtls_harness::checks::Status;
use mtls_harness::pki::PkiStyle;

use crate::common::departures;
use crate::spring_as::{expected, run_config, Config};

/// Stock Spring (method by chain length), compact PKI, JWT access tokens, in `mode`.
fn stock(mode: &'static str, defect: Option<&'static str>) -> Config {
    Config { mode, format: "jwt", method: "chain_length", defect, style: PkiStyle::Compact }
}

/// What a configuration is expected to end in: the checks failing and blocked (reason words
/// empty: their status is what the defect decides), the verdict.
struct Case {
    cfg: Config,
    cert: &'static str,
    fail: &'static [&'static str],
    blocked: &'static [&'static str],
    /// Other checks the defect changes, with words of their reason.
    other: &'static [(&'static str, Status, &'static str)],
    verdict: &'static str,
}

/// Every configuration at once; every departure of every one in one failure message.
async fn judge(cases: Vec<Case>) {
    let mut runs = tokio::task::JoinSet::new();
    for c in cases {
        runs.spawn(async move { (run_config(c.cfg, c.cert).await, c) });
    }
    let mut wrong = Vec::new();
    while let Some(r) = runs.join_next().await {
        let (Some(got), c) = r.unwrap() else { return };
        let decided: Vec<&str> = c.fail.iter().chain(c.blocked).copied().chain(c.other.iter().map(|o| o.0)).collect();
        let mut want = expected(c.cfg);
        want.retain(|(id, _, _)| !decided.contains(id));
        want.extend(c.fail.iter().map(|id| (*id, Status::Fail, "")));
        want.extend(c.blocked.iter().map(|id| (*id, Status::Blocked, "")));
        want.extend(c.other.iter().copied());
        wrong.extend(departures(&c.cfg.label(), &got, &want, c.verdict));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What needs a token of the registered client (`auth.pki.accept`).
const NEEDS_PKI_TOKEN: [&str; 16] = [
    "abuse.revoke-other-client",
    "auth.pki.no-cert",
    "auth.pki.other-subject",
    "auth.pki.rogue-ca",
    "auth.pki.expired",
    "bind.token-cnf",
    "introspect.active",
    "bind.introspection-cnf",
    "bind.rs.same-cert",
    "bind.rs.other-cert",
    "bind.rs.no-cert",
    "par.alias",
    "revoke.alias",
    "edge.client-auth-header-spoof",
    "edge.rs-header-spoof",
    "session.resumed-token-bound",
];

/// Deviation 1: stock Spring takes a one-certificate chain for `self_signed_tls_client_auth`.
/// The leaf with its CA: `tls_client_auth`, everything as with the method by registration. The
/// leaf alone (a correct TLS client of a CA that issues leaves directly): `401 invalid_client`,
/// `auth.pki.accept` fails and what needs its token is blocked — Spring's refusal, not the
/// target file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_as_stock_method_by_chain_length() {
    let mut leaf_alone: Vec<&str> = NEEDS_PKI_TOKEN.to_vec();
    leaf_alone.extend(["session.resume-other-identity"]);
    judge(vec![
        Case { cfg: stock("identical", None), cert: "registered-chain.pem", fail: &[], blocked: &[], other: &[], verdict: "pass" },
        Case {
            cfg: stock("split", None),
            cert: "registered.pem",
            fail: &["auth.pki.accept"],
            blocked: Vec::leak(leaf_alone),
            other: &[],
            verdict: "fail",
        },
    ])
    .await;
}

/// The planted defects, stock method, the registered leaf sent with its CA. The harness sends
/// its impostor certificates (other subject, rogue CA, expired) with a chain shaped like the
/// registered one's, so stock Spring judges them as `tls_client_auth` too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_as_planted_defects() {
    let chain = "registered-chain.pem";
    let alias_blocked: &[&str] = Vec::leak(
        NEEDS_PKI_TOKEN
            .iter()
            .copied()
            .chain([
                "auth.self.other",
                "bind.other-auth",
                "bind.refresh-public",
                "edge.binding-follows-tls",
                "auth.jwt.bad-signature",
                "auth.jwt.aud-wrong",
                "auth.jwt.aud-endpoint",
                "auth.jwt.aud-array",
                "auth.jwt.replay",
                "auth.jwt.no-cert",
                "bind.jwt-client",
                "session.resume-other-identity",
            ])
            .collect(),
    );
    let alias_fail: &[&str] = &["tls.cert-request.required", "auth.pki.accept", "auth.self.accept", "auth.jwt.accept"];
    judge(vec![
        Case {
            cfg: stock("identical", Some("no_binding")),
            cert: chain,
            fail: &["bind.token-cnf", "bind.introspection-cnf", "bind.rs.other-cert", "bind.rs.no-cert", "bind.jwt-client"],
            blocked: &["edge.binding-follows-tls", "edge.rs-header-spoof", "session.resumed-token-bound"],
            // The JWT client no longer asks for bound tokens, so the peer issues it one without
            // a certificate too: RFC 8705 §3 makes binding a SHOULD there. Likewise the secret
            // client's unbound token: no profile is selected (rfc8705 does not require bound
            // tokens, §3.3) and the client is not registered for them.
            other: &[("auth.jwt.no-cert", Status::Warn, "cannot be bound"), ("bind.other-auth", Status::Warn, "no cnf claim")],
            verdict: "fail",
        },
        Case {
            cfg: stock("identical", Some("subject_not_checked")),
            cert: chain,
            fail: &["auth.pki.other-subject"],
            blocked: &[],
            other: &[],
            verdict: "fail",
        },
        Case {
            cfg: stock("identical", Some("chain_not_checked")),
            cert: chain,
            fail: &["auth.pki.rogue-ca", "auth.pki.expired"],
            blocked: &[],
            other: &[],
            verdict: "fail",
        },
        Case {
            cfg: stock("identical", Some("rs_ignores_binding")),
            cert: chain,
            fail: &["bind.rs.other-cert", "bind.rs.no-cert"],
            blocked: &["edge.rs-header-spoof"],
            other: &[],
            verdict: "fail",
        },
        Case {
            cfg: stock("identical", Some("self_signed_any_cert")),
            cert: chain,
            fail: &["auth.self.other"],
            blocked: &[],
            other: &[],
            verdict: "fail",
        },
        Case {
            cfg: stock("identical", Some("alias_no_cert_request")),
            cert: chain,
            fail: alias_fail,
            blocked: alias_blocked,
            other: &[],
            verdict: "fail",
        },
        Case {
            cfg: stock("split", Some("alias_no_cert_request")),
            cert: chain,
            fail: alias_fail,
            blocked: alias_blocked,
            other: &[],
            verdict: "fail",
        },
    ])
    .await;
}
