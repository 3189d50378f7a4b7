//! Files of raw datagrams written back to back, and content detection.

use crate::fields::u16_at;

/// Splits a buffer of NetFlow/IPFIX datagrams written back to back into datagrams.
///
/// The end of each is found from its header: v5 by record count, IPFIX by its length field,
/// v9 by walking flowsets until an id that no flowset has (2..=255, where the next header's
/// version 5/9/10 falls). When no end can be found (unknown version, bad lengths, zero
/// padding), the datagram runs to the next offset where [`looks_like_netflow`] holds (or
/// the end of the buffer), and the [`crate::Decoder`] counts what is wrong with it.
/// Yields `(byte offset, datagram)`.
pub fn split_datagrams(bytes: &[u8]) -> Datagrams<'_> {
    Datagrams { bytes, off: 0 }
}

/// Iterator of [`split_datagrams`].
#[derive(Debug, Clone)]
pub struct Datagrams<'a> {
    bytes: &'a [u8],
    off: usize,
}

impl<'a> Iterator for Datagrams<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.off..).filter(|r| !r.is_empty())?;
        let len = datagram_len(rest)
            .unwrap_or_else(|| next_header(rest))
            .clamp(1, rest.len());
        let start = self.off;
        self.off += len;
        Some((start, rest.get(..len).unwrap_or(rest)))
    }
}

/// When a datagram's end cannot be found from its header: up to the next offset where a
/// plausible datagram starts, or the end.
fn next_header(b: &[u8]) -> usize {
    (1..b.len())
        .find(|&i| b.get(i..).is_some_and(looks_like_netflow))
        .unwrap_or(b.len())
}

/// Length of the datagram at the start of `b`, when its header tells.
fn datagram_len(b: &[u8]) -> Option<usize> {
    match u16_at(b, 0)? {
        5 => {
            let len = 24 + 48 * usize::from(u16_at(b, 2)?);
            (len <= b.len()).then_some(len)
        }
        10 => {
            let len = usize::from(u16_at(b, 2)?);
            (len >= 16 && len <= b.len()).then_some(len)
        }
        9 => {
            let mut pos = 20usize;
            while pos + 4 <= b.len() {
                let id = u16_at(b, pos)?;
                if (2..=255).contains(&id) {
                    break;
                }
                let len = usize::from(u16_at(b, pos + 2)?);
                if len < 4 || pos + len > b.len() {
                    return None;
                }
                pos += len;
            }
            (pos <= b.len() && pos >= 20).then_some(pos.min(b.len()))
        }
        _ => None,
    }
}

/// True when `bytes` start with a plausible NetFlow v5, v9 or IPFIX datagram: a known
/// version, and counts and lengths that agree with the size. Meant for detecting a file's
/// format by content (pcap, pcapng and Zeek logs never pass).
pub fn looks_like_netflow(bytes: &[u8]) -> bool {
    let Some(version) = u16_at(bytes, 0) else {
        return false;
    };
    let Some(n) = u16_at(bytes, 2) else {
        return false;
    };
    match version {
        5 => (1..=30).contains(&n) && bytes.len() >= 24 + 48 * usize::from(n),
        9 => first_set_ok(bytes, 20, bytes.len(), &[0, 1]),
        10 => {
            let len = usize::from(n);
            len > 16 && len <= bytes.len() && first_set_ok(bytes, 16, len, &[2, 3])
        }
        _ => false,
    }
}

fn first_set_ok(b: &[u8], at: usize, end: usize, template_ids: &[u16]) -> bool {
    let (Some(id), Some(len)) = (u16_at(b, at), u16_at(b, at + 2)) else {
        return false;
    };
    let len = usize::from(len);
    (template_ids.contains(&id) || id >= 256) && len >= 4 && at + len <= end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_v5_ipfix_and_v9_back_to_back() {
        let mut v5 = vec![0, 5, 0, 1];
        v5.resize(24 + 48, 0);
        let mut ipfix = vec![0, 10, 0, 20];
        ipfix.resize(16, 0);
        ipfix.extend_from_slice(&[1, 0, 0, 4]);
        let mut v9 = vec![0, 9, 0, 1];
        v9.resize(20, 0);
        v9.extend_from_slice(&[1, 0, 0, 8, 0, 0, 0, 0]);
        let all = [v5.clone(), v9.clone(), ipfix.clone(), v9.clone()].concat();
        let parts: Vec<_> = split_datagrams(&all).collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], (0, &v5[..]));
        assert_eq!(parts[1].1, &v9[..]);
        assert_eq!(parts[2].1, &ipfix[..]);
        assert_eq!(parts[3].1, &v9[..]);
        assert!(looks_like_netflow(&v5) && looks_like_netflow(&v9) && looks_like_netflow(&ipfix));
        assert!(!looks_like_netflow(b"#separator \\x09\n"));
        assert!(!looks_like_netflow(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]));
    }

    #[test]
    fn garbage_is_one_datagram() {
        let parts: Vec<_> = split_datagrams(&[0, 7, 1, 2, 3]).collect();
        assert_eq!(parts, vec![(0, &[0u8, 7, 1, 2, 3][..])]);
        assert_eq!(split_datagrams(&[]).count(), 0);
    }
}
