//! The report's plots, drawn once against any plotters backend and rendered to PNG and SVG.

use crate::eval::error::{Error, Result};
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::classification::ClassificationMetrics;
use super::super::segmentation::PrCurve;
use super::TrainingCurve;
use crate::atomic::write_atomic;

type Area<'a, DB> = DrawingArea<DB, Shift>;
pub type PlotResult = Result<()>;

pub const FONT: &str = "sans-serif";

/// Registers the embedded font for bitmap text (the SVG names the family and lets the viewer
/// draw it).
pub fn register_font_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
        if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_err() {
            eprintln!("warning: the embedded plot font could not be read");
        }
    });
}

fn err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Drawing(format!("plot: {e:?}"))
}

/// Draws the same plot with both backends: `plot!(dir, name, size, |area| draw(area, ..))`.
macro_rules! plot {
    ($dir:expr, $name:expr, $size:expr, |$a:ident| $body:expr) => {
        $crate::eval::report::plots::render(
            $dir,
            $name,
            $size,
            |$a: &plotters::drawing::DrawingArea<
                plotters::backend::BitMapBackend,
                plotters::coord::Shift,
            >| $body,
            |$a: &plotters::drawing::DrawingArea<
                plotters::backend::SVGBackend,
                plotters::coord::Shift,
            >| $body,
        )
    };
}
pub(crate) use plot;

/// Draws into `<dir>/<name>.png` and `<dir>/<name>.svg`; returns the file names.
pub fn render(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    draw_png: impl Fn(&Area<BitMapBackend>) -> PlotResult,
    draw_svg: impl Fn(&Area<SVGBackend>) -> PlotResult,
) -> Result<Vec<String>> {
    register_font_once();
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw_png(&root)?;
        root.present().map_err(err)?;
    }
    let png =
        super::encode_png(&image::RgbImage::from_raw(size.0, size.1, rgb).expect("plot buffer"))?;
    let png_name = format!("{name}.png");
    let png_path = dir.join(&png_name);
    write_atomic(&png_path, &png).map_err(Error::file(&png_path))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw_svg(&root)?;
        root.present().map_err(err)?;
    }
    let svg_name = format!("{name}.svg");
    let svg_path = dir.join(&svg_name);
    write_atomic(&svg_path, svg.as_bytes()).map_err(Error::file(&svg_path))?;
    Ok(vec![png_name, svg_name])
}

/// One line of a chart: its legend label (empty: none), points, colour and whether dashed.
type Series = (String, Vec<(f64, f64)>, RGBColor, bool);

/// Colours for series, readable on white and distinct for the colour-blind (Okabe-Ito).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
];

fn line_chart<DB: DrawingBackend>(
    area: &Area<DB>,
    title: &str,
    x: (&str, std::ops::Range<f64>),
    y: (&str, std::ops::Range<f64>),
    series: &[Series],
    marks: &[(f64, f64)],
    legend: SeriesLabelPosition,
) -> PlotResult {
    let whole_x = x.0 == "epoch";
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(x.1, y.1)
        .map_err(err)?;
    let epoch_label = |v: &f64| format!("{v:.0}");
    let plain = |v: &f64| format!("{v:.1}");
    chart
        .configure_mesh()
        .x_desc(x.0)
        .y_desc(y.0)
        .x_label_formatter(if whole_x { &epoch_label } else { &plain })
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(err)?;
    for (label, points, colour, dashed) in series {
        let colour = *colour;
        let style = colour.stroke_width(2);
        let drawn = if *dashed {
            chart
                .draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, style))
                .map_err(err)?
        } else {
            chart
                .draw_series(LineSeries::new(points.iter().copied(), style))
                .map_err(err)?
        };
        if !label.is_empty() {
            drawn.label(label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
            });
        }
    }
    chart
        .draw_series(
            marks
                .iter()
                .map(|&p| Circle::new(p, 6, PALETTE[1].filled())),
        )
        .map_err(err)?;
    if series.iter().any(|s| !s.0.is_empty()) {
        chart
            .configure_series_labels()
            .position(legend)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font((FONT, 14))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

fn padded_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.08).max(1e-3);
    (lo - pad).max(0.0)..hi + pad
}

