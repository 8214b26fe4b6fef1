//! The review report, for the record: `runs/<run>/review/report.md` (and `report.html`) with
//! the metrics and their confidence intervals, the plots, the worst images and every decision
//! the reviewers made.

use super::error::{Error, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::decisions::{Decision, review_dir};
use super::table::{Filter, Order, Review};
use crate::atomic::write_atomic;
use crate::eval::report::{html, plots};
use crate::eval::stats::Summary;

fn ci(s: &Summary) -> String {
    match s.ci95 {
        Some(ci) => format!(
            "{:.3} [{}]",
            s.mean,
            crate::eval::stats::written_interval(ci, 3)
        ),
        None => format!("{:.3}", s.mean),
    }
}

/// Writes the report of `review` with `decisions`; returns the Markdown file's path.
pub fn write(review: &Review, decisions: &[Decision]) -> Result<PathBuf> {
    let run = review
        .models
        .primary()
        .ok_or_else(|| Error::Setup("a review needs a run".into()))?
        .to_string();
    let dir = review_dir(&review.root, &run);
    std::fs::create_dir_all(&dir).map_err(Error::file(&dir))?;
    let md = markdown(review, decisions, &dir)?;
    let path = dir.join("report.md");
    write_atomic(&path, md.as_bytes()).map_err(Error::file(&path))?;
    let page = html::from_markdown(&format!("Review of run {run}"), &md);
    let html_path = dir.join("report.html");
    write_atomic(&html_path, page.as_bytes()).map_err(Error::file(&html_path))?;
    Ok(path)
}

fn markdown(review: &Review, decisions: &[Decision], dir: &Path) -> Result<String> {
    let mut md = String::new();
    heading(&mut md, review, decisions);
    segmentation(&mut md, review, dir)?;
    classification(&mut md, review, dir)?;
    decisions_table(&mut md, decisions);
    Ok(md)
}

/// The title: which runs, which project, whose decisions.
fn heading(md: &mut String, review: &Review, decisions: &[Decision]) {
    let names = [
        review
            .models
            .segmenter
            .as_ref()
            .map(|s| format!("segmenter `{s}`")),
        review
            .models
            .classifier
            .as_ref()
            .map(|c| format!("classifier `{c}`")),
    ];
    let names: Vec<String> = names.into_iter().flatten().collect();
    let _ = writeln!(md, "# Review of {}\n", names.join(" and "));
    let mut reviewers: Vec<&str> = decisions.iter().map(|d| d.reviewer.as_str()).collect();
    reviewers.sort_unstable();
    reviewers.dedup();
    let _ = writeln!(
        md,
        "Project `{}`, {} images; written {}{}.\n",
        review.root.display(),
        review.rows.len(),
        crate::project::label::now_rfc3339(),
        if reviewers.is_empty() {
            String::new()
        } else {
            format!(" from the decisions of {}", reviewers.join(", "))
        }
    );
}

/// The segmentation metrics per split, the IoU histogram and the worst images.
fn segmentation(md: &mut String, review: &Review, dir: &Path) -> Result<()> {
    let all = Filter::default();
    let Some(seg) = review.segmentation(&all) else {
        return Ok(());
    };
    let _ = writeln!(md, "## Segmentation\n");
    let _ = writeln!(
        md,
        "Labeled nerve images with a mask, at threshold {:.2}; mean [95 % CI].\n",
        review.threshold
    );
    let _ = writeln!(md, "| split | images | IoU | Dice | clDice | median IoU |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    let splits = [None, Some(crate::project::Split::Test)];
    for split in splits {
        let f = Filter {
            split,
            ..Default::default()
        };
        if let Some(s) = review.segmentation(&f) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.3} |",
                split.map_or("all", |s| s.name()),
                s.images,
                ci(&s.iou),
                ci(&s.dice),
                ci(&s.cl_dice),
                s.iou.median
            );
        }
    }
    let iou: Vec<f64> = review.rows.iter().filter_map(|r| r.iou()).collect();
    let mean = seg.iou.mean;
    plots::render(
        dir,
        "iou_histogram",
        (640, 420),
        |a| plots::iou_histogram(a, &iou, mean),
        |a| plots::iou_histogram(a, &iou, mean),
    )?;
    let _ = writeln!(md, "\n![IoU histogram](iou_histogram.png)\n");
    let _ = writeln!(md, "Worst images by IoU:\n");
    let _ = writeln!(md, "| image | split | IoU | Dice | clDice |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for i in review.queue(Order::WorstIou, &all).into_iter().take(10) {
        let r = &review.rows[i];
        if let Some(s) = &r.scores {
            let _ = writeln!(
                md,
                "| {} | {} | {:.3} | {:.3} | {:.3} |",
                r.stem,
                r.split.map_or("-", |s| s.name()),
                s.iou,
                s.dice,
                s.cl_dice
            );
        }
    }
    md.push('\n');
    Ok(())
}

