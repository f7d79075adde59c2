//! Rendering of the agent templates (`templates/agent/`, embedded in `crate::templates`).

use serde::Serialize;

use super::error::AgentError;

/// Render the embedded agent template `name` with `context`.
pub(super) fn render(name: &'static str, context: impl Serialize) -> Result<String, AgentError> {
    crate::templates::render(name, context).map_err(|source| AgentError::Template { name, source })
}
