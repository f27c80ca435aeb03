//! The table's definition as template.yaml declares it, and the CreateTable
//! (and TTL) calls that make the same table on a local engine.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde::Deserialize;

/// The `Properties` of the `AWS::DynamoDB::Table` resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub billing_mode: Option<String>,
    pub attribute_definitions: Vec<AttributeDef>,
    pub key_schema: Vec<KeyDef>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDef>,
    pub time_to_live_specification: Option<TtlDef>,
    pub stream_specification: Option<StreamDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDef {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyDef {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDef {
    pub index_name: String,
    pub key_schema: Vec<KeyDef>,
    pub projection: ProjectionDef,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionDef {
    pub projection_type: String,
    pub non_key_attributes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TtlDef {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDef {
    pub stream_view_type: String,
}

impl TableDefinition {
    /// Creates the table on `client` exactly as declared, and turns on its
    /// TTL. (Point-in-time recovery is a backup setting with no behaviour to
    /// emulate, so it is not applied locally.)
    pub async fn create(&self, client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), String> {
        let err = |e: &dyn std::fmt::Display| format!("creating table {name}: {e}");
        let mut request = client
            .create_table()
            .table_name(name)
            .set_billing_mode(self.billing_mode.as_deref().map(BillingMode::from))
            .set_attribute_definitions(Some(
                self.attribute_definitions.iter().map(AttributeDef::to_sdk).collect::<Result<_, _>>().map_err(|e| err(&e))?,
            ))
            .set_key_schema(Some(key_schema(&self.key_schema).map_err(|e| err(&e))?));
        for index in &self.global_secondary_indexes {
            let gsi = GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(index.sdk_key_schema().map_err(|e| err(&e))?))
                .projection(index.sdk_projection())
                .build()
                .map_err(|e| err(&e))?;
            request = request.global_secondary_indexes(gsi);
        }
        if let Some(stream) = &self.stream_specification {
            request = request.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::from(stream.stream_view_type.as_str()))
                    .build()
                    .map_err(|e| err(&e))?,
            );
        }
        request.send().await.map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        if let Some(ttl) = self.time_to_live_specification.as_ref().filter(|t| t.enabled) {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name(&ttl.attribute_name).enabled(true).build().map_err(|e| err(&e))?,
                )
                .send()
                .await
                .map_err(|e| err(&aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        }
        Ok(())
    }
}

impl IndexDef {
    pub fn sdk_key_schema(&self) -> Result<Vec<KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
        key_schema(&self.key_schema)
    }

    pub fn sdk_projection(&self) -> Projection {
        Projection::builder()
            .projection_type(ProjectionType::from(self.projection.projection_type.as_str()))
            .set_non_key_attributes(self.projection.non_key_attributes.clone())
            .build()
    }
}

impl AttributeDef {
    pub fn to_sdk(&self) -> Result<AttributeDefinition, aws_sdk_dynamodb::error::BuildError> {
        AttributeDefinition::builder()
            .attribute_name(&self.attribute_name)
            .attribute_type(ScalarAttributeType::from(self.attribute_type.as_str()))
            .build()
    }
}

fn key_schema(keys: &[KeyDef]) -> Result<Vec<KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    keys.iter().map(|k| KeySchemaElement::builder().attribute_name(&k.attribute_name).key_type(KeyType::from(k.key_type.as_str())).build()).collect()
}
