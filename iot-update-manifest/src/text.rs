//! The text map (draft-ietf-suit-manifest "Manifest Text"): human-readable descriptions per language.
//!
//! The keys are always here (the builder writes texts); decoding the map, [`Text`], needs the
//! feature `text`.

/// Keys of the manifest-wide text entries.
pub mod key {
    /// `suit-text-manifest-description`.
    pub const MANIFEST_DESCRIPTION: i64 = 1;
    /// `suit-text-update-description`.
    pub const UPDATE_DESCRIPTION: i64 = 2;
    /// `suit-text-manifest-json-source`.
    pub const MANIFEST_JSON_SOURCE: i64 = 3;
    /// `suit-text-manifest-yaml-source`.
    pub const MANIFEST_YAML_SOURCE: i64 = 4;
}

/// Keys of the per-component text entries.
pub mod component_key {
    /// `suit-text-vendor-name`.
    pub const VENDOR_NAME: i64 = 1;
    /// `suit-text-model-name`.
    pub const MODEL_NAME: i64 = 2;
    /// `suit-text-vendor-domain`.
    pub const VENDOR_DOMAIN: i64 = 3;
    /// `suit-text-model-info`.
    pub const MODEL_INFO: i64 = 4;
    /// `suit-text-component-description`.
    pub const COMPONENT_DESCRIPTION: i64 = 5;
    /// `suit-text-component-version`.
    pub const COMPONENT_VERSION: i64 = 6;
}

#[cfg(feature = "text")]
mod map;
#[cfg(feature = "text")]
pub use map::{ComponentTexts, Language, Text, TextEntry};
