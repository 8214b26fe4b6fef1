//! The Review screen's summary (metrics with confidence intervals, IoU histogram, confusion
//! matrix whose cells open their images, ROC curves) and its image-by-image run comparison.

use super::{Choice, Delta, Message, Review};
use crate::eval::classification::ClassificationMetrics;
use crate::eval::segmentation::SegmentationMetrics;
use crate::eval::stats::Summary as Spread;
use crate::gui::style::{muted, panel};
use crate::gui::widgets::curves::{self, Chart, Series};
use crate::review::Filter;
use iced::widget::{Column, Row, button, column, container, pick_list, row, scrollable, text};
use iced::{Alignment, Color, Element, Length};

/// Colours of ROC lines, one per class (Okabe-Ito: blue, vermillion, bluish green, purple).
const CLASS_COLOURS: [Color; 4] = [
    Color::from_rgb(0.0, 0.447, 0.698),
    Color::from_rgb(0.835, 0.369, 0.0),
    Color::from_rgb(0.0, 0.62, 0.451),
    Color::from_rgb(0.8, 0.475, 0.655),
];

fn with_ci(s: &Spread) -> String {
    match s.ci95 {
        Some(ci) => format!(
            "{:.3}  [{}]",
            s.mean,
            crate::eval::stats::shown_interval(ci, 3)
        ),
        None => format!("{:.3}", s.mean),
    }
}

fn cell<'a>(content: impl text::IntoFragment<'a>, width: f32) -> Element<'a, Message> {
    text(content).size(13).width(Length::Fixed(width)).into()
}

/// The Summary tab's figures, computed when the queue's filters or rows change.
pub struct Summary {
    pub segmentation: Option<SegmentationMetrics>,
    /// The IoU of each scored image (for the histogram).
    pub iou: Vec<f64>,
    pub classification: Option<ClassificationMetrics>,
}

impl Review {
    /// Recomputes the summary over the queue's filters, without its confusion cell.
    pub(super) fn summarise(&mut self) {
        self.summary = self.table.as_ref().map(|table| {
            let scope = Filter {
                cell: None,
                ..self.filter.clone()
            };
            Summary {
                segmentation: table.segmentation(&scope),
                iou: table
                    .rows
                    .iter()
                    .filter(|r| table.accepts(r, &scope))
                    .filter_map(|r| r.iou())
                    .collect(),
                classification: table.classification(&scope),
            }
        });
    }

    pub(super) fn summary(&self) -> Element<'_, Message> {
        let (Some(table), Some(summary)) = (&self.table, &self.summary) else {
            return text("").into();
        };
        let mut left = Column::new().spacing(12);
        left = left.push(
            text(
                "Over the images the queue's class, split and status filters keep (choose split \
                 test for numbers the models never trained on); mean with its 95 % confidence \
                 interval.",
            )
            .size(12)
            .style(muted),
        );
        if let Some(seg) = &summary.segmentation {
            left = left.push(segmentation_table(seg));
            left = left.push(histogram(&summary.iou));
        } else if table.models.segmenter.is_some() {
            left = left.push(text("No labeled nerve image with a mask here to score.").size(13));
        }
        let mut right = Column::new().spacing(12);
        if let Some(cls) = &summary.classification {
            right = right.push(confusion(cls));
            right = right.push(class_rates(cls));
            if let Some(roc) = roc_chart(cls) {
                right = right.push(roc);
            }
        } else if table.models.classifier.is_some() {
            right = right.push(text("No labeled image here for the classifier.").size(13));
        }
        scrollable(
            row![
                left.width(Length::FillPortion(1)),
                right.width(Length::FillPortion(1))
            ]
            .spacing(20),
        )
        .into()
    }

    pub(super) fn compare(&self) -> Element<'_, Message> {
        let mut others = vec![Choice {
            value: None,
            label: "choose a run".into(),
        }];
        others.extend(
            self.runs_of(crate::ml::models::Task::Segment)
                .into_iter()
                .filter(|c| c.value.is_some() && c.value != self.models.segmenter),
        );
        let selected = others
            .iter()
            .find(|c| c.value == self.compare_with)
            .cloned();
        let mut col = Column::new().spacing(10).push(
            row![
                text(format!(
                    "Segmenter {} compared with",
                    self.models.segmenter.as_deref().unwrap_or("(none)")
                ))
                .size(14),
                pick_list(others, selected, Message::CompareWith).text_size(13),
            ]
            .spacing(10)
            .align_y(Alignment::Center),
        );
        match &self.comparison {
            None if self.compare_with.is_some() => {
                col = col.push(text("Predicting and scoring with the other run…").size(13));
            }
            None => {
                col = col.push(
                    text("Choose another segmenter to see, image by image, which got better or worse.")
                        .size(13)
                        .style(muted),
                );
            }
            Some(Err(e)) => col = col.push(text(e.to_string()).size(13).style(text::danger)),
            Some(Ok(deltas)) => col = col.push(deltas_view(deltas)),
        }
        col.into()
    }
}

