//! Attachments: what the name says against what the bytes are (magic numbers), and the
//! kinds of file that phishing delivers (executables, scripts, disk images, shortcuts,
//! macro documents, evasive archives, HTML, calendar invitations, configuration profiles).

use memchr::memmem;

/// What an attachment's bytes are, by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Magic {
    /// Windows PE (`MZ`).
    Pe,
    /// Linux ELF.
    Elf,
    /// Mach-O.
    MachO,
    /// PDF.
    Pdf,
    /// ZIP (also docx/xlsx/jar/apk).
    Zip,
    /// RAR.
    Rar,
    /// 7-Zip.
    SevenZip,
    /// gzip.
    Gzip,
    /// OLE compound file (doc/xls/msi).
    Ole,
    /// ISO 9660 image (signature at 0x8001).
    Iso,
    /// Windows shortcut.
    Lnk,
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// HTML or SVG text.
    Html,
    /// Anything else.
    Unknown,
}

/// Reads the magic number.
pub fn magic(data: &[u8]) -> Magic {
    let starts = |m: &[u8]| data.starts_with(m);
    if starts(b"MZ") {
        Magic::Pe
    } else if starts(b"\x7fELF") {
        Magic::Elf
    } else if starts(&[0xcf, 0xfa, 0xed, 0xfe]) || starts(&[0xca, 0xfe, 0xba, 0xbe]) {
        Magic::MachO
    } else if starts(b"%PDF") {
        Magic::Pdf
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        Magic::Zip
    } else if starts(b"Rar!") {
        Magic::Rar
    } else if starts(&[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) {
        Magic::SevenZip
    } else if starts(&[0x1f, 0x8b]) {
        Magic::Gzip
    } else if starts(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        Magic::Ole
    } else if data.get(0x8001..0x8006) == Some(b"CD001") {
        Magic::Iso
    } else if starts(&[0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0]) {
        Magic::Lnk
    } else if starts(b"\x89PNG") {
        Magic::Png
    } else if starts(&[0xff, 0xd8, 0xff]) {
        Magic::Jpeg
    } else if starts(b"GIF8") {
        Magic::Gif
    } else {
        let head = data.get(..512).unwrap_or(data).to_ascii_lowercase();
        let h = head.trim_ascii_start();
        if h.starts_with(b"<!doctype html")
            || h.starts_with(b"<html")
            || memmem::find(&head, b"<svg").is_some()
            || memmem::find(&head, b"<script").is_some()
        {
            Magic::Html
        } else {
            Magic::Unknown
        }
    }
}

/// Extensions of programs and scripts Windows or macOS will run on a double click.
const EXECUTABLE: &[&str] = &[
    "exe",
    "scr",
    "com",
    "pif",
    "cpl",
    "msi",
    "msp",
    "bat",
    "cmd",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "hta",
    "ps1",
    "psm1",
    "jar",
    "reg",
    "dll",
    "app",
    "apk",
    "sh",
    "appref-ms",
    "msc",
    "gadget",
    "application",
    "xll",
    "one",
    "url",
    "chm",
];
/// Disk images and shortcuts (they bypass Mark-of-the-Web).
const DISK_IMAGE: &[&str] = &["iso", "img", "vhd", "vhdx", "lnk", "dmg"];
/// Office formats that carry macros by name.
const MACRO_EXT: &[&str] = &[
    "docm", "xlsm", "pptm", "dotm", "xltm", "xlam", "ppam", "potm", "sldm",
];
/// Archives.
const ARCHIVE: &[&str] = &[
    "zip", "rar", "7z", "gz", "tgz", "tar", "cab", "arj", "lzh", "ace", "z", "bz2", "xz",
];
/// Extensions whose content is HTML.
const HTML_EXT: &[&str] = &["html", "htm", "shtml", "xhtml", "svg", "mht", "mhtml"];
/// Document/image extensions and the magic they must have.
const EXPECT: &[(&str, &[Magic])] = &[
    ("pdf", &[Magic::Pdf]),
    ("docx", &[Magic::Zip]),
    ("xlsx", &[Magic::Zip]),
    ("pptx", &[Magic::Zip]),
    ("doc", &[Magic::Ole, Magic::Unknown, Magic::Html]),
    ("xls", &[Magic::Ole, Magic::Unknown, Magic::Html]),
    ("png", &[Magic::Png]),
    ("jpg", &[Magic::Jpeg]),
    ("jpeg", &[Magic::Jpeg]),
    ("gif", &[Magic::Gif]),
    ("zip", &[Magic::Zip]),
    ("rar", &[Magic::Rar]),
    ("7z", &[Magic::SevenZip]),
    ("txt", &[Magic::Unknown]),
];

/// One finding about an attachment: reason id and evidence.
pub type Finding = (&'static str, String);

/// Judges one attachment by name, declared type and decoded content.
pub fn inspect(name: &str, content_type: &str, data: &[u8], out: &mut Vec<Finding>) {
    let lname = name.to_lowercase();
    let ext = lname.rsplit_once('.').map_or("", |(_, e)| e.trim());
    let m = magic(data);
    let label = if name.is_empty() {
        format!("(unnamed, {content_type})")
    } else {
        name.to_string()
    };
    // A double extension hides the real one: invoice.pdf.exe.
    if EXECUTABLE.contains(&ext) || matches!(m, Magic::Pe | Magic::Elf | Magic::MachO) {
        out.push(("att-executable", format!("{label}: {}", describe(ext, m))));
    } else if DISK_IMAGE.contains(&ext) || matches!(m, Magic::Iso | Magic::Lnk) {
        out.push(("att-disk-image", format!("{label}: {}", describe(ext, m))));
    } else if MACRO_EXT.contains(&ext)
        || (m == Magic::Ole && memmem::find(data, b"_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T").is_some())
        || (m == Magic::Zip && memmem::find(data, b"vbaProject.bin").is_some())
    {
        out.push(("att-office-macro", format!("{label}: document with macros")));
    } else if HTML_EXT.contains(&ext)
        || (m == Magic::Html && !ext.is_empty() && ext != "txt")
        || content_type.eq_ignore_ascii_case("text/html") && !name.is_empty()
    {
        out.push((
            "att-html",
            format!("{label}: HTML content opens in the browser"),
        ));
    } else if ext == "ics" || content_type.eq_ignore_ascii_case("text/calendar") {
        out.push(("att-calendar", format!("{label}: calendar invitation")));
    } else if ext == "mobileconfig" {
        out.push((
            "att-mobileconfig",
            format!("{label}: Apple configuration profile"),
        ));
    }
    if let Some((_, allowed)) = EXPECT.iter().find(|(e, _)| *e == ext)
        && !data.is_empty()
        && !allowed.contains(&m)
        && m != Magic::Unknown
    {
        out.push((
            "att-type-mismatch",
            format!("{label}: named .{ext} but the content is {m:?}"),
        ));
    }
    if m == Magic::Zip || ARCHIVE.contains(&ext) {
        archive_findings(&label, data, m, out);
    }
}

fn describe(ext: &str, m: Magic) -> String {
    match m {
        Magic::Unknown | Magic::Html => format!(".{ext} file"),
        m => format!(".{ext} file, content {m:?}"),
    }
}

/// Walks a ZIP's local file headers (bounded) for encryption, nested archives and
/// dangerous member names.
fn archive_findings(label: &str, data: &[u8], m: Magic, out: &mut Vec<Finding>) {
    const MAX_MEMBERS: usize = 1000;
    if m != Magic::Zip {
        if matches!(m, Magic::Rar | Magic::SevenZip) {
            // We cannot list RAR/7z members without a decoder; flag them as opaque.
            out.push((
                "att-archive-evasive",
                format!("{label}: {m:?} archive (contents not inspectable)"),
            ));
        }
        return;
    }
    let mut pos = 0usize;
    let mut encrypted = false;
    let mut nested = Vec::new();
    let mut dangerous = Vec::new();
    for _ in 0..MAX_MEMBERS {
        let Some(h) = data.get(pos..pos + 30) else {
            break;
        };
        if h.get(..4) != Some(b"PK\x03\x04") {
            break;
        }
        let flags = u16::from_le_bytes([h[6], h[7]]);
        let csize = u32::from_le_bytes([h[18], h[19], h[20], h[21]]) as usize;
        let nlen = u16::from_le_bytes([h[26], h[27]]) as usize;
        let xlen = u16::from_le_bytes([h[28], h[29]]) as usize;
        let name = data
            .get(pos + 30..pos + 30 + nlen)
            .map(|n| String::from_utf8_lossy(n).to_lowercase())
            .unwrap_or_default();
        if flags & 1 == 1 {
            encrypted = true;
        }
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        if ARCHIVE.contains(&ext) || DISK_IMAGE.contains(&ext) {
            nested.push(name.clone());
        }
        if EXECUTABLE.contains(&ext) || HTML_EXT.contains(&ext) {
            dangerous.push(name.clone());
        }
        // Data descriptors (flag bit 3) leave csize 0: stop rather than guess.
        if flags & 8 == 8 && csize == 0 {
            break;
        }
        let Some(next) = pos
            .checked_add(30 + nlen + xlen)
            .and_then(|p| p.checked_add(csize))
        else {
            break;
        };
        pos = next;
    }
    if encrypted {
        out.push((
            "att-archive-evasive",
            format!("{label}: encrypted archive (scanners cannot look inside)"),
        ));
    } else if !nested.is_empty() {
        out.push((
            "att-archive-evasive",
            format!("{label}: archive inside archive ({})", nested.join(", ")),
        ));
    }
    if !dangerous.is_empty() {
        out.push((
            "att-executable",
            format!("{label}: archive holds {}", dangerous.join(", ")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(name: &str, ct: &str, data: &[u8]) -> Vec<&'static str> {
        let mut v = Vec::new();
        inspect(name, ct, data, &mut v);
        v.into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn extension_against_magic() {
        assert_eq!(
            ids("invoice.pdf", "application/pdf", b"MZ\x90\0"),
            ["att-executable", "att-type-mismatch"]
        );
        assert!(ids("invoice.pdf", "application/pdf", b"%PDF-1.7").is_empty());
        assert_eq!(
            ids("cv.iso", "application/octet-stream", b"x"),
            ["att-disk-image"]
        );
        assert_eq!(ids("offer.html", "text/html", b"<html>"), ["att-html"]);
        assert_eq!(
            ids("meet.ics", "text/calendar", b"BEGIN:VCALENDAR"),
            ["att-calendar"]
        );
        assert_eq!(
            ids(
                "wifi.mobileconfig",
                "application/x-apple-aspen-config",
                b"<?xml"
            ),
            ["att-mobileconfig"]
        );
        assert_eq!(
            ids("salary.xlsm", "application/vnd.ms-excel", b"PK\x03\x04"),
            ["att-office-macro"]
        );
    }

    #[test]
    fn zip_members_are_walked() {
        let mut z = Vec::new();
        z.extend_from_slice(b"PK\x03\x04");
        z.extend_from_slice(&[
            20, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0,
        ]);
        z.extend_from_slice(b"cv.scr");
        z.extend_from_slice(b"xyz");
        let v = ids("cv.zip", "application/zip", &z);
        assert_eq!(v, ["att-archive-evasive", "att-executable"]);
    }
}
