//! DKIM verification and the key-file reader over arbitrary bytes: must never panic.
//! The first byte picks what the rest is: a message verified against fixed keys (one
//! RSA, one Ed25519, one alias, one revoked), or a key file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_mail::dkim::{DkimKeys, verify};
use std::sync::OnceLock;

const KEYS: &str = "$ORIGIN example.com.\n\
rsa._domainkey IN TXT ( \"v=DKIM1; k=rsa; \" \"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnVwGPxgP0x8Ky+yAE908e+u1bHaUWGXEiSH2dmVix2BTSXjip5mppj6524Iy2FSSCOH54m6kmw/z8o4ZAtX4r4S2lsNke4F6EDuNLy8Pds/drVX2EkOfDagYGindkObFsvFEYhhoz8i2pn12tj2q4fZADemg5KVzm7H5lOaf//6E06dw3TMXZbKW0rIkxmRgR5V35o9AJlceMymcKASEZ4AKvCPu3EEjUWepMs6oD8bur73weOcvj72wTm89YCIoi+N+6lltJjRxBNhxfY601/S7koI3nNtbcNvOqGqylTcuKWQeVWZwuvrLIWNge1238He4H81bi69RxbUnyTcE5QIDAQAB\" )\n\
ed._domainkey IN TXT \"v=DKIM1; k=ed25519; p=J4o+KlUyOBD+UAFc2P/O3E89cTJEC4Tzgk8e/Nfb7lo=\"\n\
gone._domainkey IN TXT \"v=DKIM1; p=\"\n\
alias._domainkey IN CNAME ed._domainkey\n";

fuzz_target!(|data: &[u8]| {
    static FIXED: OnceLock<DkimKeys> = OnceLock::new();
    let keys = FIXED.get_or_init(|| DkimKeys::parse(KEYS).expect("fixed keys"));
    match data.split_first() {
        Some((0, rest)) => {
            let _ = DkimKeys::parse(&String::from_utf8_lossy(rest));
        }
        Some((b, rest)) => {
            let _ = verify(rest, keys, Some(i64::from(*b) * 10_000_000));
        }
        None => {}
    }
});
