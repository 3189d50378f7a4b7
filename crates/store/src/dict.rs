//! Dictionary columns filled from what the caller already has: an address, an enum, a
//! name, a number.
//!
//! A generic Parquet writer takes each row as a value, hashes it and compares it with the
//! entry it finds, to build the chunk's dictionary. With fourteen such columns per flow,
//! two of them addresses formatted to text first, that was the largest part of the store's
//! work per flow. These columns do that work once per distinct value and segment: rows are
//! looked up by a key that is cheap to hash and compare (the address itself, the enum
//! itself, a small number by its value), or by their text only when it differs from the
//! row before (names repeat in runs: a segment is one site and one day). What they keep is
//! what the file holds: the dictionary page's values, PLAIN-encoded as they are met, and
//! one index per row.

use std::collections::HashMap;
use std::hash::Hash;

type Index<K> = HashMap<K, u32, foldhash::fast::RandomState>;

/// The index of a null row.
pub(crate) const NULL: u32 = u32::MAX;

/// What every dictionary column holds: its distinct values as the dictionary page's PLAIN
/// bytes, and per row the index of its value ([`NULL`] for none).
#[derive(Debug, Default)]
pub(crate) struct Dictionary {
    pub(crate) plain: Vec<u8>,
    pub(crate) len: u32,
    pub(crate) rows: Vec<u32>,
}

impl Dictionary {
    /// Adds a distinct byte-array value; returns its index.
    fn add_bytes(&mut self, value: &[u8]) -> u32 {
        self.plain
            .extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.plain.extend_from_slice(value);
        self.len += 1;
        self.len - 1
    }

    /// The byte-array values, in index order.
    pub(crate) fn byte_values(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = self.plain.as_slice();
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let (value, tail) = tail.split_at(u32::from_le_bytes(*len) as usize);
            rest = tail;
            Some(value)
        })
    }

    fn clear(&mut self) {
        self.plain.clear();
        self.len = 0;
        self.rows.clear();
    }
}

/// A text column whose rows are given as keys of type `K`; a key's text is written the
/// first time the key is met in the segment.
pub(crate) struct KeyedDict<K> {
    index: Index<K>,
    last: Option<(K, u32)>,
    scratch: String,
    pub(crate) dict: Dictionary,
}

impl<K: Copy + Hash + Eq> KeyedDict<K> {
    pub(crate) fn new() -> Self {
        KeyedDict {
            index: Index::default(),
            last: None,
            scratch: String::new(),
            dict: Dictionary::default(),
        }
    }

    /// Appends the row of `key`; `text` writes its value if the segment has not seen it.
    #[inline]
    pub(crate) fn append(&mut self, key: K, text: impl FnOnce(&mut String)) {
        let at = match self.last {
            Some((last, at)) if last == key => at,
            _ => {
                let (dict, scratch) = (&mut self.dict, &mut self.scratch);
                let at = *self.index.entry(key).or_insert_with(|| {
                    scratch.clear();
                    text(scratch);
                    dict.add_bytes(scratch.as_bytes())
                });
                self.last = Some((key, at));
                at
            }
        };
        self.dict.rows.push(at);
    }

    /// Empties the column for the next segment.
    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.last = None;
        self.dict.clear();
    }
}

/// A text column whose rows are given as text, looked up only when it differs from the row
/// before.
pub(crate) struct TextDict {
    index: Index<Box<str>>,
    /// The row before's text and index: a column of one value repeated (a sensor, a site)
    /// then costs one comparison per row. One buffer, reused, so a change costs no allocation.
    last_text: String,
    last_at: Option<u32>,
    pub(crate) dict: Dictionary,
}

impl TextDict {
    pub(crate) fn new() -> Self {
        TextDict {
            index: Index::default(),
            last_text: String::new(),
            last_at: None,
            dict: Dictionary::default(),
        }
    }

    #[inline]
    pub(crate) fn append_value(&mut self, text: &str) {
        let at = match self.last_at {
            Some(at) if self.last_text == text => at,
            _ => {
                let at = match self.index.get(text) {
                    Some(&at) => at,
                    None => {
                        let at = self.dict.add_bytes(text.as_bytes());
                        self.index.insert(text.into(), at);
                        at
                    }
                };
                self.last_text.clear();
                self.last_text.push_str(text);
                self.last_at = Some(at);
                at
            }
        };
        self.dict.rows.push(at);
    }