/// Loss and the task's metric per epoch, training and validation.
pub fn training_curves<DB: DrawingBackend>(area: &Area<DB>, curve: &TrainingCurve) -> PlotResult {
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    let pts = |v: &[f64]| -> Vec<(f64, f64)> {
        curve.epochs.iter().zip(v).map(|(&e, &y)| (e, y)).collect()
    };
    let epochs = 1.0..(curve.epochs.last().copied().unwrap_or(1.0).max(2.0));
    let loss_range = padded_range(curve.train_loss.iter().chain(&curve.val_loss).copied());
    line_chart(
        &left,
        "Loss",
        ("epoch", epochs.clone()),
        ("loss", loss_range),
        &[
            ("training".into(), pts(&curve.train_loss), PALETTE[0], false),
            ("validation".into(), pts(&curve.val_loss), PALETTE[1], false),
        ],
        &[],
        SeriesLabelPosition::UpperRight,
    )?;
    line_chart(
        &right,
        &curve.metric_name,
        ("epoch", epochs),
        (&curve.metric_name, 0.0..1.0),
        &[
            (
                "training".into(),
                pts(&curve.train_metric),
                PALETTE[0],
                false,
            ),
            (
                "validation".into(),
                pts(&curve.val_metric),
                PALETTE[1],
                false,
            ),
        ],
        &[],
        SeriesLabelPosition::LowerRight,
    )
}

/// One-vs-rest ROC per class, with the micro and macro averages and the chance diagonal.
pub fn roc<DB: DrawingBackend>(area: &Area<DB>, m: &ClassificationMetrics) -> PlotResult {
    let Some(roc) = &m.roc else { return Ok(()) };
    let auc = |a: Option<f64>| a.map_or("undefined".to_string(), |a| format!("{a:.3}"));
    let mut series = vec![];
    for (k, c) in roc.per_class.iter().enumerate() {
        series.push((
            format!("{} (AUC {})", m.classes[k], auc(c.auc)),
            c.fpr.iter().copied().zip(c.tpr.iter().copied()).collect(),
            PALETTE[k % PALETTE.len()],
            false,
        ));
    }
    series.push((
        format!("micro (AUC {})", auc(roc.micro.auc)),
        roc.micro
            .fpr
            .iter()
            .copied()
            .zip(roc.micro.tpr.iter().copied())
            .collect(),
        RGBColor(60, 60, 60),
        true,
    ));
    if let Some(mac) = &roc.macro_average {
        series.push((
            format!("macro (AUC {})", auc(mac.auc)),
            mac.fpr
                .iter()
                .copied()
                .zip(mac.tpr.iter().copied())
                .collect(),
            RGBColor(150, 150, 150),
            true,
        ));
    }
    series.push((
        String::new(),
        vec![(0.0, 0.0), (1.0, 1.0)],
        RGBColor(200, 200, 200),
        true,
    ));
    line_chart(
        area,
        "ROC curves (one vs rest)",
        ("false-positive rate (1 - specificity)", 0.0..1.0),
        ("true-positive rate (sensitivity)", 0.0..1.0),
        &series,
        &[],
        SeriesLabelPosition::LowerRight,
    )
}

/// The confusion matrix as a heat map of row percentages, with the counts written in.
/// The class names along both axes of the confusion matrix, and the x axis's title.
fn class_names<DB: DrawingBackend>(
    area: &Area<DB>,
    chart: &ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    m: &ClassificationMetrics,
    k: usize,
) -> PlotResult {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let centred = |size: u32, ink: &RGBColor, h: HPos| TextStyle {
        font: (FONT, size).into_font(),
        color: ink.to_backend_color(),
        pos: Pos::new(h, VPos::Center),
    };
    let grey = RGBColor(40, 40, 40);
    for (c, name) in m.classes.iter().enumerate() {
        let (x, bottom) = chart.backend_coord(&(c as f64 + 0.5, 0.0));
        area.draw(&Text::new(
            name.clone(),
            (x, bottom + 14),
            centred(15, &grey, HPos::Center),
        ))
        .map_err(err)?;
        let (left, y) = chart.backend_coord(&(0.0, (k - 1 - c) as f64 + 0.5));
        area.draw(&Text::new(
            name.clone(),
            (left - 10, y),
            centred(15, &grey, HPos::Right),
        ))
        .map_err(err)?;
    }
    let (mid, bottom) = chart.backend_coord(&(k as f64 / 2.0, 0.0));
    area.draw(&Text::new(
        "predicted",
        (mid, bottom + 36),
        centred(14, &RGBColor(90, 90, 90), HPos::Center),
    ))
    .map_err(err)?;
    Ok(())
}

