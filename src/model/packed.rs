//! Compressed JSON text: how a container keeps its whole inspect body without the body being
//! most of a watching pygen's heap.
//!
//! The state cache holds every container's inspect body, but only `pygen state`, a template
//! reading `raw` and docker-gen's context read it back, and rarely. Kept as plain text it was
//! about half the heap at 300 containers (4.8 KB a container). LZ4 (block format, the
//! pure-Rust `lz4_flex`) alone gives under 2× on one body; most of a body is the same keys and
//! defaults in every container, so the compressor starts from a built-in dictionary, one
//! recorded inspect body (`inspect-dictionary.json`, the one of `tests/data/sample-inspect.json`),
//! which takes that to 6–8× on the recorded test containers. Packing costs about 5 µs a body
//! (once per inspect) and unpacking well under 1 µs, next to the 20 µs it takes to parse the
//! body again.

use std::fmt;

/// The dictionary every body is compressed against: a compact inspect body as Docker writes
/// it. Changing it only changes how well bodies compress: nothing packed outlives the process.
const DICTIONARY: &[u8] = include_bytes!("inspect-dictionary.json");

/// A JSON text (or any text), compressed; [`PackedJson::unpack`] gives it back byte for byte.
///
/// Equal texts pack to equal bytes (the compressor is deterministic), so comparing packed
/// values compares the texts.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PackedJson {
    /// The text's length (little-endian `u32`) followed by its LZ4 block.
    bytes: Box<[u8]>,
}

impl PackedJson {
    /// Compresses `text`.
    pub(crate) fn pack(text: &str) -> PackedJson {
        PackedJson {
            bytes: lz4_flex::block::compress_prepend_size_with_dict(text.as_bytes(), DICTIONARY)
                .into_boxed_slice(),
        }
    }

    /// The text given to [`PackedJson::pack`].
    pub(crate) fn unpack(&self) -> String {
        // Only bytes made by `pack` from a `str` get here, so neither step can fail; were they
        // ever damaged, the text comes back empty (not JSON) rather than as a panic.
        lz4_flex::block::decompress_size_prepended_with_dict(&self.bytes, DICTIONARY)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    }

    /// Bytes held, for the benchmarks' memory figures.
    pub(crate) fn packed_len(&self) -> usize {
        self.bytes.len()
    }
}

impl fmt::Debug for PackedJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PackedJson({} bytes)", self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/data/sample-inspect.json");

    #[test]
    fn round_trips_byte_for_byte() {
        for text in [
            "",
            "{}",
            SAMPLE,
            "{\"Name\":\"/ünïcødé 🐳\",\"Env\":[\"A=\\\"b\\\"\"]}",
            &"x".repeat(100_000),
        ] {
            assert_eq!(PackedJson::pack(text).unpack(), text);
        }
    }

    #[test]
    fn equal_texts_pack_equal() {
        assert_eq!(PackedJson::pack(SAMPLE), PackedJson::pack(SAMPLE));
        assert_ne!(PackedJson::pack("{}"), PackedJson::pack("[]"));
    }

    #[test]
    fn a_typical_body_packs_small() {
        let compact = super::super::json::compact_json(SAMPLE);
        // The dictionary is this very body, so it packs to almost nothing; a body of another
        // container shares the keys and defaults (see the benchmarks for real ratios).
        assert!(PackedJson::pack(&compact).packed_len() < compact.len() / 10);
    }

    #[test]
    fn damaged_bytes_unpack_empty() {
        let mut packed = PackedJson::pack(SAMPLE);
        packed.bytes[0] ^= 0xff;
        assert_eq!(packed.unpack(), "");
    }
}
