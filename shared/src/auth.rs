//! Who is calling: the context the API-key authorizer hands to every
//! authenticated route (API Gateway puts it in `requestContext.authorizer.lambda`).

use crate::ids::{ApiKeyId, UserId};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    pub user_id: UserId,
    pub key_id: ApiKeyId,
    /// The plan as recorded on the key. Rules that depend on the plan (the
    /// key quota) check the profile itself, in the same write.
    pub plan: Plan,
}

/// Set in the authorizer's context, beside the caller, when the key is over
/// its plan's rate limit: the seconds until its window ends. The route then
/// answers 429 without calling DynamoDB.
pub const RETRY_AFTER_FIELD: &str = "retryAfter";
