//! The spoofing requests of the `edge.*` checks, shaped to be delivered: every header of the
//! forwarded-certificate catalogue (`mtls_core::forwarded`) with names exactly as spelled, plus
//! their lower-case forms, in requests that fit what real servers accept at their package
//! defaults — and what counts as a request refused for its size.

use mtls_core::forwarded::Catalogue;

use crate::http::{Exchange, Failure};

/// The longest field line sent (name, `: `, value): Apache's `LimitRequestFieldSize` default
/// 8190 bytes; nginx's `large_client_header_buffers 4 8k` holds a line of 8 KiB.
pub(super) const FIELD_LINE_MAX: usize = 8190;
/// The largest request head sent (request line and every field line): Node's
/// `--max-http-header-size` default 16 KiB and HAProxy's `tune.bufsize` 16384 less its
/// `tune.maxrewrite` 1024, with room for what an edge adds on the way (below).
pub(super) const HEAD_MAX: usize = 14 * 1024;
/// What an edge in front of the origin may add to the head it forwards (its own certificate
/// header, `X-Forwarded-*`, `Via`), kept free.
const EDGE_RESERVE: usize = 1024;
/// The head of a request before any spoofed field: request line, `Host`, `User-Agent`,
/// `Accept`, `Content-Type`, `Content-Length`, `Connection` — at most this plus twice the URL.
const BASE_HEAD: usize = 256;

/// One request's header fields, and a label for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Spoof {
    pub(super) label: String,
    pub(super) headers: Vec<(String, String)>,
}

/// The bytes left for spoofed field lines in a request to `url` carrying `other` bytes of
/// other fields (an `Authorization` value). URLs up to 128 bytes count as 128: how the fields are
/// grouped — and so how many requests a sweep sends — does not change with a port's digits.
pub(super) fn budget(url: &str, other: usize) -> usize {
    HEAD_MAX.saturating_sub(EDGE_RESERVE + BASE_HEAD + 2 * url.len().max(128) + other)
}

/// What the `Authorization: Bearer` field of a resource request takes from the budget: the
/// token's length, at least 2048 bytes (the grouping does not change with one token's length).
pub(super) fn bearer_allowance(token: &str) -> usize {
    "Authorization: Bearer \r\n".len() + token.len().max(2048)
}

fn line_len((name, value): &(String, String)) -> usize {
    name.len() + 2 + value.len() + 2
}

/// `headers` in consecutive requests of at most `budget` bytes of field lines each, labelled
/// `label`, or `label (part k of n)` when there are several. A field longer than the budget or
/// than [`FIELD_LINE_MAX`] goes alone: a server refusing it for its size has refused only it.
pub(super) fn pack(label: &str, headers: Vec<(String, String)>, budget: usize) -> Vec<Spoof> {
    let mut groups: Vec<Vec<(String, String)>> = Vec::new();
    let mut used = 0;
    let mut alone = false;
    for h in headers {
        let len = line_len(&h);
        let oversized = len > FIELD_LINE_MAX;
        match groups.last_mut() {
            Some(g) if used + len <= budget && !oversized && !alone => g.push(h),
            _ => {
                groups.push(vec![h]);
                used = 0;
            }
        }
        used += len;
        alone = oversized;
    }
    let n = groups.len();
    groups
        .into_iter()
        .enumerate()
        .map(|(k, headers)| Spoof { label: if n == 1 { label.to_string() } else { format!("{label} (part {} of {n})", k + 1) }, headers })
        .collect()
}