/// The classification metrics, per class, the confusion matrix and the ROC curves.
fn classification(md: &mut String, review: &Review, dir: &Path) -> Result<()> {
    let Some(cls) = review.classification(&Filter::default()) else {
        return Ok(());
    };
    let _ = writeln!(md, "## Classification\n");
    let _ = writeln!(
        md,
        "{} labeled images; accuracy {:.3}, MCC {:.3}, macro AUC {} (mean of the classes' \
         AUCs), area under the macro-average ROC curve {}.\n",
        cls.images,
        cls.accuracy,
        cls.mcc,
        cls.macro_auc.map_or("-".into(), |a| format!("{a:.3}")),
        cls.macro_curve_auc
            .map_or("-".into(), |a| format!("{a:.3}"))
    );
    let _ = writeln!(
        md,
        "| class | images | sensitivity | specificity | F1 | AUC |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for c in &cls.per_class {
        let _ = writeln!(
            md,
            "| {} | {} | {:.3} | {:.3} | {:.3} | {} |",
            c.class,
            c.support,
            c.rates.sensitivity,
            c.rates.specificity,
            c.rates.f1_positive,
            c.auc.map_or("-".into(), |a| format!("{a:.3}"))
        );
    }
    let m = cls.clone();
    plots::render(
        dir,
        "confusion",
        (560, 480),
        |a| plots::confusion(a, &m),
        |a| plots::confusion(a, &m),
    )?;
    let _ = writeln!(md, "\n![Confusion matrix](confusion.png)\n");
    if cls.roc.is_some() {
        plots::render(
            dir,
            "roc",
            (560, 480),
            |a| plots::roc(a, &m),
            |a| plots::roc(a, &m),
        )?;
        let _ = writeln!(md, "![ROC curves](roc.png)\n");
    }
    Ok(())
}

/// Every decision of the review, with the counts of each kind.
fn decisions_table(md: &mut String, decisions: &[Decision]) {
    let _ = writeln!(md, "## Decisions\n");
    if decisions.is_empty() {
        let _ = writeln!(md, "No image was accepted, flagged or sent for editing.\n");
    } else {
        let count = |v| decisions.iter().filter(|d| d.verdict == v).count();
        use super::decisions::Verdict::*;
        let _ = writeln!(
            md,
            "{} masks and {} classes accepted as truth, {} flagged, {} sent for editing, {} \
             acceptances undone.\n",
            count(AcceptedMask),
            count(AcceptedClass),
            count(Flagged),
            count(Edited),
            count(Undone)
        );
        let _ = writeln!(
            md,
            "| image | decision | label | call | IoU | comment | by | when |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for d in decisions {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                d.stem,
                d.verdict.name(),
                d.label.as_deref().unwrap_or("-"),
                d.call.as_deref().unwrap_or("-"),
                d.iou.map_or("-".into(), |i| format!("{i:.3}")),
                d.comment.replace('|', "/"),
                d.reviewer,
                d.at
            );
        }
    }
}
