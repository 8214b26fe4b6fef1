//! Browse's view: the filters on the left, the grid of the images shown, and the details of
//! the selected image (or the labeling panel when several are chosen).

use super::{
    Browse, CELL_HEIGHT, CELL_WIDTH, ClassFilter, Message, PADDING, SCROLLBAR, SPACING,
    THUMB_HEIGHT, bulk, columns, rows_in_view,
};
use crate::gui::screens::Context;
use crate::gui::style::{chip, class_color, muted, panel};
use crate::gui::thumbnails::Thumbnails;
use crate::project::{ImageEntry, Project, Split, Status};
use iced::widget::{button, column, container, image, responsive, row, scrollable, space, text};
use iced::{Alignment, Color, Element, Length, Theme};
use std::collections::BTreeMap;

impl Browse {
    pub fn view<'a>(&'a self, ctx: &Context<'a>) -> Element<'a, Message> {
        let project = ctx.project;
        let body: Element<'a, Message> = if project.images().is_empty() {
            empty_state(
                "This project has no images yet.",
                "Use Import to bring in class folders, a Supervisely export or a VOC dataset.",
            )
        } else if self.shown.is_empty() {
            column![
                empty_state(
                    "No images match these filters.",
                    "Change a filter on the left, or clear them all."
                ),
                container(button("Clear filters").on_press(Message::ClearFilters))
                    .center_x(Length::Fill),
            ]
            .into()
        } else {
            self.grid(ctx)
        };
        let mut main = row![
            self.sidebar(project),
            container(body).width(Length::Fill).height(Length::Fill)
        ]
        .spacing(8);
        if self.chosen.len() > 1 {
            main = main.push(bulk::view(&self.bulk, self.chosen.len(), project));
        } else if let Some(e) = self.selected.as_deref().and_then(|s| project.get(s)) {
            main = main.push(self.details(e, ctx));
        }
        main.height(Length::Fill).into()
    }

    fn grid<'a>(&'a self, ctx: &Context<'a>) -> Element<'a, Message> {
        let (project, thumbnails) = (ctx.project, ctx.thumbnails);
        responsive(move |size| {
            let cols = columns(size.width);
            // Spread the columns over the whole width instead of leaving a strip on the right.
            let cell_width = ((size.width - 2.0 * PADDING - SCROLLBAR)
                - (cols as f32 - 1.0) * SPACING)
                / cols as f32;
            let rows = self.shown.len().div_ceil(cols);
            let row_h = CELL_HEIGHT + SPACING;
            let (first, last) = rows_in_view(self.scroll_y, size.height, rows);
            let mut content = column![space().height(first as f32 * row_h)].spacing(0);
            for r in first..last {
                let cells = self.shown[r * cols..((r + 1) * cols).min(self.shown.len())]
                    .iter()
                    .map(|&i| {
                        self.cell(&project.images()[i], thumbnails, cell_width.max(CELL_WIDTH))
                    });
                content = content.push(row(cells).spacing(SPACING).height(row_h));
            }
            content = content.push(space().height((rows - last) as f32 * row_h));
            scrollable(container(content).padding(PADDING))
                .id(self.scroll_id.clone())
                .on_scroll(Message::Scrolled)
                .width(Length::Fill)
                .height(Length::Fill)
                .into()
        })
        .into()
    }

    fn cell<'a>(
        &'a self,
        e: &'a ImageEntry,
        thumbnails: &'a Thumbnails,
        width: f32,
    ) -> Element<'a, Message> {
        let thumb = thumbnail(thumbnails, &e.stem, width - 8.0, Some(THUMB_HEIGHT));
        let class = e.label.class.as_deref();
        let mut badges = row![chip(class.unwrap_or("no class"), class_color(class))]
            .spacing(4)
            .align_y(Alignment::Center);
        if e.label.status != Status::Labeled {
            badges = badges.push(text(e.label.status.name()).size(11).style(muted));
        }
        if e.has_mask {
            badges = badges.push(text("mask").size(11).style(muted));
        }
        let selected = if self.chosen.len() > 1 {
            self.chosen.contains(&e.stem)
        } else {
            self.selected.as_deref() == Some(e.stem.as_str())
        };
        button(column![thumb, text(&e.stem).size(12), badges].spacing(3))
            .width(width)
            .height(CELL_HEIGHT)
            .padding(4)
            .style(move |theme: &Theme, status| {
                let base = button::subtle(theme, status);
                if selected {
                    button::Style {
                        border: iced::Border {
                            color: theme.palette().primary,
                            width: 2.0,
                            radius: 6.0.into(),
                        },
                        ..base
                    }
                } else {
                    base
                }
            })
            .on_press(Message::Select(e.stem.clone()))
            .into()
    }

    /// One line per class of the project, then "no class".
    fn class_rows<'a>(&'a self, project: &'a Project) -> Vec<FilterRow<'a>> {
        let (f, c) = (&self.filter, &self.counts);
        let count = |map: &BTreeMap<String, usize>, key: &str| map.get(key).copied().unwrap_or(0);
        let mut class_rows: Vec<FilterRow<'a>> = project
            .manifest
            .classes
            .iter()
            .map(|class| FilterRow {
                label: class,
                count: count(&c.classes, class),
                selected: f.class == Some(ClassFilter::Class(class.clone())),
                on_press: Message::FilterClass(Some(ClassFilter::Class(class.clone()))),
                color: Some(class_color(Some(class))),
            })
            .collect();
        class_rows.push(FilterRow {
            label: "no class",
            count: c.no_class,
            selected: f.class == Some(ClassFilter::NoClass),
            on_press: Message::FilterClass(Some(ClassFilter::NoClass)),
            color: Some(class_color(None)),
        });
        class_rows
    }

    /// One line per split, then "no split" when some images have none.
    fn split_rows(&self) -> Vec<FilterRow<'_>> {
        let (f, c) = (&self.filter, &self.counts);
        let count = |map: &BTreeMap<String, usize>, key: &str| map.get(key).copied().unwrap_or(0);
        let mut split_rows: Vec<FilterRow<'_>> = Split::ALL
            .iter()
            .map(|s| FilterRow {
                label: s.name(),
                count: count(&c.splits, s.name()),
                selected: f.split == Some(Some(*s)),
                on_press: Message::FilterSplit(Some(Some(*s))),
                color: None,
            })
            .collect();
        if c.unassigned > 0 {
            split_rows.push(FilterRow {
                label: "no split",
                count: c.unassigned,
                selected: f.split == Some(None),
                on_press: Message::FilterSplit(Some(None)),
                color: None,
            });
        }
        split_rows
    }

    /// The filter sections: class, status, split, experiment, each with its counts.
    fn filter_sections<'a>(&'a self, project: &'a Project) -> [Element<'a, Message>; 4] {
        let f = &self.filter;
        let c = &self.counts;
        let count = |map: &BTreeMap<String, usize>, key: &str| map.get(key).copied().unwrap_or(0);
        let class_rows = self.class_rows(project);
        let status_rows = Status::ALL.iter().map(|s| FilterRow {
            label: s.name(),
            count: count(&c.status, s.name()),
            selected: f.status == Some(*s),
            on_press: Message::FilterStatus(Some(*s)),
            color: None,
        });
        let split_rows = self.split_rows();
        let experiment_rows = self.experiments.iter().map(|(x, n)| FilterRow {
            label: x,
            count: *n,
            selected: f.experiment.as_ref() == Some(x),
            on_press: Message::FilterExperiment(Some(x.clone())),
            color: None,
        });
        let all = |label: &'a str, selected: bool, on_press: Message| FilterRow {
            label,
            count: c.images,
            selected,
            on_press,
            color: None,
        };
        let classes = filter_section(
            "Class",
            all("All classes", f.class.is_none(), Message::FilterClass(None)),
            class_rows,
        );
        let status = filter_section(
            "Status",
            all(
                "Any status",
                f.status.is_none(),
                Message::FilterStatus(None),
            ),
            status_rows,
        );
        let split = filter_section(
            "Split",
            all("All splits", f.split.is_none(), Message::FilterSplit(None)),
            split_rows,
        );
        let experiments = filter_section(
            "Experiment",
            all(
                "All experiments",
                f.experiment.is_none(),
                Message::FilterExperiment(None),
            ),
            experiment_rows,
        );
        [classes, status, split, experiments]
    }

    fn sidebar<'a>(&'a self, project: &'a Project) -> Element<'a, Message> {
        let (f, c) = (&self.filter, &self.counts);
        let mut footer = column![
            text(format!(
                "Showing {} of {} images",
                self.shown.len(),
                c.images
            ))
            .size(13)
        ]
        .spacing(6);
        if !f.is_empty() {
            footer = footer.push(
                button(text("Clear filters").size(13))
                    .on_press(Message::ClearFilters)
                    .style(button::secondary),
            );
        }
        if self.ranked() > 0 {
            footer = footer.push(
                iced::widget::checkbox(self.useful_first())
                    .label("Most useful to label first")
                    .on_toggle(Message::UsefulFirst)
                    .size(14)
                    .text_size(13),
            );
            footer = footer.push(
                text(format!(
                    "{} unlabeled images ranked by the active segmenter's doubt. U opens the most useful.",
                    self.ranked()
                ))
                .size(11)
                .style(muted),
            );
        }
        let [classes, status, split, experiments] = self.filter_sections(project);
        let content = column![classes, status, split, experiments, footer]
            .spacing(14)
            .padding(10);
        container(scrollable(content).height(Length::Fill))
            .width(230)
            .height(Length::Fill)
            .style(panel)
            .into()
    }

    fn details<'a>(&'a self, e: &'a ImageEntry, ctx: &Context<'a>) -> Element<'a, Message> {
        let preview = thumbnail(ctx.thumbnails, &e.stem, 280.0, None);
        let l = &e.label;
        let field =
            |name: &'a str, value: String| crate::gui::style::field(name, value, 13.0, 90.0);
        let provenance = l.mask.map(|p| p.name().to_string());
        let mask = match (e.has_mask, provenance) {
            (true, Some(p)) => p,
            (true, None) => "yes".into(),
            (false, _) => "none".into(),
        };
        let mut fields = column![
            text(&e.stem).size(16),
            field("File", e.file_name.clone()),
            field("Class", l.class.clone().unwrap_or_else(|| "not set".into())),
            field("Status", l.status.name().into()),
            field("Split", e.split.map_or("none".into(), |s| s.name().into())),
            field("Experiment", e.experiment().to_string()),
            field("Mask", mask),
        ]
        .spacing(6);
        if let Some(f) = l.frame {
            fields = fields.push(field("Frame", f.to_string()));
        }
        if !l.annotator.is_empty() {
            fields = fields.push(field("By", l.annotator.clone()));
        }
        if !l.updated_at.is_empty() {
            fields = fields.push(field(
                "When",
                l.updated_at
                    .replace('T', " ")
                    .trim_end_matches('Z')
                    .to_string(),
            ));
        }
        if !l.comment.is_empty() {
            fields = fields.push(field("Comment", l.comment.clone()));
        }
        let open = button(text("Annotate").size(14))
            .on_press(Message::Annotate(e.stem.clone()))
            .width(Length::Fill);
        let hint = text("or click the image again").size(11).style(muted);
        container(column![preview, fields, open, hint].spacing(10).padding(10))
            .width(300)
            .height(Length::Fill)
            .style(panel)
            .into()
    }
}