/// Ten bins of IoU from 0 to 1, drawn as bars with their counts.
fn histogram<'a>(iou: &[f64]) -> Element<'a, Message> {
    let mut bins = [0usize; 10];
    for &v in iou {
        bins[((v * 10.0).floor() as usize).min(9)] += 1;
    }
    let top = bins.iter().copied().max().unwrap_or(0).max(1);
    let height = 120.0;
    let mut bars = Row::new().spacing(4).align_y(Alignment::End);
    for (i, &n) in bins.iter().enumerate() {
        let h = (n as f32 / top as f32 * height).max(if n > 0 { 2.0 } else { 0.0 });
        bars = bars.push(
            column![
                text(if n > 0 { n.to_string() } else { String::new() }).size(11),
                container(text(""))
                    .width(Length::Fixed(30.0))
                    .height(Length::Fixed(h))
                    .style(|_| container::Style {
                        background: Some(Color::from_rgb(0.35, 0.62, 0.92).into()),
                        ..container::Style::default()
                    }),
                text(format!("{:.1}", i as f64 / 10.0)).size(10),
            ]
            .align_x(Alignment::Center)
            .spacing(2),
        );
    }
    container(
        column![
            text(format!("IoU per image ({} images)", iou.len())).size(13),
            bars
        ]
        .spacing(6),
    )
    .padding(10)
    .style(panel)
    .into()
}

/// The segmenter's metrics: mean with its interval, median, images.
fn segmentation_table(seg: &SegmentationMetrics) -> Element<'_, Message> {
    let mut t = Column::new().spacing(4).push(row![
        cell("Segmenter", 90.0),
        cell("mean [95 % CI]", 200.0),
        cell("median", 70.0),
        cell("images", 60.0)
    ]);
    for (name, s) in [
        ("IoU", &seg.iou),
        ("Dice", &seg.dice),
        ("clDice", &seg.cl_dice),
        ("precision", &seg.precision),
        ("recall", &seg.recall),
    ] {
        t = t.push(row![
            cell(name, 90.0),
            cell(with_ci(s), 200.0),
            cell(format!("{:.3}", s.median), 70.0),
            cell(s.n.to_string(), 60.0),
        ]);
    }
    container(t).padding(10).style(panel).into()
}

/// The confusion matrix, whose cells open their images, and the headline metrics.
fn confusion(cls: &ClassificationMetrics) -> Element<'_, Message> {
    let n = cls.classes.len();
    let mut grid = Column::new().spacing(4).push(
        text("Confusion matrix: rows labeled, columns called; click a cell to see its images")
            .size(12)
            .style(muted),
    );
    let mut head = Row::new().spacing(4).push(cell("", 110.0));
    for c in &cls.classes {
        head = head.push(cell(format!("called {c}"), 110.0));
    }
    grid = grid.push(head);
    for t in 0..n {
        let total: u64 = cls.confusion[t].iter().sum();
        let mut line = Row::new()
            .spacing(4)
            .push(cell(cls.classes[t].clone(), 110.0));
        for c in 0..n {
            let count = cls.confusion[t][c];
            let share = if total > 0 {
                count as f64 / total as f64
            } else {
                0.0
            };
            line = line.push(
                button(
                    column![
                        text(count.to_string()).size(15),
                        text(format!("{:.0} %", share * 100.0)).size(11)
                    ]
                    .align_x(Alignment::Center)
                    .width(Length::Fill),
                )
                .width(Length::Fixed(110.0))
                .style(if t == c {
                    button::success
                } else if count > 0 {
                    button::danger
                } else {
                    button::secondary
                })
                .on_press_maybe((count > 0).then_some(Message::Cell(t, c))),
            );
        }
        grid = grid.push(line);
    }
    grid = grid.push(
        text(format!(
            "{} images · accuracy {:.3} · MCC {:.3} · macro AUC {} \
             (macro-average curve {})",
            cls.images,
            cls.accuracy,
            cls.mcc,
            cls.macro_auc.map_or("–".into(), |a| format!("{a:.3}")),
            cls.macro_curve_auc
                .map_or("–".into(), |a| format!("{a:.3}"))
        ))
        .size(13),
    );
    container(grid).padding(10).style(panel).into()
}

