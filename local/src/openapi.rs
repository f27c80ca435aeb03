//! The API's OpenAPI document, `openapi.yaml` at the repository root. The
//! local stack serves it as JSON at [`ROUTE`] (a local convenience, like the
//! DynamoDB-calls header: it is not a route of template.yaml), and the
//! integration tests validate every response they get against it.

use std::path::{Path, PathBuf};

/// Where the local stack serves the document.
pub const ROUTE: &str = "/openapi.json";

/// The repository's openapi.yaml (found from this crate's source folder,
/// like the template).
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")
}

/// Reads the YAML document as JSON.
pub fn load(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| format!("{}: not a valid OpenAPI document: {e}", path.display()))
}
