//! report.md: the numbers in tables, the plots embedded, readable in any Markdown viewer.

use std::fmt::Write;

use super::super::classification::{ClassificationMetrics, Rates};
use super::super::segmentation::SegmentationMetrics;
use super::super::stats::Summary;
use super::{Evaluation, Kind};

/// Which figures were drawn.
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    pub training: bool,
    pub confusion: bool,
    pub roc: bool,
    pub segmentation: bool,
    pub samples: bool,
}

fn figure(out: &mut String, name: &str, caption: &str) {
    let _ = writeln!(
        out,
        "![{caption}]({name}.png)\n\n*{caption}* ([SVG]({name}.svg))\n"
    );
}

fn f(v: f64) -> String {
    format!("{v:.4}")
}

pub fn render(eval: &Evaluation, figures: &Figures) -> String {
    let mut out = String::new();
    let what = match eval.kind {
        Kind::Segmentation => "segmentation",
        Kind::Classification => "classification",
    };
    let _ = writeln!(out, "# Evaluation of a {what}\n");
    let _ = writeln!(
        out,
        "Written by nerve-studio {} on {}. Every number is also in `metrics.json`; one row per image is in `per_image.csv`.\n",
        env!("CARGO_PKG_VERSION"),
        chrono::Local::now().format("%Y-%m-%d %H:%M")
    );
    out.push_str("| evaluated | |\n|---|---|\n");
    for (k, v) in &eval.source {
        let _ = writeln!(out, "| {k} | `{v}` |");
    }
    let _ = writeln!(out, "| images scored | {} |\n", eval.images);

    let _ = writeln!(out, "## Problems ({})\n", eval.problems.len());
    if eval.problems.is_empty() {
        out.push_str("None: every file was found, read and matched.\n\n");
    } else {
        for p in &eval.problems {
            let _ = writeln!(out, "- `{}`: {}", p.file.display(), p.problem);
        }
        out.push('\n');
    }
    if let Some(m) = &eval.segmentation {
        segmentation(&mut out, m, figures);
    }
    if let Some(m) = &eval.classification {
        classification(&mut out, m, figures);
    }
    if figures.training {
        out.push_str("## Training\n\n");
        figure(
            &mut out,
            "training_curves",
            "Loss and metric per epoch, training and validation",
        );
    }
    if figures.samples {
        out.push_str("## Samples\n\n");
        let text = match eval.kind {
            Kind::Segmentation => {
                "The best- and worst-scored images. Green: truth only; magenta: prediction only; white: both."
            }
            Kind::Classification => {
                "Right calls (green frame) and wrong calls (orange frame), titled truth → prediction."
            }
        };
        let _ = writeln!(out, "{text}\n");
        let _ = writeln!(out, "![Samples](samples.png)\n");
    }
    out
}

fn summary_row(out: &mut String, name: &str, s: &Summary) {
    let sem = s.sem.map_or("–".into(), f);
    let ci = s
        .ci95
        .map_or("–".into(), |c| format!("{} to {}", f(c[0]), f(c[1])));
    let _ = writeln!(
        out,
        "| {name} | {} | {sem} | {ci} | {} | {} | {} |",
        f(s.mean),
        f(s.median),
        f(s.min),
        f(s.max)
    );
}

fn segmentation(out: &mut String, m: &SegmentationMetrics, figures: &Figures) {
    let _ = writeln!(out, "## Segmentation\n");
    let _ = writeln!(
        out,
        "{} images; a pixel is called nerve where the probability is at least **{:.3}**. Empty masks: {}.\n",
        m.images, m.threshold, m.empty_rule
    );
    out.push_str("| per image | mean | SEM | 95% CI (t) | median | min | max |\n|---|---|---|---|---|---|---|\n");
    summary_row(out, "IoU", &m.iou);
    summary_row(out, "Dice", &m.dice);
    summary_row(out, "precision", &m.precision);
    summary_row(out, "recall", &m.recall);
    summary_row(out, "F1", &m.f1);
    summary_row(out, "clDice", &m.cl_dice);
    let p = &m.pooled;
    let _ = writeln!(
        out,
        "\nAll pixels pooled at that threshold: IoU {}, precision {}, recall {}, F1 {}.\n",
        f(p.iou),
        f(p.precision),
        f(p.recall),
        f(p.f1)
    );
    let c = &m.pr_curve;
    let _ = writeln!(
        out,
        "Precision-recall over all pixels: area {}, average precision {}. The threshold that maximises F1 is **{:.3}** (F1 {}, precision {}, recall {}).\n",
        f(c.auc),
        f(c.average_precision),
        c.best.threshold,
        f(c.best.f1),
        f(c.best.precision),
        f(c.best.recall)
    );
    if figures.segmentation {
        figure(
            out,
            "pr_curve",
            "Precision-recall curve of all pixels; the dot is the best-F1 threshold",
        );
        figure(out, "iou_histogram", "IoU per image; the line is the mean");
    }
}

fn rates_cells(r: &Rates) -> String {
    [
        r.sensitivity,
        r.specificity,
        r.ppv,
        r.npv,
        r.accuracy,
        r.f1_positive,
        r.f1_negative,
        r.mcc,
    ]
    .iter()
    .map(|&v| f(v))
    .collect::<Vec<_>>()
    .join(" | ")
}

fn classification(out: &mut String, m: &ClassificationMetrics, figures: &Figures) {
    let _ = writeln!(out, "## Classification\n");
    let _ = writeln!(
        out,
        "{} images. Accuracy **{}**, multiclass MCC **{}**{}.\n",
        m.images,
        f(m.accuracy),
        f(m.mcc),
        match (m.micro_auc, m.macro_auc, m.macro_curve_auc) {
            (Some(a), Some(b), Some(c)) => format!(
                ", micro AUC {}, macro AUC {} (mean of the classes' AUCs), area under the \
                 macro-average ROC curve {}",
                f(a),
                f(b),
                f(c)
            ),
            _ => String::new(),
        }
    );
    out.push_str("Confusion matrix (rows: truth, columns: prediction):\n\n| truth \\ predicted |");
    for c in &m.classes {
        let _ = write!(out, " {c} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.classes.len()));
    out.push('\n');
    for (c, row) in m.classes.iter().zip(&m.confusion) {
        let cells: Vec<String> = row.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "| **{c}** | {} |", cells.join(" | "));
    }
    out.push_str("\nOne class against the rest:\n\n| class | n | TP | TN | FP | FN | sensitivity | specificity | PPV | NPV | accuracy | F1+ | F1− | MCC | AUC |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for s in &m.per_class {
        let c = s.counts;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.class,
            s.support,
            c.tp,
            c.tn,
            c.fp,
            c.fn_,
            rates_cells(&s.rates),
            s.auc.map_or("–".into(), f)
        );
    }
    for (name, r, auc) in [
        ("macro", &m.macro_average, m.macro_auc),
        ("micro", &m.micro, m.micro_auc),
        ("weighted", &m.weighted, None),
    ] {
        let _ = writeln!(
            out,
            "| *{name}* | | | | | | {} | {} |",
            rates_cells(r),
            auc.map_or("–".into(), f)
        );
    }
    out.push_str("\nA ratio with a zero denominator is written 0; an AUC is undefined (–) for a class with no images or only that class.\n\n");
    if figures.confusion {
        figure(
            out,
            "confusion_matrix",
            "Confusion matrix, shaded by the share of each true class",
        );
    }
    if figures.roc {
        figure(
            out,
            "roc_curves",
            "ROC curves, one class against the rest, with the micro and macro averages",
        );
    }
}
