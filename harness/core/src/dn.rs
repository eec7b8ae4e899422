//! Distinguished names for `tls_client_auth` (RFC 8705 §2.1.2): print an X.509 name as an
//! RFC 4514 string, parse such a string, and compare two names as names — attribute by
//! attribute, types and values normalised (RFC 4517 caseIgnoreMatch: case folded, insignificant
//! spaces removed), so that RDN order and string escaping never decide a match.

use x509_parser::x509::X509Name;

/// Short names RFC 4514 §3 requires to be recognised, plus the common extras.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.6", "C"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("1.2.840.113549.1.9.1", "EMAILADDRESS"),
    ("2.5.4.97", "ORGANIZATIONIDENTIFIER"),
];

fn short_name(oid: &str) -> Option<&'static str> {
    SHORT_NAMES.iter().find(|(o, _)| *o == oid).map(|(_, n)| *n)
}

fn oid_for(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    let upper = match upper.as_str() {
        "E" | "EMAIL" => "EMAILADDRESS",
        "S" => "ST",
        other => other,
    }
    .to_string();
    SHORT_NAMES.iter().find(|(_, n)| *n == upper).map(|(o, _)| *o)
}

/// RFC 4514 §2.4 escaping of an attribute value.
fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special =
            matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\') || (i == 0 && (c == ' ' || c == '#')) || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
        } else {
            if special {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Print a name per RFC 4514 §2: RDNs in reverse of their DER order, `,` between RDNs,
/// `+` inside a multi-valued RDN, short names where known, dotted OIDs otherwise.
pub fn to_rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let ty = short_name(&oid).map(str::to_string).unwrap_or(oid);
                    let value = match atv.as_str() {
                        Ok(s) => escape_value(s),
                        Err(_) => format!("#{}", hex(atv.attr_value().data)),
                    };
                    format!("{ty}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One attribute of a parsed name: type as dotted OID, value normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Attr {
    pub(crate) oid: String,
    pub(crate) value: String,
}

/// A string that is not an RFC 4514 distinguished name.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("not an RFC 4514 distinguished name ({reason}): {input}")]
pub struct DnParseError {
    pub(crate) input: String,
    pub(crate) reason: &'static str,
}

/// RFC 4517 §4.2.11 caseIgnoreMatch preparation, simplified to what certificates carry:
/// case folded, leading/trailing space removed, inner runs of space collapsed.
fn normalise_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Parse an RFC 4514 string into its attributes (a set: RDN order is not significant here).
pub fn parse(input: &str) -> Result<Vec<Attr>, DnParseError> {
    let err = |reason| DnParseError { input: input.to_string(), reason };
    let mut attrs = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        // attribute type
        let mut ty = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            ty.push(c);
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(err("missing '='"));
        }
        let ty = ty.trim();
        if ty.is_empty() {
            return Err(err("empty attribute type"));
        }
        let oid = if ty.chars().all(|c| c.is_ascii_digit() || c == '.') {
            ty.to_string()
        } else {
            oid_for(ty).ok_or_else(|| err("unknown attribute type"))?.to_string()
        };
        // attribute value, with RFC 4514 §3 escapes
        let mut value = Vec::<u8>::new();
        let mut end = None;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let a = chars.next().ok_or_else(|| err("dangling escape"))?;
                    if a.is_ascii_hexdigit() {
                        let b = chars.next().filter(|b| b.is_ascii_hexdigit()).ok_or_else(|| err("bad hex escape"))?;
                        let byte = u8::from_str_radix(&format!("{a}{b}"), 16).map_err(|_| err("bad hex escape"))?;
                        value.push(byte);
                    } else {
                        let mut buf = [0u8; 4];
                        value.extend_from_slice(a.encode_utf8(&mut buf).as_bytes());
                    }
                }
                ',' | ';' | '+' => {
                    end = Some(c);
                    break;
                }
                other => {
                    let mut buf = [0u8; 4];
                    value.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        let value = String::from_utf8(value).map_err(|_| err("value is not UTF-8"))?;
        attrs.push(Attr { oid, value: normalise_value(&value) });
        if end.is_none() {
            break;
        }
        // allow ", " between RDNs, as many tools print
        while chars.peek() == Some(&' ') {
            chars.next();
        }
    }
    Ok(attrs)
}

/// Whether two RFC 4514 strings denote the same name: the same attributes, each type and
/// value normalised, in any order (RFC 8705 §2.1.2; DESIGN: order and escaping never decide).
pub fn same_name(a: &str, b: &str) -> Result<bool, DnParseError> {
    let mut x = parse(a)?;
    let mut y = parse(b)?;
    x.sort();
    y.sort();
    Ok(x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_case_spacing_and_escaping_do_not_decide() {
        let reg = "CN=tpp-client-001,OU=Payments,O=Example Fintech Ltd,C=AE";
        assert!(same_name(reg, "C=AE, O=Example Fintech Ltd, OU=Payments, CN=tpp-client-001").unwrap());
        assert!(same_name(reg, "cn=TPP-Client-001,ou=payments,o=Example  Fintech Ltd,c=ae").unwrap());
        assert!(same_name(reg, "CN=tpp\\2dclient-001,OU=Payments,O=Example Fintech Ltd,C=AE").unwrap());
        assert!(same_name(reg, "2.5.4.3=tpp-client-001,OU=Payments,O=Example Fintech Ltd,C=AE").unwrap());
    }

    #[test]
    fn different_names_do_not_match() {
        let reg = "CN=tpp-client-001,OU=Payments,O=Example Fintech Ltd,C=AE";
        assert!(!same_name(reg, "CN=tpp-client-002,OU=Payments,O=Example Fintech Ltd,C=AE").unwrap());
        assert!(!same_name(reg, "CN=tpp-client-001,O=Example Fintech Ltd,C=AE").unwrap(), "missing OU");
        assert!(!same_name(reg, "CN=tpp-client-001,OU=Payments,O=Example Fintech Ltd,C=AE,L=Dubai").unwrap());
        // a comma inside a value is not an RDN separator
        assert!(!same_name("CN=a\\,b", "CN=a,CN=b").unwrap());
    }

    #[test]
    fn escapes_round_trip() {
        assert_eq!(escape_value("a,b"), "a\\,b");
        assert_eq!(escape_value(" lead"), "\\ lead");
        assert_eq!(escape_value("#x"), "\\#x");
        assert_eq!(parse("CN=a\\,b").unwrap(), vec![Attr { oid: "2.5.4.3".into(), value: "a,b".into() }]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse("no equals sign").is_err());
        assert!(parse("XX=unknown").is_err());
        assert!(parse("CN=bad\\").is_err());
    }
}