/// Every spoof to try with the certificate `der` of `subject`, each request within `budget`
/// bytes of spoofed field lines: each catalogue header alone, as spelled; the lower-case forms
/// of the names that have capitals (origins that match names case-sensitively see only one of
/// the two); the underscore spellings and every other encoding of the common names, in groups;
/// the companions alone (verification flag, subject, fingerprint without any certificate); and
/// every header together, a duplicate field first left empty, in as few requests as fit.
pub(super) fn spoofs(c: &Catalogue, der: &[u8], subject: &str, budget: usize) -> Vec<Spoof> {
    let singles: Vec<(String, String)> = c.singles().into_iter().map(|(name, enc)| (name, enc.encode(der))).collect();
    let mut out: Vec<Spoof> = c
        .singles()
        .into_iter()
        .zip(&singles)
        .map(|((name, enc), h)| Spoof { label: format!("{name} ({})", enc.name()), headers: vec![h.clone()] })
        .collect();
    let lower: Vec<(String, String)> =
        singles.iter().filter(|(n, _)| n.to_ascii_lowercase() != *n).map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
    out.extend(pack("the lower-case spellings", lower, budget));
    for (label, group) in c.variants() {
        out.extend(pack(&label, group.into_iter().map(|(name, enc)| (name, enc.encode(der))).collect(), budget));
    }
    let companions: Vec<(String, String)> = c.companions.iter().map(|k| (k.name.clone(), k.value_for(subject, der))).collect();
    if !companions.is_empty() {
        out.extend(pack(COMPANIONS_ALONE, companions.clone(), budget));
    }
    let mut all: Vec<(String, String)> = Vec::new();
    if let Some(first) = c.headers.first() {
        all.push((first.name.clone(), String::new())); // a duplicate field: empty, then the certificate
    }
    all.extend(singles);
    all.extend(companions);
    out.extend(pack("every header at once, with companions", all, budget));
    out
}

/// The label of the request that carries the companions and no certificate.
pub(super) const COMPANIONS_ALONE: &str = "the verification companions alone";

/// Why `ex` was refused for its size, if it was: 431 (RFC 6585 §5), 413, nginx's 494, a 400
/// whose page says the head is too large (nginx "Request Header Or Cookie Too Large", Apache
/// "Size of a request header field exceeds server limit"), or a close without an answer after a
/// head larger than the smallest common limit (8 KiB). A spoof that was never delivered let
/// nothing through.
pub(super) fn refused_for_size(ex: &Exchange) -> Option<String> {
    match &ex.outcome {
        Ok(r) if matches!(r.status, 413 | 431 | 494) => Some(format!("refused for its size ({})", r.status)),
        Ok(r) if r.status == 400 && r.json.is_none() => {
            let page = String::from_utf8_lossy(&r.body).to_ascii_lowercase();
            ["too large", "too long", "exceeds server limit", "header field exceeds"]
                .iter()
                .any(|p| page.contains(p))
                .then(|| "refused for its size (400, the page says the request head is too large)".to_string())
        }
        Err(Failure::NoAnswer { head, .. }) if *head > 8 * 1024 => {
            Some(format!("refused for its size (the server closed the connection after a {head}-byte request head, without an answer)"))
        }
        _ => None,
    }
}

/// Whether `ex` may have been refused for the request's size: plainly so ([`refused_for_size`]),
/// a 400 page that is no OAuth answer (Tomcat's and Jetty's 8 KiB defaults answer a bare "400 Bad
/// Request"), or a close without an answer.
fn maybe_too_large(ex: &Exchange) -> bool {
    refused_for_size(ex).is_some()
        || matches!(&ex.outcome, Ok(r) if r.status == 400 && r.json.is_none())
        || matches!(&ex.outcome, Err(Failure::NoAnswer { .. }))
}

