//! Parquet's value encodings, written straight from the store's own column buffers.
//!
//! Only what the `flows` table uses: PLAIN, the RLE / bit-packing hybrid (dictionary indices
//! and definition levels) and DELTA_BINARY_PACKED, each to the Parquet format specification
//! (`Encodings.md`). Pure functions over slices; the tests read what they write back with
//! the `parquet` crate's own readers, through whole files (`flow_file.rs`).

/// ULEB128, as Parquet's headers and run lengths are written.
pub(crate) fn uleb128(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Bits needed for `max` (0 for 0).
pub(crate) fn bit_width(max: u64) -> u8 {
    (64 - max.leading_zeros()) as u8
}

/// Packs `values` at `width` bits each, least significant bit first, as Parquet's bit
/// packing does; values past `len` up to `padded_len` are zero. `padded_len * width` must be
/// a multiple of eight (whole groups of eight values), so the output ends on a byte.
fn bit_pack(values: impl Iterator<Item = u64>, padded_len: usize, width: u8, out: &mut Vec<u8>) {
    debug_assert!(width <= 64);
    if width == 0 {
        return;
    }
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    let mut n = 0;
    for v in values.chain(std::iter::repeat(0)).take(padded_len) {
        acc |= (v as u128) << bits;
        bits += u32::from(width);
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
        n += 1;
    }
    debug_assert_eq!((n, bits), (padded_len, 0));
}

/// Packs up to eight values of at most 32 bits as one group of eight (missing values are
/// zero): what [`bit_pack`] does, with a 64-bit accumulator flushed four bytes at a time,
/// for the hybrid's indices and levels, which are most of the values a segment packs.
fn pack_group(group: &[u32], width: u8, out: &mut Vec<u8>) {
    debug_assert!(group.len() <= 8 && width <= 32);
    let width = u32::from(width);
    let (mut acc, mut bits) = (0u64, 0u32);
    for k in 0..8 {
        let v = group.get(k).copied().unwrap_or(0);
        acc |= u64::from(v) << bits;
        bits += width;
        if bits >= 32 {
            out.extend_from_slice(&(acc as u32).to_le_bytes());
            acc >>= 32;
            bits -= 32;
        }
    }
    out.extend_from_slice(&acc.to_le_bytes()[..(bits / 8) as usize]);
}

/// Length of the run of equal values starting at `at`, counting at most `limit`.
fn run_at(values: &[u32], at: usize, limit: usize) -> usize {
    let first = values[at];
    values[at..]
        .iter()
        .take(limit)
        .take_while(|&&v| v == first)
        .count()
}

/// The RLE / bit-packing hybrid of `values` at `width` bits (without the length prefix
/// or the bit-width byte, which the caller writes where the page needs them).
///
/// A run of eight or more equal values becomes an RLE run; everything else goes into
/// bit-packed groups of eight, the last one padded with zeros (readers stop at the page's
/// value count). A long run is looked for at group boundaries only, which keeps the
/// encoding one pass.
pub(crate) fn rle_hybrid(values: &[u32], width: u8, out: &mut Vec<u8>) {
    let value_bytes = usize::from(width).div_ceil(8);
    let n = values.len();
    let mut i = 0;
    while i < n {
        let run = run_at(values, i, usize::MAX);
        if run >= 8 {
            uleb128(out, (run as u64) << 1);
            out.extend_from_slice(&values[i].to_le_bytes()[..value_bytes]);
            i += run;
            continue;
        }
        let start = i;
        loop {
            i += 8;
            if i >= n || run_at(values, i, 8) == 8 {
                break;
            }
        }
        let end = i.min(n);
        let groups = (i - start) / 8;
        uleb128(out, ((groups as u64) << 1) | 1);
        for group in values[start..end].chunks(8) {
            pack_group(group, width, out);
        }
        i = end;
    }
}

/// Values per DELTA_BINARY_PACKED block and miniblocks per block: the sizes the
/// specification suggests and parquet-mr and arrow-rs write.
const DELTA_BLOCK: usize = 128;
const DELTA_MINIBLOCKS: usize = 4;
const DELTA_MINIBLOCK: usize = DELTA_BLOCK / DELTA_MINIBLOCKS;

/// DELTA_BINARY_PACKED of `values`. Deltas wrap, as readers add them back wrapping, so any
/// sequence of 64-bit values (an attacker's timestamps too) encodes.
pub(crate) fn delta_binary_packed(values: &[i64], out: &mut Vec<u8>) {
    uleb128(out, DELTA_BLOCK as u64);
    uleb128(out, DELTA_MINIBLOCKS as u64);
    uleb128(out, values.len() as u64);
    uleb128(out, zigzag(values.first().copied().unwrap_or(0)));
    let mut deltas = [0i64; DELTA_BLOCK];
    let mut rest = values;
    while rest.len() > 1 {
        let take = (rest.len() - 1).min(DELTA_BLOCK);
        for (d, w) in deltas.iter_mut().zip(rest.windows(2)).take(take) {
            *d = w[1].wrapping_sub(w[0]);
        }
        let block = &deltas[..take];
        let min = block.iter().copied().min().unwrap_or(0);
        uleb128(out, zigzag(min));
        let widths_at = out.len();
        out.extend_from_slice(&[0; DELTA_MINIBLOCKS]);
        for (m, mini) in block.chunks(DELTA_MINIBLOCK).enumerate() {
            // Zeros past the values pad the last miniblock.
            let mut adjusted = [0u64; DELTA_MINIBLOCK];
            for (a, d) in adjusted.iter_mut().zip(mini) {
                *a = d.wrapping_sub(min) as u64;
            }
            let width = bit_width(adjusted.iter().fold(0, |all, &v| all | v));
            out[widths_at + m] = width;
            if width <= 32 {
                let narrow = adjusted.map(|v| v as u32);
                for group in narrow.chunks(8) {
                    pack_group(group, width, out);
                }
            } else {
                bit_pack(adjusted.into_iter(), DELTA_MINIBLOCK, width, out);
            }
        }
        rest = &rest[take..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a ULEB128 at `at`, moving past it.
    fn read_uleb(bytes: &[u8], at: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = bytes[*at];
            *at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    #[test]
    fn uleb128_matches_the_specification_examples() {
        let enc = |v| {
            let mut out = Vec::new();
            uleb128(&mut out, v);
            out
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(624_485), [0xe5, 0x8e, 0x26]);
        assert_eq!(enc(u64::MAX).len(), 10);
    }

    #[test]
    fn bit_packing_is_least_significant_bit_first() {
        // The specification's example: 0..8 at three bits.
        let mut out = Vec::new();
        bit_pack((0..8).map(|v| v as u64), 8, 3, &mut out);
        assert_eq!(out, [0b1000_1000, 0b1100_0110, 0b1111_1010]);
    }

    proptest::proptest! {
        #[test]
        fn a_group_packs_as_the_general_packer_does(
            width in 0u8..=32,
            group in proptest::collection::vec(proptest::num::u32::ANY, 1..=8),
        ) {
            let mask = if width == 32 { u32::MAX } else { (1u32 << width) - 1 };
            let group: Vec<u32> = group.into_iter().map(|v| v & mask).collect();
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            pack_group(&group, width, &mut fast);
            bit_pack(group.iter().map(|&v| u64::from(v)), 8, width, &mut general);
            proptest::prop_assert_eq!(fast, general);
        }
    }

    #[test]
    fn a_long_run_becomes_one_rle_run_and_the_rest_bit_packed_groups() {
        let mut values = vec![5u32; 100];
        values.extend([1, 2, 3]);
        let mut out = Vec::new();
        rle_hybrid(&values, 3, &mut out);
        // RLE run: header 100 << 1, then the value in one byte; then one bit-packed group
        // (header (1 << 1) | 1) of three bytes.
        assert_eq!(&out[..3], &[200, 1, 5]);
        assert_eq!(out[3], 3);
        assert_eq!(out.len(), 3 + 1 + 3);
    }

    #[test]
    fn delta_header_carries_block_sizes_count_and_first_value() {
        let mut out = Vec::new();
        delta_binary_packed(&[7, 8, 9], &mut out);
        let mut at = 0;
        assert_eq!(read_uleb(&out, &mut at), 128);
        assert_eq!(read_uleb(&out, &mut at), 4);
        assert_eq!(read_uleb(&out, &mut at), 3);
        assert_eq!(read_uleb(&out, &mut at), zigzag(7));
        // One block: min delta 1, all adjusted deltas 0, so every width is 0 and no
        // miniblock has bytes.
        assert_eq!(read_uleb(&out, &mut at), zigzag(1));
        assert_eq!(&out[at..], &[0, 0, 0, 0]);
    }
}
