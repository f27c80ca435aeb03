//! Which data model a table holds. The model changed shape in version 2
//! (posts split into card, body and view counters; lean index projections;
//! the all-users listing sharded), and data of one model read as the other
//! would be misread, so the table records its version in one item,
//! `SCHEMA` / `SCHEMA`, written when the table is created or migrated.
//! Tables from before version 2 have no such item.

use crate::keys::Placement;
use crate::{Error, Table, keys, to_item};
use serde::{Deserialize, Serialize};

/// The data model this code reads and writes.
pub const VERSION: u32 = 2;
pub const ENTITY: &str = "schema";

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    entity: String,
    version: u32,
}

/// Records that the table holds this code's data model.
pub async fn record(table: &Table) -> Result<(), Error> {
    let item = to_item(&Marker { entity: ENTITY.into(), version: VERSION }, &Placement::new(keys::schema()))?;
    table.client().put_item().table_name(table.name()).set_item(Some(item)).send().await?;
    Ok(())
}

/// The data model version the table records: 1 when it records none (every
/// table written before versions were recorded).
pub async fn version(table: &Table) -> Result<u32, Error> {
    let output =
        table.client().get_item().table_name(table.name()).set_key(Some(keys::schema().to_attributes())).consistent_read(true).send().await?;
    match output.item {
        None => Ok(1),
        Some(item) => Ok(serde_dynamo::from_item::<_, Marker>(item)?.version),
    }
}
