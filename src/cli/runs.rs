//! `nerve-studio runs`: the model registry from the command line.

use std::path::Path;

use anyhow::{Result, anyhow};

use crate::ml::registry;

fn ci(c: Option<[f64; 2]>) -> String {
    c.map_or(String::new(), |c| {
        format!(" (95% CI {})", crate::eval::stats::shown_interval(c, 4))
    })
}

pub fn list(project: &Path, json: bool) -> Result<()> {
    let runs = registry::list(project).map_err(|e| anyhow!(e))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "runs": runs }))?
        );
        return Ok(());
    }
    if runs.is_empty() {
        println!("no runs yet in {}", project.join("runs").display());
    }
    for r in &runs {
        println!(
            "{}{}  {}  {} epochs of {}  {}  trained on {} images, validated on {}",
            r.id,
            if r.active { "  [active]" } else { "" },
            r.info.status,
            r.info.epochs_done,
            r.info.epochs_planned,
            r.info.device,
            r.trained_on,
            r.validated_on
        );
        println!("    {}", r.info.started_from());
        let s = &r.stale;
        if s.total() > 0 {
            println!(
                "    stale: {} masks changed, {} relabeled, {} no longer usable, {} new since it was trained",
                s.masks_changed, s.relabeled, s.removed, s.added
            );
        }
        for h in &r.evaluations {
            let parts: Vec<String> = h
                .metrics
                .iter()
                .map(|m| format!("{} {:.4}{}", m.name, m.value, ci(m.ci95)))
                .collect();
            println!(
                "    {} ({} images): {}",
                h.split,
                h.images,
                parts.join(", ")
            );
        }
    }
    Ok(())
}

pub fn compare(project: &Path, a: &str, b: &str, json: bool) -> Result<()> {
    let c = registry::compare(project, a, b).map_err(|e| anyhow!(e))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&c)?);
        return Ok(());
    }
    println!(
        "split {}: A = {} ({} images), B = {} ({} images)",
        c.split, c.a, c.images_a, c.b, c.images_b
    );
    println!(
        "{:<28} {:>28} {:>28} {:>9}",
        "metric", "A (95% CI)", "B (95% CI)", "B - A"
    );
    for r in &c.rows {
        println!(
            "{:<28} {:>28} {:>28} {:>+9.4}",
            r.metric,
            format!("{:.4}{}", r.a, ci(r.a_ci95)),
            format!("{:.4}{}", r.b, ci(r.b_ci95)),
            r.delta
        );
    }
    Ok(())
}

pub fn activate(project: &Path, run: &str) -> Result<()> {
    let role = registry::activate(project, run).map_err(|e| anyhow!(e))?;
    println!("{run} is now the active {role}");
    Ok(())
}

pub fn delete(project: &Path, run: &str, force: bool) -> Result<()> {
    let path = registry::delete(project, run, force).map_err(|e| anyhow!(e))?;
    println!("deleted {}", path.display());
    Ok(())
}
