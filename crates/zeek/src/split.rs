//! Splitting a line at a one-byte separator, sixteen bytes at a time.
//!
//! A conn line is ~150 bytes in ~21 fields, and looking at each byte on its own cost
//! about a fifth of all the instructions spent per record. Here each sixteen-byte block
//! is classified at once into a bit per byte — "is the separator" and "is special" (a
//! byte beyond ASCII or a backslash) — and the fields' ends are read off the bits. On x86-64
//! that is three SSE2 instructions per block (SSE2 is part of the x86-64 baseline, and
//! `safe_arch` wraps the intrinsics in safe functions, so the workspace keeps forbidding
//! `unsafe`); elsewhere the same masks come from eight-byte word arithmetic (the exact
//! zero-byte test of "Bit Twiddling Hacks"). A property test holds both to `split`.

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

/// How many bytes one classification step covers.
const BLOCK: usize = 16;

/// One block, classified: bit `i` stands for the block's byte `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Masks {
    separators: u32,
    /// Bytes beyond ASCII and backslashes: text that would need a UTF-8 check or
    /// unescaping.
    special: u32,
}

/// The masks of `block` with SSE2: compare, then gather each lane's high bit.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify(block: &[u8; BLOCK], separator: u8) -> Masks {
    use safe_arch::{cmp_eq_mask_i8_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i};
    let bytes = m128i::from(*block);
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let separators = cmp_eq_mask_i8_m128i(bytes, splat(separator));
    // A byte beyond ASCII has its own high bit set; a backslash sets every bit of its lane.
    let special = bytes | cmp_eq_mask_i8_m128i(bytes, splat(b'\\'));
    Masks {
        separators: move_mask_i8_m128i(separators).cast_unsigned(),
        special: move_mask_i8_m128i(special).cast_unsigned(),
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify(block: &[u8; BLOCK], separator: u8) -> Masks {
    classify_words(block, separator)
}

/// The masks of `block` with word arithmetic, for targets without a SIMD baseline.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn classify_words(block: &[u8; BLOCK], separator: u8) -> Masks {
    let (halves, _) = block.as_chunks::<8>();
    let mut masks = Masks {
        separators: 0,
        special: 0,
    };
    for (i, half) in halves.iter().enumerate() {
        let word = u64::from_le_bytes(*half);
        let separators = zero_lanes(word ^ (ONES * u64::from(separator)));
        let special = (word & HIGH) | zero_lanes(word ^ (ONES * u64::from(b'\\')));
        masks.separators |= gather_lanes(separators) << (8 * i);
        masks.special |= gather_lanes(special) << (8 * i);
    }
    masks
}

/// A word with the high bit set in exactly the lanes where `word` has a zero byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn zero_lanes(word: u64) -> u64 {
    // Adding 0x7f to the low seven bits carries into bit 7 unless they are all zero and
    // never carries into the next lane; or-ing the word adds its own bit 7.
    !(((word & LOW7).wrapping_add(LOW7)) | word | LOW7)
}