/// Sensitivity, specificity, PPV, F1 and AUC per class.
fn class_rates(cls: &ClassificationMetrics) -> Element<'_, Message> {
    let mut rates = Column::new().spacing(4).push(row![
        cell("class", 110.0),
        cell("sensitivity", 90.0),
        cell("specificity", 90.0),
        cell("PPV", 70.0),
        cell("F1", 70.0),
        cell("AUC", 70.0)
    ]);
    for c in &cls.per_class {
        rates = rates.push(row![
            cell(c.class.clone(), 110.0),
            cell(format!("{:.3}", c.rates.sensitivity), 90.0),
            cell(format!("{:.3}", c.rates.specificity), 90.0),
            cell(format!("{:.3}", c.rates.ppv), 70.0),
            cell(format!("{:.3}", c.rates.f1_positive), 70.0),
            cell(c.auc.map_or("–".into(), |a| format!("{a:.3}")), 70.0),
        ]);
    }
    container(rates).padding(10).style(panel).into()
}

/// The ROC curves of the classes that have both kinds of image, when there are any.
fn roc_chart(cls: &ClassificationMetrics) -> Option<Element<'_, Message>> {
    let roc = cls.roc.as_ref()?;
    let series = roc
        .per_class
        .iter()
        .zip(&cls.classes)
        .enumerate()
        .filter(|(_, (r, _))| r.auc.is_some())
        .map(|(i, (r, name))| Series {
            name: format!("{name} (AUC {:.2})", r.auc.unwrap_or(0.0)),
            color: CLASS_COLOURS[i % CLASS_COLOURS.len()],
            points: r.fpr.iter().copied().zip(r.tpr.iter().copied()).collect(),
        })
        .collect();
    let chart = curves::view(
        Chart {
            title: "ROC".into(),
            series,
            epochs: 0,
            y_range: Some((0.0, 1.0)),
            x_range: Some((0.0, 1.0)),
        },
        260.0,
    );
    Some(
        column![
            text("ROC: false positive rate (across) against true positive rate (up)")
                .size(12)
                .style(muted),
            chart
        ]
        .spacing(12)
        .into(),
    )
}

/// The two runs image by image: how many got better or worse, and every image, largest
/// change first; a click opens the image.
fn deltas_view(deltas: &[Delta]) -> Element<'_, Message> {
    let better = deltas.iter().filter(|d| d.theirs > d.ours + 0.01).count();
    let worse = deltas.iter().filter(|d| d.theirs < d.ours - 0.01).count();
    let mean =
        |f: fn(&Delta) -> f64| deltas.iter().map(f).sum::<f64>() / deltas.len().max(1) as f64;
    let headline = text(format!(
        "{} images scored by both: the other run is better on {better}, worse on \
             {worse}, about the same (±0.01) on {}; mean IoU {:.3} → {:.3}",
        deltas.len(),
        deltas.len() - better - worse,
        mean(|d| d.ours),
        mean(|d| d.theirs)
    ))
    .size(14);
    let mut list = Column::new().spacing(2).push(row![
        cell("image", 260.0),
        cell("this run", 90.0),
        cell("other run", 90.0),
        cell("change", 90.0)
    ]);
    for d in deltas {
        let change = d.theirs - d.ours;
        let colour = if change > 0.01 {
            Color::from_rgb(0.35, 0.75, 0.95)
        } else if change < -0.01 {
            Color::from_rgb(0.95, 0.55, 0.25)
        } else {
            Color::from_rgb(0.7, 0.7, 0.7)
        };
        list = list.push(
            button(row![
                cell(d.stem.clone(), 260.0),
                cell(format!("{:.3}", d.ours), 90.0),
                cell(format!("{:.3}", d.theirs), 90.0),
                text(format!("{change:+.3}"))
                    .size(13)
                    .color(colour)
                    .width(Length::Fixed(90.0)),
            ])
            .style(button::text)
            .padding([2, 4])
            .on_press(Message::Open(d.stem.clone())),
        );
    }
    column![headline, scrollable(list).height(Length::Fill)]
        .spacing(10)
        .into()
}