fn heading<'a, M: 'a>(label: &'a str) -> Element<'a, M> {
    text(label)
        .size(14)
        .font(iced::Font {
            weight: iced::font::Weight::Bold,
            ..iced::Font::DEFAULT
        })
        .into()
}

/// One line of a filter section: a label, how many images it has, and what a click selects.
struct FilterRow<'a> {
    label: &'a str,
    count: usize,
    selected: bool,
    on_press: Message,
    color: Option<Color>,
}

/// A titled list of filter lines, the "all" line first.
fn filter_section<'a>(
    title: &'a str,
    all: FilterRow<'a>,
    rows: impl IntoIterator<Item = FilterRow<'a>>,
) -> Element<'a, Message> {
    let mut section = column![heading(title), filter_row(all)];
    for row in rows {
        section = section.push(filter_row(row));
    }
    section.into()
}

fn filter_row(r: FilterRow<'_>) -> Element<'_, Message> {
    let mut line = row![].spacing(6).align_y(Alignment::Center);
    if let Some(c) = r.color {
        line = line.push(
            container(space())
                .width(10)
                .height(10)
                .style(move |_: &Theme| container::Style {
                    background: Some(c.into()),
                    border: iced::Border {
                        radius: 5.0.into(),
                        ..Default::default()
                    },
                    ..Default::default()
                }),
        );
    }
    line = line
        .push(text(r.label).size(13).width(Length::Fill))
        .push(text(r.count.to_string()).size(13));
    button(line)
        .width(Length::Fill)
        .padding([3, 6])
        .style(if r.selected {
            button::primary
        } else {
            button::text
        })
        .on_press(r.on_press)
        .into()
}

/// An image's thumbnail `width` wide (and `height` high, else as tall as it is), or a box
/// saying it is loading or could not be read.
fn thumbnail<'a>(
    thumbnails: &'a Thumbnails,
    stem: &str,
    width: f32,
    height: Option<f32>,
) -> Element<'a, Message> {
    match (thumbnails.get(stem), thumbnails.failure(stem)) {
        (Some(h), _) => {
            let picture = image(h.clone()).width(width);
            match height {
                Some(h) => picture.height(h).into(),
                None => picture.into(),
            }
        }
        (None, Some(why)) => thumbnail_box("cannot read image", Some(why.to_string()), width),
        (None, None) => thumbnail_box("loading…", None, width),
    }
}

/// The box shown where a thumbnail is still loading, or could not be read.
fn thumbnail_box<'a>(label: &'a str, detail: Option<String>, width: f32) -> Element<'a, Message> {
    let mut c = column![text(label).size(12).style(muted)].align_x(Alignment::Center);
    if let Some(d) = detail {
        c = c.push(text(d).size(10).style(muted));
    }
    container(c)
        .width(width)
        .height(THUMB_HEIGHT)
        .center_x(width)
        .center_y(THUMB_HEIGHT)
        .style(|theme: &Theme| container::Style {
            background: Some(
                theme
                    .extended_palette()
                    .background
                    .strong
                    .color
                    .scale_alpha(0.4)
                    .into(),
            ),
            border: iced::Border {
                radius: 4.0.into(),
                ..Default::default()
            },
            ..Default::default()
        })
        .clip(true)
        .into()
}

fn empty_state<'a>(title: &'a str, hint: &'a str) -> Element<'a, Message> {
    container(
        column![text(title).size(20), text(hint).size(14).style(muted)]
            .spacing(8)
            .align_x(Alignment::Center),
    )
    .center(Length::Fill)
    .height(300)
    .into()
}