/// The high bits of a word's eight lanes as eight bits, lane `i` to bit `i`: the multiply
/// moves lane `i`'s bit to bit `56 + i` and no two partial products meet.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn gather_lanes(lanes: u64) -> u32 {
    ((lanes >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// The fields of `line` between each `separator` byte, like `line.split(|&b| b == sep)`:
/// `n` separators give `n + 1` fields, empty ones included.
pub(crate) struct Separated<'a> {
    line: &'a [u8],
    separator: u8,
    /// Where the next unread field starts.
    start: usize,
    /// Where the block in `pending` starts.
    block_at: usize,
    /// Separator bits of the current block not yet handed out.
    pending: u32,
    /// The special bits of every block classified so far.
    special: u32,
    done: bool,
}

impl<'a> Separated<'a> {
    #[inline]
    pub(crate) fn new(line: &'a [u8], separator: u8) -> Self {
        let mut fields = Separated {
            line,
            separator,
            start: 0,
            block_at: 0,
            pending: 0,
            special: 0,
            done: false,
        };
        fields.pending = fields.classify_at(0);
        fields
    }

    /// Classifies the block at `at`, keeps its special bits and returns its separators;
    /// past the end the line is padded with a byte that is neither the separator nor
    /// special.
    #[inline]
    fn classify_at(&mut self, at: usize) -> u32 {
        let masks = match self.line.get(at..at + BLOCK) {
            Some(bytes) => {
                let mut block = [0u8; BLOCK];
                block.copy_from_slice(bytes);
                classify(&block, self.separator)
            }
            None => {
                let filler = if self.separator == b' ' { b'!' } else { b' ' };
                let mut block = [filler; BLOCK];
                let tail = self.line.get(at..).unwrap_or_default();
                block[..tail.len()].copy_from_slice(tail);
                classify(&block, self.separator)
            }
        };
        self.special |= masks.special;
        masks.separators
    }

    /// How many fields are left, counted without cutting them, and whether the whole line
    /// is plain: ASCII without a backslash, text that needs neither a UTF-8 check nor
    /// unescaping. A conn line's last columns are ones sekisho does not read, and only
    /// their number matters.
    pub(crate) fn count_rest(mut self) -> (usize, bool) {
        if self.done {
            return (0, self.special == 0);
        }
        let mut separators = self.pending.count_ones() as usize;
        while self.block_at + BLOCK < self.line.len() {
            self.block_at += BLOCK;
            separators += self.classify_at(self.block_at).count_ones() as usize;
        }
        (separators + 1, self.special == 0)
    }
}

impl<'a> Iterator for Separated<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.pending != 0 {
                let end = self.block_at + self.pending.trailing_zeros() as usize;
                self.pending &= self.pending - 1;
                let field = self.line.get(self.start..end)?;
                self.start = end + 1;
                return Some(field);
            }
            if self.block_at + BLOCK >= self.line.len() {
                if self.done {
                    return None;
                }
                self.done = true;
                return self.line.get(self.start..);
            }
            self.block_at += BLOCK;
            self.pending = self.classify_at(self.block_at);
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

    #[test]
    fn gathered_lanes_keep_their_order() {
        assert_eq!(gather_lanes(0), 0);
        assert_eq!(gather_lanes(HIGH), 0xff);
        assert_eq!(gather_lanes(0x80), 0b1);
        assert_eq!(gather_lanes(0x8000_0000_0000_0000), 0b1000_0000);
        assert_eq!(gather_lanes(0x0000_8000_0080_0000), 0b0010_0100);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn both_classifiers_mark_exactly_the_separators_and_special_bytes(
            block in proptest::array::uniform16(
                prop_oneof![3 => Just(b'\t'), 2 => Just(b'\\'), 1 => Just(0x89u8), 5 => any::<u8>()],
            ),
            separator in prop_oneof![Just(b'\t'), Just(b'\\'), Just(0x89u8), any::<u8>()],
        ) {
            let bits = |f: &dyn Fn(u8) -> bool| {
                block.iter().enumerate().fold(0u32, |m, (i, &b)| m | u32::from(f(b)) << i)
            };
            let expected = Masks {
                separators: bits(&|b| b == separator),
                special: bits(&|b| !b.is_ascii() || b == b'\\'),
            };
            prop_assert_eq!(classify(&block, separator), expected);
            prop_assert_eq!(classify_words(&block, separator), expected);
        }

        #[test]
        fn a_line_is_plain_when_ascii_without_backslash(
            line in proptest::collection::vec(
                prop_oneof![8 => 0x20u8..0x7f, 2 => Just(b'\t'), 1 => Just(b'\\'), 1 => Just(0x5du8), 1 => any::<u8>()],
                0..120,
            ),
            taken in 0..30_usize,
        ) {
            let expected = line.is_ascii() && !line.contains(&b'\\');
            let mut fields = Separated::new(&line, b'\t');
            for _ in 0..taken {
                fields.next();
            }
            prop_assert_eq!(fields.count_rest().1, expected);
        }

        #[test]
        fn fields_equal_the_standard_split(
            line in proptest::collection::vec(
                prop_oneof![3 => Just(b'\t'), 1 => Just(0x08u8), 1 => Just(0x89u8), 5 => any::<u8>()],
                0..120,
            ),
            separator in prop_oneof![Just(b'\t'), Just(b' '), Just(0u8), Just(0xffu8), any::<u8>()],
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
            prop_assert_eq!(fields.count_rest().0, total.saturating_sub(taken));
        }
    }
}