/// Send `spoof`'s fields with `send`. A group a server may have refused for its size is sent
/// again in halves, down to single fields: a server whose limit is smaller than the sweep assumes
/// (Tomcat's 8 KiB head) still gets every header delivered. Each final exchange, with its label.
pub(super) async fn deliver<F, Fut>(spoof: &Spoof, send: F) -> Vec<(String, Exchange)>
where
    F: Fn(Vec<(String, String)>) -> Fut,
    Fut: std::future::Future<Output = Exchange>,
{
    let mut out = Vec::new();
    let mut todo = vec![(spoof.label.clone(), spoof.headers.clone())];
    while let Some((label, headers)) = todo.pop() {
        let ex = send(headers.clone()).await;
        if headers.len() > 1 && maybe_too_large(&ex) {
            let (first, second) = headers.split_at(headers.len() / 2);
            todo.push((format!("{label}, second half"), second.to_vec()));
            todo.push((format!("{label}, first half"), first.to_vec()));
            continue;
        }
        out.push((label, ex));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtls_core::forwarded::Encoding;

    fn cat() -> Catalogue {
        Catalogue::builtin()
    }

    #[test]
    fn every_header_goes_out_as_spelled_and_in_lower_case() {
        let c = cat();
        let s = spoofs(&c, b"\x30\x00", "CN=x", 12_000);
        for (name, _) in c.singles() {
            assert!(s.iter().any(|x| x.headers.len() == 1 && x.headers[0].0 == name), "{name} alone, as spelled");
            let lower = name.to_ascii_lowercase();
            assert!(s.iter().any(|x| x.headers.iter().any(|(n, _)| *n == lower)), "{lower}");
        }
        assert!(s.iter().any(|x| x.headers == vec![("Client-Cert".to_string(), Encoding::Rfc9440.encode(b"\x30\x00"))]));
        let all: Vec<_> = s.iter().filter(|x| x.label.starts_with("every header at once")).collect();
        assert_eq!(all.len(), 1, "small certificates: one request");
        assert_eq!(all[0].headers[0].1, "", "a duplicate, empty field first");
        assert!(s.iter().any(|x| x.label == COMPANIONS_ALONE && x.headers.iter().any(|(_, v)| v == "SUCCESS")));
    }

    /// A certificate of an Open Finance size (2 KB DER, 2.8 KB as URL-encoded PEM): every request
    /// stays within the limits, and together they still carry every header × encoding.
    #[test]
    fn large_certificates_are_spread_over_requests_that_fit() {
        let c = cat();
        let der = vec![0x5a; 2048];
        let url = "https://bank.example/as/token.oauth2";
        let b = budget(url, 0);
        let s = spoofs(&c, &der, "CN=x", b);
        for x in &s {
            let lines: usize = x.headers.iter().map(line_len).sum();
            assert!(lines <= b || x.headers.len() == 1, "{}: {lines} > {b}", x.label);
            assert!(x.headers.iter().all(|h| line_len(h) <= FIELD_LINE_MAX), "{}", x.label);
            assert!(BASE_HEAD + 2 * url.len().max(128) + lines + EDGE_RESERVE <= HEAD_MAX, "{}", x.label);
        }
        let parts = s.iter().filter(|x| x.label.starts_with("every header at once")).count();
        assert!(parts > 1, "split: {parts}");
        assert!(s.iter().any(|x| x.label == format!("every header at once, with companions (part 1 of {parts})")));
        // Coverage: every (name, value) of the old single-request sweep is in some request.
        let sent: std::collections::HashSet<(String, String)> = s.iter().flat_map(|x| x.headers.clone()).collect();
        for (name, enc) in c.singles() {
            assert!(sent.contains(&(name.clone(), enc.encode(&der))), "{name}");
        }
        for (_, group) in c.variants() {
            for (name, enc) in group {
                assert!(sent.contains(&(name.clone(), enc.encode(&der))), "{name} {enc:?}");
            }
        }
    }

    /// The grouping does not move with a port's digits or a token's length (below the allowances).
    #[test]
    fn the_budget_is_stable_across_ports_and_token_lengths() {
        assert_eq!(budget("https://127.0.0.1:8443/token", 0), budget("https://127.0.0.1:44321/token", 0));
        assert_eq!(bearer_allowance(&"t".repeat(900)), bearer_allowance(&"t".repeat(901)));
        assert!(bearer_allowance(&"t".repeat(4000)) > bearer_allowance("t"), "a long token takes its length");
    }

    #[test]
    fn pack_keeps_order_and_puts_an_oversized_field_alone() {
        let h = |n: &str, len: usize| (n.to_string(), "v".repeat(len));
        let groups = pack("g", vec![h("A", 10), h("B", 10), h("C", 100), h("D", 10)], 40);
        let names: Vec<Vec<&str>> = groups.iter().map(|g| g.headers.iter().map(|(n, _)| n.as_str()).collect()).collect();
        assert_eq!(names, vec![vec!["A", "B"], vec!["C"], vec!["D"]]);
        let big = pack("g", vec![h("A", 10), h("B", FIELD_LINE_MAX), h("C", 10)], 20_000);
        assert_eq!(big.iter().map(|g| g.headers.len()).collect::<Vec<_>>(), vec![1, 1, 1], "a field over the line limit goes alone");
        assert_eq!(groups[2].label, "g (part 3 of 3)");
        assert_eq!(pack("g", vec![h("A", 1)], 40)[0].label, "g");
        assert!(pack("g", vec![], 40).is_empty());
    }

    /// A server with a 2-field limit answering a bare 400 page to more: the group is halved until
    /// every field is delivered, each final request labelled.
    #[tokio::test]
    async fn a_group_refused_as_too_large_is_sent_again_in_halves() {
        let page = |status: u16, body: &str| Exchange {
            evidence: Default::default(),
            location: None,
            set_cookies: Vec::new(),
            outcome: Ok(crate::http::Response {
                status,
                content_type: String::new(),
                body: body.as_bytes().to_vec(),
                json: serde_json::from_str(body).ok(),
                retry_after: None,
            }),
        };
        let sent = std::sync::Mutex::new(Vec::new());
        let spoof = Spoof { label: "g".into(), headers: (0..5).map(|i| (format!("H{i}"), "v".into())).collect() };
        let got = deliver(&spoof, |h| {
            sent.lock().unwrap().push(h.len());
            let too_big = h.len() > 2;
            async move {
                if too_big {
                    page(400, "<h1>HTTP Status 400 – Bad Request</h1>")
                } else {
                    page(401, "{\"error\":\"invalid_client\"}")
                }
            }
        })
        .await;
        assert_eq!(*sent.lock().unwrap(), vec![5, 2, 3, 1, 2]);
        let labels: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["g, first half", "g, second half, first half", "g, second half, second half"]);
        assert!(got.iter().all(|(_, ex)| ex.outcome.as_ref().is_ok_and(|r| r.status == 401)));
        // A single field's 400 page is judged as it is: there is nothing left to split.
        let one = Spoof { label: "one".into(), headers: vec![("H".into(), "v".into())] };
        assert_eq!(deliver(&one, |_| async { page(400, "bad") }).await.len(), 1);
    }

    #[test]
    fn size_refusals_are_recognised_and_nothing_else_is() {
        let ex = |outcome| Exchange { evidence: Default::default(), location: None, set_cookies: Vec::new(), outcome };
        let r = |status: u16, body: &str| {
            Ok(crate::http::Response {
                status,
                content_type: "text/html".into(),
                body: body.as_bytes().to_vec(),
                json: serde_json::from_str(body).ok(),
                retry_after: None,
            })
        };
        assert!(refused_for_size(&ex(r(431, ""))).is_some_and(|w| w.contains("(431)")));
        assert!(refused_for_size(&ex(r(494, ""))).is_some());
        assert!(refused_for_size(&ex(r(400, "<center>Request Header Or Cookie Too Large</center>"))).is_some());
        assert!(refused_for_size(&ex(r(400, "Size of a request header field exceeds server limit."))).is_some());
        assert!(refused_for_size(&ex(r(400, "{\"error\":\"invalid_client\"}"))).is_none());
        assert!(refused_for_size(&ex(r(400, "Bad request"))).is_none());
        assert!(refused_for_size(&ex(r(200, "{}"))).is_none());
        assert!(refused_for_size(&ex(Err(Failure::NoAnswer { head: 15_000, why: "closed".into() }))).is_some());
        assert!(
            refused_for_size(&ex(Err(Failure::NoAnswer { head: 900, why: "closed".into() }))).is_none(),
            "a small request closed is no size refusal"
        );
    }
}
