//! Plans: `free` and `pro`, and what each allows.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
        }
    }

    /// Active API keys a user on this plan may hold.
    pub fn max_active_keys(self) -> u32 {
        match self {
            Plan::Free => 2,
            Plan::Pro => 10,
        }
    }
}
