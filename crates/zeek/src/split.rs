//! Splitting a line at a one-byte separator, eight bytes at a time.
//!
//! A conn line is ~150 bytes in ~21 fields, and looking at each byte on its own cost
//! about a fifth of all the instructions spent per record. Here each eight-byte word is
//! tested for the separator at once (the exact zero-byte test of "Bit Twiddling Hacks",
//! no false positives), and only the fields' ends cost a step each. Safe, portable code:
//! no SIMD intrinsics, so it runs the same on every target and under Miri.

/// Every byte `0x7f`: the low seven bits of each byte of a word.
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// Every byte `0x01`: multiplied by a byte, that byte in every lane.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every lane.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// Nonzero exactly when some lane of `word` is zero; the lowest flagged lane is the first
/// zero lane (the short test: it may also flag lanes above a zero one, never below).
#[inline]
pub(crate) fn first_zero_lanes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGH
}

/// Zero in exactly the lanes of `word` that hold an ASCII digit: high nibble 3, and still 3
/// after adding 6 (so the low nibble is at most 9). A carry out of a lane comes only from a
/// byte of 0xfa or more, itself a non-digit, and only disturbs the lanes after it, so the
/// lowest nonzero lane is always the first non-digit.
#[inline]
pub(crate) fn non_digit_lanes(word: u64) -> u64 {
    let nibble = ONES * 0xf0;
    let threes = ONES * 0x30;
    ((word & nibble) ^ threes) | ((word.wrapping_add(ONES * 6) & nibble) ^ threes)
}

/// A word with the high bit set in exactly the lanes where `word` has a zero byte.
#[inline]
fn zero_lanes(word: u64) -> u64 {
    // Adding 0x7f to the low seven bits carries into bit 7 unless they are all zero and
    // never carries into the next lane; or-ing the word adds its own bit 7.
    !(((word & LOW7).wrapping_add(LOW7)) | word | LOW7)
}

/// True when `line` is ASCII without a `\\`: text that needs neither a UTF-8 check nor
/// unescaping, tested a word at a time.
pub(crate) fn is_plain_ascii(line: &[u8]) -> bool {
    let (words, tail) = line.as_chunks::<8>();
    let mut high = 0;
    let mut escapes = 0;
    for word in words {
        let word = u64::from_le_bytes(*word);
        high |= word;
        escapes |= first_zero_lanes(word ^ (ONES * u64::from(b'\\')));
    }
    (high | escapes) & HIGH == 0 && tail.iter().all(|&b| b.is_ascii() && b != b'\\')
}

/// The fields of `line` between each `separator` byte, like `line.split(|&b| b == sep)`:
/// `n` separators give `n + 1` fields, empty ones included.
pub(crate) struct Separated<'a> {
    line: &'a [u8],
    /// The separator in every lane.
    splat: u64,
    /// Where the next unread field starts.
    start: usize,
    /// Where the word in `pending` starts.
    word_at: usize,
    /// Separator lanes of the current word not yet handed out.
    pending: u64,
    done: bool,
}

impl<'a> Separated<'a> {
    #[inline]
    pub(crate) fn new(line: &'a [u8], separator: u8) -> Self {
        let mut fields = Separated {
            line,
            splat: ONES * u64::from(separator),
            start: 0,
            word_at: 0,
            pending: 0,
            done: false,
        };
        fields.pending = fields.lanes_at(0);
        fields
    }

