//! Agent turn figures (filled in once the runtime lands).

use std::path::Path;

pub async fn run(_bin: &Path) -> anyhow::Result<()> {
    Ok(())
}
