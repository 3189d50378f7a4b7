//! Dictionary columns filled from what the caller already has: an address, an enum, a
//! name.
//!
//! Arrow's `StringDictionaryBuilder` takes each row as text, hashes it and compares it with
//! the entry it finds. With twelve such columns per flow, two of them addresses formatted
//! to text first, that was a third of the store's work per flow. These columns do that work
//! once per distinct value and segment: rows are looked up by a key that is cheap to hash
//! and compare (the address itself, the enum itself), or by their text only when it differs
//! from the row before (names repeat in runs: a segment is one site and one day). The
//! arrays they make are the same `Dictionary(Int32, Utf8)` arrays, so the files do not
//! change.

use arrow_array::builder::{Int32Builder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray};
use arrow_schema::ArrowError;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

type Index<K> = HashMap<K, i32, foldhash::fast::RandomState>;

/// A dictionary column whose rows are given as keys of type `K`; a key's text is written
/// the first time the key is met.
pub(crate) struct KeyedDict<K> {
    index: Index<K>,
    last: Option<(K, i32)>,
    values: StringBuilder,
    keys: Int32Builder,
    scratch: String,
}

impl<K: Copy + Hash + Eq> KeyedDict<K> {
    pub(crate) fn new() -> Self {
        KeyedDict {
            index: Index::default(),
            last: None,
            values: StringBuilder::new(),
            keys: Int32Builder::new(),
            scratch: String::new(),
        }
    }

    /// Appends the row of `key`; `text` writes its value if the segment has not seen it.
    #[inline]
    pub(crate) fn append(&mut self, key: K, text: impl FnOnce(&mut String)) {
        let at = match self.last {
            Some((last, at)) if last == key => at,
            _ => {
                let next = self.index.len() as i32;
                let (values, scratch) = (&mut self.values, &mut self.scratch);
                let at = *self.index.entry(key).or_insert_with(|| {
                    scratch.clear();
                    text(scratch);
                    values.append_value(&*scratch);
                    next
                });
                self.last = Some((key, at));
                at
            }
        };
        self.keys.append_value(at);
    }

    /// The column so far, and an empty one to go on with.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        self.index.clear();
        self.last = None;
        finish(&mut self.keys, &mut self.values)
    }
}

/// A dictionary column whose rows are given as text, looked up only when it differs from
/// the row before.
pub(crate) struct TextDict {
    index: Index<Box<str>>,
    /// The row before's text and key: a column of one value repeated (a sensor, a site)
    /// then costs one comparison per row. One buffer, reused, so a change costs no allocation.
    last_text: String,
    last_key: Option<i32>,
    values: StringBuilder,
    keys: Int32Builder,
}

impl TextDict {
    pub(crate) fn new() -> Self {
        TextDict {
            index: Index::default(),
            last_text: String::new(),
            last_key: None,
            values: StringBuilder::new(),
            keys: Int32Builder::new(),
        }
    }

    #[inline]
    pub(crate) fn append_value(&mut self, text: &str) {
        let at = match self.last_key {
            Some(at) if self.last_text == text => at,
            _ => {
                let at = match self.index.get(text) {
                    Some(&at) => at,
                    None => {
                        let at = self.index.len() as i32;
                        self.index.insert(text.into(), at);
                        self.values.append_value(text);
                        at
                    }
                };
                self.last_text.clear();
                self.last_text.push_str(text);
                self.last_key = Some(at);
                at
            }
        };
        self.keys.append_value(at);
    }

    #[inline]
    pub(crate) fn append_option(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.append_value(text),
            None => self.keys.append_null(),
        }
    }

    /// The column so far, and an empty one to go on with.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        self.index.clear();
        self.last_key = None;
        finish(&mut self.keys, &mut self.values)
    }
}

fn finish(keys: &mut Int32Builder, values: &mut StringBuilder) -> Result<ArrayRef, ArrowError> {
    let array = DictionaryArray::<Int32Type>::try_new(keys.finish(), Arc::new(values.finish()))?;
    Ok(Arc::new(array))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::{Array, StringArray};
    use proptest::prelude::*;

    /// The rows of a dictionary column as text, `None` for nulls.
    fn rows(array: &ArrayRef) -> Vec<Option<String>> {
        let dict = array.as_dictionary::<Int32Type>();
        let values = dict
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        dict.keys()
            .iter()
            .map(|k| k.map(|k| values.value(k as usize).to_string()))
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
                let array = column.finish().unwrap();
                let expected: Vec<Option<String>> =
                    segment.iter().map(|k| Some(format!("value-{k}"))).collect();
                prop_assert_eq!(rows(&array), expected);
                // Each distinct key is written once.
                let distinct: std::collections::BTreeSet<_> = segment.iter().collect();
                prop_assert_eq!(array.as_dictionary::<Int32Type>().values().len(), distinct.len());
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
                let array = column.finish().unwrap();
                prop_assert_eq!(array.null_count(), segment.iter().filter(|t| t.is_none()).count());
                prop_assert_eq!(rows(&array), segment);
            }
        }
    }
}