pub fn confusion<DB: DrawingBackend>(area: &Area<DB>, m: &ClassificationMetrics) -> PlotResult {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let k = m.classes.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Confusion matrix (rows: truth, columns: prediction)",
            (FONT, 20),
        )
        .margin(16)
        .margin_left(130)
        .margin_bottom(50)
        .build_cartesian_2d(0.0..k as f64, 0.0..k as f64)
        .map_err(err)?;
    let centred = |size: u32, ink: &RGBColor, h: HPos| TextStyle {
        font: (FONT, size).into_font(),
        color: ink.to_backend_color(),
        pos: Pos::new(h, VPos::Center),
    };
    for (t, row) in m.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum();
        let y = (k - 1 - t) as f64;
        for (p, &n) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            };
            let x = p as f64;
            let colour = RGBColor(
                (245.0 - share * 215.0) as u8,
                (248.0 - share * 150.0) as u8,
                (255.0 - share * 60.0) as u8,
            );
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    colour.filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    WHITE.stroke_width(2),
                )))
                .map_err(err)?;
            let ink = if share > 0.55 { WHITE } else { BLACK };
            let centre = chart.backend_coord(&(x + 0.5, y + 0.5));
            area.draw(&Text::new(
                format!("{n}"),
                (centre.0, centre.1 - 10),
                centred(22, &ink, HPos::Center),
            ))
            .map_err(err)?;
            area.draw(&Text::new(
                format!("{:.0}% of row", share * 100.0),
                (centre.0, centre.1 + 14),
                centred(13, &ink, HPos::Center),
            ))
            .map_err(err)?;
        }
    }
    class_names(area, &chart, m, k)?;
    Ok(())
}

/// Precision over recall for all pixels, with the best-F1 point.
pub fn pr_curve<DB: DrawingBackend>(area: &Area<DB>, c: &PrCurve) -> PlotResult {
    let points: Vec<(f64, f64)> = c
        .recall
        .iter()
        .copied()
        .zip(c.precision.iter().copied())
        .collect();
    line_chart(
        area,
        &format!(
            "Precision-recall, pixels (AUC {:.3}; best F1 {:.3} at threshold {:.3})",
            c.auc, c.best.f1, c.best.threshold
        ),
        ("recall", 0.0..1.0),
        ("precision", 0.0..1.02),
        &[("pixels".into(), points, PALETTE[0], false)],
        &[(c.best.recall, c.best.precision)],
        SeriesLabelPosition::LowerLeft,
    )
}

/// How many images fall into each tenth of IoU (twenty bins).
pub fn iou_histogram<DB: DrawingBackend>(area: &Area<DB>, iou: &[f64], mean: f64) -> PlotResult {
    const BINS: usize = 20;
    let mut counts = [0u32; BINS];
    for &v in iou {
        counts[((v.clamp(0.0, 1.0) * BINS as f64) as usize).min(BINS - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("IoU per image (n = {}, mean {mean:.3})", iou.len()),
            (FONT, 22),
        )
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..1.0, 0u32..top + top / 8 + 1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("IoU")
        .y_desc("images")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(b, &n)| {
            let x0 = b as f64 / BINS as f64;
            Rectangle::new(
                [(x0 + 0.004, 0), (x0 + 1.0 / BINS as f64 - 0.004, n)],
                PALETTE[0].filled(),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(mean, 0), (mean, top + top / 8)],
            PALETTE[1].stroke_width(2),
        )))
        .map_err(err)?;
    Ok(())
}