    /// The separator lanes of the word at `at`; past the end the line is padded with a
    /// byte that is not the separator.
    #[inline]
    fn lanes_at(&self, at: usize) -> u64 {
        let word = match self.line.get(at..at + 8) {
            Some(bytes) => {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(bytes);
                u64::from_le_bytes(eight)
            }
            None => {
                let mut eight = [!(self.splat as u8); 8];
                let tail = self.line.get(at..).unwrap_or_default();
                eight[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(eight)
            }
        };
        zero_lanes(word ^ self.splat)
    }
}

impl Separated<'_> {
    /// How many fields are left, counted without cutting them: a conn line's last columns
    /// are ones sekisho does not read, and only their number matters.
    pub(crate) fn count_rest(mut self) -> usize {
        if self.done {
            return 0;
        }
        let mut separators = self.pending.count_ones() as usize;
        while self.word_at + 8 < self.line.len() {
            self.word_at += 8;
            separators += self.lanes_at(self.word_at).count_ones() as usize;
        }
        separators + 1
    }
}

impl<'a> Iterator for Separated<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.pending != 0 {
                let end = self.word_at + (self.pending.trailing_zeros() / 8) as usize;
                self.pending &= self.pending - 1;
                let field = self.line.get(self.start..end)?;
                self.start = end + 1;
                return Some(field);
            }
            if self.word_at + 8 >= self.line.len() {
                if self.done {
                    return None;
                }
                self.done = true;
                return self.line.get(self.start..);
            }
            self.word_at += 8;
            self.pending = self.lanes_at(self.word_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_lanes_marks_exactly_the_zero_bytes() {
        assert_eq!(zero_lanes(0), 0x8080_8080_8080_8080);
        assert_eq!(zero_lanes(u64::MAX), 0);
        // 0x01 after a zero byte is where the shorter, inexact test errs.
        assert_eq!(
            zero_lanes(0x0100),
            0xffff_ffff_ffff_0080 & 0x8080_8080_8080_8080
        );
        assert_eq!(zero_lanes(0x8000_0000_0000_0001), 0x0080_8080_8080_8000);
    }

    #[test]
    fn fields_of_short_long_and_empty_lines() {
        fn fields(s: &[u8]) -> Vec<&[u8]> {
            Separated::new(s, b'\t').collect()
        }
        assert_eq!(fields(b""), vec![&b""[..]]);
        assert_eq!(fields(b"\t"), vec![&b""[..], b""]);
        assert_eq!(fields(b"a\tbb\t"), vec![&b"a"[..], b"bb", b""]);
        assert_eq!(
            fields(b"0123456\t89abcdef\t\t"),
            vec![&b"0123456"[..], b"89abcdef", b"", b""]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn plain_ascii_means_ascii_without_backslash(
            line in proptest::collection::vec(
                prop_oneof![8 => 0x20u8..0x7f, 1 => Just(b'\\'), 1 => Just(0x5du8), 1 => any::<u8>()],
                0..40,
            ),
        ) {
            let expected = line.is_ascii() && !line.contains(&b'\\');
            prop_assert_eq!(is_plain_ascii(&line), expected);
        }

        #[test]
        fn fields_equal_the_standard_split(
            line in proptest::collection::vec(
                prop_oneof![3 => Just(b'\t'), 1 => Just(0x08u8), 1 => Just(0x89u8), 5 => any::<u8>()],
                0..80,
            ),
            separator in prop_oneof![Just(b'\t'), Just(b','), Just(0u8), Just(0xffu8), any::<u8>()],
        ) {
            let ours: Vec<&[u8]> = Separated::new(&line, separator).collect();
            let std: Vec<&[u8]> = line.split(|&b| b == separator).collect();
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn the_rest_is_counted_as_the_standard_split_counts_it(
            line in proptest::collection::vec(
                prop_oneof![3 => Just(b'\t'), 1 => Just(0x08u8), 1 => Just(0x89u8), 5 => any::<u8>()],
                0..80,
            ),
            separator in prop_oneof![4 => Just(b'\t'), 1 => any::<u8>()],
            taken in 0..30_usize,
        ) {
            let mut fields = Separated::new(&line, separator);
            for _ in 0..taken {
                fields.next();
            }
            let total = line.split(|&b| b == separator).count();
            prop_assert_eq!(fields.count_rest(), total.saturating_sub(taken));
        }
    }
}
