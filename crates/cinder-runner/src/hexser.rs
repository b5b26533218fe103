//! serde for `[u8; 32]` as 64 lowercase hex characters (hashes in JSON manifests).

use serde::{de::Error, Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| D::Error::custom(format!("{text:?} is not 64 hex characters")))
}

/// 64 hex characters (either case) as 32 bytes.
pub(crate) fn parse(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    (text.len() == 64).then_some(())?;
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
