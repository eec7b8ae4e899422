//! A minimal DER writer for the certificate extensions rcgen does not model (certificate
//! policies, authority information access, ETSI qcStatements): definite lengths, primitive
//! strings, object identifiers and constructed sequences — nothing else is needed.

/// A DER TLV: `tag`, the definite length (short or long form), the contents.
pub(super) fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(contents);
    out
}

/// `SEQUENCE { parts… }`.
pub(super) fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `OBJECT IDENTIFIER`: the first two arcs as `40 * a + b`, every arc base-128, high bit set on
/// all but its last byte (X.690 §8.19). At least two arcs.
pub(super) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let first = arcs.first().copied().unwrap_or(0) * 40 + arcs.get(1).copied().unwrap_or(0);
    for arc in std::iter::once(first).chain(arcs.iter().skip(2).copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        body.extend(groups.into_iter().rev());
    }
    tlv(0x06, &body)
}

/// `UTF8String`.
pub(super) fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}

/// `IA5String` (ASCII; URIs).
pub(super) fn ia5(s: &str) -> Vec<u8> {
    tlv(0x16, s.as_bytes())
}

/// A `GeneralName` `uniformResourceIdentifier` (`[6] IMPLICIT IA5String`).
pub(super) fn uri_name(uri: &str) -> Vec<u8> {
    tlv(0x86, uri.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_oids_and_lengths_as_x690_says() {
        // 1.3.6.1.5.5.7.1.3 (id-pe-qcStatements) and 0.4.0.19495.2 (id-etsi-psd2-qcStatement).
        assert_eq!(oid(&[1, 3, 6, 1, 5, 5, 7, 1, 3]), [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x03]);
        assert_eq!(oid(&[0, 4, 0, 19495, 2]), [0x06, 0x06, 0x04, 0x00, 0x81, 0x98, 0x27, 0x02]);
        assert_eq!(tlv(0x04, &[0; 0x7f])[..2], [0x04, 0x7f]);
        assert_eq!(tlv(0x04, &[0; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(tlv(0x04, &[0; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
        assert_eq!(seq(&[utf8("a"), ia5("b")]), [0x30, 0x06, 0x0c, 0x01, b'a', 0x16, 0x01, b'b']);
    }
}