    #[inline]
    pub(crate) fn append_option(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.append_value(text),
            None => self.dict.rows.push(NULL),
        }
    }

    /// Empties the column for the next segment.
    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.last_at = None;
        self.dict.clear();
    }
}

/// Values below this find their index in a table rather than a hash map: packet counts and
/// well-known ports, most of a flow's numbers.
const DIRECT: usize = 1024;

/// A column of unsigned numbers, PLAIN-encoded in the dictionary as `BYTES` little-endian
/// bytes each (8 for INT64, 4 for INT32).
pub(crate) struct NumberDict<const BYTES: usize> {
    direct: Vec<u32>,
    index: Index<u64>,
    pub(crate) dict: Dictionary,
}

impl<const BYTES: usize> NumberDict<BYTES> {
    pub(crate) fn new() -> Self {
        Self {
            direct: vec![NULL; DIRECT],
            index: Index::default(),
            dict: Dictionary::default(),
        }
    }

    #[inline]
    pub(crate) fn append(&mut self, value: u64) {
        let at = if value < DIRECT as u64 {
            let slot = &mut self.direct[value as usize];
            if *slot == NULL {
                *slot = Self::add(&mut self.dict, value);
            }
            *slot
        } else {
            let dict = &mut self.dict;
            *self
                .index
                .entry(value)
                .or_insert_with(|| Self::add(dict, value))
        };
        self.dict.rows.push(at);
    }

    fn add(dict: &mut Dictionary, value: u64) -> u32 {
        dict.plain.extend_from_slice(&value.to_le_bytes()[..BYTES]);
        dict.len += 1;
        dict.len - 1
    }

    /// Empties the column for the next segment.
    pub(crate) fn clear(&mut self) {
        self.direct.fill(NULL);
        self.index.clear();
        self.dict.clear();
    }
}

impl Dictionary {
    /// The number values of a [`NumberDict<BYTES>`], in index order.
    pub(crate) fn number_values<const BYTES: usize>(&self) -> impl Iterator<Item = u64> + '_ {
        self.plain.chunks_exact(BYTES).map(|b| {
            let mut le = [0u8; 8];
            le[..BYTES].copy_from_slice(b);
            u64::from_le_bytes(le)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(dict: &Dictionary) -> Vec<Option<String>> {
        let values: Vec<String> = dict
            .byte_values()
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
            .collect();
        dict.rows
            .iter()
            .map(|&at| (at != NULL).then(|| values[at as usize].clone()))
            .collect()
    }

    proptest! {
        #[test]
        fn keyed_rows_read_back_as_their_text(
            segments in proptest::collection::vec(proptest::collection::vec(0u16..40, 0..60), 1..4),
        ) {
            let mut column = KeyedDict::new();
            for segment in segments {
                for &key in &segment {
                    column.append(key, |s| s.push_str(&format!("value-{key}")));
                }
                let expected: Vec<Option<String>> =
                    segment.iter().map(|k| Some(format!("value-{k}"))).collect();
                prop_assert_eq!(texts(&column.dict), expected);
                // Each distinct key is written once.
                let distinct: std::collections::BTreeSet<_> = segment.iter().collect();
                prop_assert_eq!(column.dict.len as usize, distinct.len());
                column.clear();
            }
        }

        #[test]
        fn text_rows_read_back_as_given(
            segments in proptest::collection::vec(
                proptest::collection::vec(proptest::option::weighted(0.8, "[ab]{0,2}"), 0..60),
                1..4,
            ),
        ) {
            let mut column = TextDict::new();
            for segment in segments {
                for text in &segment {
                    column.append_option(text.as_deref());
                }
                prop_assert_eq!(texts(&column.dict), segment);
                column.clear();
            }
        }

        #[test]
        fn numbers_read_back_as_given_with_their_range(
            segments in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![0u64..2000, any::<u64>()], 1..60),
                1..4,
            ),
        ) {
            let mut column = NumberDict::<8>::new();
            for segment in segments {
                for &v in &segment {
                    column.append(v);
                }
                let values: Vec<u64> = column.dict.number_values::<8>().collect();
                let back: Vec<u64> =
                    column.dict.rows.iter().map(|&at| values[at as usize]).collect();
                prop_assert_eq!(&back, &segment);
                let distinct: std::collections::BTreeSet<_> = segment.iter().collect();
                prop_assert_eq!(values.len(), distinct.len());
                prop_assert_eq!(values.iter().min(), segment.iter().min());
                prop_assert_eq!(values.iter().max(), segment.iter().max());
                column.clear();
            }
        }
    }
}
