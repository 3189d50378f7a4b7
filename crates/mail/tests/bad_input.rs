//! Hostile messages generated here: no panic, bounded work, and every problem counted as
//! malformed with its byte offset.

use sekisho_mail::{MailPolicy, MalformedKind, scan};

fn kinds(msg: &[u8]) -> Vec<MalformedKind> {
    scan(msg, &MailPolicy::default())
        .malformed
        .iter()
        .map(|m| m.kind)
        .collect()
}

#[test]
fn fifty_megabyte_message_is_cut_at_the_size_bound() {
    let mut m = b"From: a@b.example\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    m.resize(50 * 1024 * 1024, b'x');
    let v = scan(&m, &MailPolicy::default());
    let over = v
        .malformed
        .iter()
        .find(|x| x.kind == MalformedKind::Oversize)
        .expect("oversize counted");
    assert_eq!(over.offset, sekisho_mail::limits::MAX_MESSAGE_BYTES as u64);
}

#[test]
fn ten_thousand_mime_parts_are_cut_at_the_part_bound() {
    let mut m =
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n".to_vec();
    for i in 0..10_000 {
        m.extend_from_slice(
            format!("--b\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    m.extend_from_slice(b"--b--\r\n");
    assert!(kinds(&m).contains(&MalformedKind::TooManyParts));
}

#[test]
fn deeply_nested_multiparts_are_bounded() {
    let depth = 900;
    let mut m = b"From: a@b.example\r\n".to_vec();
    for i in 0..depth {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                .as_bytes(),
        );
    }
    m.extend_from_slice(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
    for i in (0..depth).rev() {
        m.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
    }
    assert!(kinds(&m).contains(&MalformedKind::TooDeep));
}

#[test]
fn broken_base64_and_quoted_printable_are_counted() {
    let m = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pdf; name=\"x.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x!!**\xff\xfe==\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ escape =\r\n--b--\r\n";
    let v = scan(m, &MailPolicy::default());
    let bad: Vec<_> = v
        .malformed
        .iter()
        .filter(|x| x.kind == MalformedKind::BadEncoding)
        .collect();
    assert!(bad.len() >= 2, "{:?}", v.malformed);
    assert!(bad.iter().all(|x| x.offset > 0));
}

#[test]
fn wrong_charset_is_counted() {
    let m = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9 cr\xe8me \xff\xfe\r\n";
    assert!(kinds(m).contains(&MalformedKind::BadCharset));
}

#[test]
fn nul_bytes_are_counted_where_they_are() {
    let m = b"From: a@b.example\r\nSubject: x\0y\r\n\r\nbody\0\0";
    let v = scan(m, &MailPolicy::default());
    let nul = v
        .malformed
        .iter()
        .find(|x| x.kind == MalformedKind::NulBytes)
        .expect("nul counted");
    assert_eq!(nul.offset, 29);
}

#[test]
fn one_megabyte_header_line_is_cut() {
    let mut m = b"From: a@b.example\r\nSubject: ".to_vec();
    m.extend(std::iter::repeat_n(b'A', 1024 * 1024));
    m.extend_from_slice(b"\r\n\r\nbody\r\n");
    let v = scan(&m, &MailPolicy::default());
    let long = v
        .malformed
        .iter()
        .find(|x| x.kind == MalformedKind::HeaderLineTooLong)
        .expect("long line counted");
    assert_eq!(long.offset, 19);
}

#[test]
fn garbage_is_not_a_message_and_does_not_panic() {
    for m in [
        &b""[..],
        b"\xff\xfe\x00",
        b"\r\n\r\n",
        b"::::",
        b"From:\r\n\r\n",
    ] {
        let _ = scan(m, &MailPolicy::default());
    }
}
