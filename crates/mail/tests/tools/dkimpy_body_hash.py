"""Answer key for crates/mail/tests/dkim.rs: what dkimpy (Debian's python3-dkim) makes of
every DKIM signature in the .eml files named on the command line, without DNS.

Prints one line per signature: `FILE<TAB>INDEX<TAB>OUTCOME`, where OUTCOME is
`body-ok` (dkimpy's body hash equals bh=; the signature then fails on the stand-in key),
`body-changed` (dkimpy reports a body hash mismatch) or `invalid: REASON` (dkimpy rejects
the signature's fields). The clock is set to each signature's t= so that x= expiry, which
dkimpy judges against the wall clock, does not hide the body hash.
"""
import logging
import re
import sys

import dkim

STAND_IN_KEY = b"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnVwGPxgP0x8Ky+yAE908e+u1bHaUWGXEiSH2dmVix2BTSXjip5mppj6524Iy2FSSCOH54m6kmw/z8o4ZAtX4r4S2lsNke4F6EDuNLy8Pds/drVX2EkOfDagYGindkObFsvFEYhhoz8i2pn12tj2q4fZADemg5KVzm7H5lOaf//6E06dw3TMXZbKW0rIkxmRgR5V35o9AJlceMymcKASEZ4AKvCPu3EEjUWepMs6oD8bur73weOcvj72wTm89YCIoi+N+6lltJjRxBNhxfY601/S7koI3nNtbcNvOqGqylTcuKWQeVWZwuvrLIWNge1238He4H81bi69RxbUnyTcE5QIDAQAB"


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class Clock:
    now = 0

    @staticmethod
    def time():
        return Clock.now


dkim.time = Clock
capture = Capture()
logger = logging.getLogger("dkimpy-answer-key")
logger.setLevel(logging.DEBUG)
logger.addHandler(capture)
logger.propagate = False

for path in sys.argv[1:]:
    data = open(path, "rb").read()
    d = dkim.DKIM(data, logger=logger)
    sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
    for i, value in enumerate(sigs):
        t = re.search(rb"(?:^|;)\s*t\s*=\s*(\d+)", value)
        Clock.now = int(t.group(1)) + 1 if t else 0
        capture.messages.clear()
        try:
            d.verify(idx=i, dnsfunc=lambda name, timeout=5: STAND_IN_KEY)
            changed = any("body hash mismatch" in m for m in capture.messages)
            outcome = "body-changed" if changed else "body-ok"
        except dkim.ValidationError as e:
            text = str(e)
            outcome = "body-changed" if "body hash mismatch" in text else "invalid: " + text[:60]
        except Exception as e:  # dkimpy's own parse errors
            outcome = "invalid: " + type(e).__name__ + " " + str(e)[:60]
        print(f"{path}\t{i}\t{outcome}")
