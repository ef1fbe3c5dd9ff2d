//! `gatehouse export [FILE]` and `gatehouse import FILE`: the whole database as JSON lines
//! (docs/export-format.md), to move between SQLite and PostgreSQL or to keep a copy.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::{App, Failure};

/// Files at least this large get a progress bar on a terminal.
const PROGRESS_BYTES: u64 = 4 << 20;

/// A new file next to `path` for writing, readable by the owner only (an export holds
/// password and token hashes): created afresh (never an existing file, never through a
/// symbolic link), and put in `path`'s place by [`finish_private`] once it is complete.
fn create_private(path: &Path) -> std::io::Result<(File, PathBuf)> {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let temp = path.with_file_name(format!(".{name}.{}-{stamp}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    Ok((options.open(&temp)?, temp))
}

/// Renames the complete temporary file over `path`: the name is replaced, not followed, so
/// an existing file (whatever its mode) or symbolic link there gives way to the private file.
fn finish_private(temp: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::rename(temp, path)
}

/// `export [FILE]`
pub async fn export(app: &App, file: Option<&Path>) -> Result<(), Failure> {
    let gh = app.services().await?;
    match file {
        None => {
            let mut out = BufWriter::new(std::io::stdout());
            let report = gh.export(&app.ctx, &mut out).await?;
            // Standard output holds the export; the summary goes to standard error.
            eprintln!(
                "exported {} from the {} database",
                report.counts, report.store
            );
        }
        Some(path) => {
            let (f, temp) = create_private(path)
                .map_err(|e| Failure::Usage(format!("cannot create `{}`: {e}", path.display())))?;
            let written = async {
                let mut out = BufWriter::new(f);
                let report = gh.export(&app.ctx, &mut out).await?;
                let file = out
                    .into_inner()
                    .map_err(|e| Failure::Internal(format!("cannot write the export: {e}")))?;
                file.sync_all()
                    .map_err(|e| Failure::Internal(format!("cannot write the export: {e}")))?;
                finish_private(&temp, path).map_err(|e| {
                    Failure::Usage(format!("cannot replace `{}`: {e}", path.display()))
                })?;
                Ok::<_, Failure>(report)
            }
            .await;
            let report = match written {
                Ok(r) => r,
                Err(e) => {
                    // Nothing half-written stays behind; an earlier file at `path` is intact.
                    let _ = std::fs::remove_file(&temp);
                    return Err(e);
                }
            };
            app.out.emit(
                &format!(
                    "exported {} from the {} database to {}",
                    report.counts,
                    report.store,
                    path.display()
                ),
                &serde_json::json!({
                    "file": path.display().to_string(),
                    "store": report.store,
                    "schema": report.schema,
                    "counts": report.counts,
                }),
            );
        }
    }
    Ok(())
}

/// `import FILE`
pub async fn import(app: &App, path: &Path) -> Result<(), Failure> {
    let f = File::open(path)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", path.display())))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let gh = app.services().await?;
    let bar = (std::io::stderr().is_terminal() && size >= PROGRESS_BYTES).then(|| {
        let bar = ProgressBar::new(size);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} imported {elapsed} ({eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let progress_bar = bar.clone();
    let progress = move |n: u64| {
        if let Some(b) = &progress_bar {
            b.set_position(n);
        }
    };
    let mut reader = BufReader::new(f);
    let result = gh.import(&app.ctx, &mut reader, &progress).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = result.map_err(|e| match e {
        // Name the file in input errors: `export.jsonl: line 12: ...`.
        gatehouse_core::CoreError::Invalid { field, message } => {
            Failure::Core(gatehouse_core::CoreError::Invalid {
                field,
                message: format!("{}: {message}", path.display()),
            })
        }
        other => Failure::Core(other),
    })?;
    let text = format!(
        "imported {} from {} ({} export of {}, schema {})",
        report.counts,
        path.display(),
        report.source_store,
        report.exported_at,
        report.source_schema
    );
    app.out.emit(&text, &report);
    Ok(())
}
