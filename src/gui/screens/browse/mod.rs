//! Browse: the project's images as a thumbnail grid, with counts and filters by class, status,
//! split and experiment. Only the rows on screen are built, so 10,000 images scroll smoothly.

pub mod bulk;
pub mod selection;

use crate::gui::style::{chip, class_color, muted, panel};
use crate::project::bulk::{Before, Change};
use crate::project::{Counts, ImageEntry, Project, Split, Status};
use iced::keyboard::{self, Modifiers};
use iced::widget::{
    Id, button, column, container, image, responsive, row, scrollable, space, text,
};
use iced::{Alignment, Color, Element, Length, Size, Task, Theme};
use selection::{Clicked, Selection};
use std::collections::{BTreeMap, HashMap};

pub const CELL_WIDTH: f32 = 184.0;
pub const CELL_HEIGHT: f32 = 152.0;
const THUMB_HEIGHT: f32 = 100.0;
const SPACING: f32 = 8.0;
const PADDING: f32 = 12.0;
/// Rows built above and below the visible ones, so a small scroll shows no gap.
const OVERSCAN_ROWS: usize = 2;
/// Thumbnails kept uploaded at most; the ones furthest from view go first.
const MAX_THUMBNAILS: usize = 800;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassFilter {
    Class(String),
    NoClass,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub class: Option<ClassFilter>,
    pub status: Option<Status>,
    /// `Some(None)` selects the images in no split.
    pub split: Option<Option<Split>>,
    pub experiment: Option<String>,
}

impl Filter {
    pub fn accepts(&self, e: &ImageEntry) -> bool {
        let class_ok = match &self.class {
            None => true,
            Some(ClassFilter::NoClass) => e.label.class.is_none(),
            Some(ClassFilter::Class(c)) => e.label.class.as_ref().is_some_and(|l| {
                crate::project::manifest::class_key(l) == crate::project::manifest::class_key(c)
            }),
        };
        class_ok
            && self.status.is_none_or(|s| e.label.status == s)
            && self.split.is_none_or(|s| e.split == s)
            && self
                .experiment
                .as_deref()
                .is_none_or(|x| e.experiment() == x)
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    FilterClass(Option<ClassFilter>),
    FilterStatus(Option<Status>),
    FilterSplit(Option<Option<Split>>),
    FilterExperiment(Option<String>),
    ClearFilters,
    Scrolled(scrollable::Viewport),
    /// A click on an image (with the keyboard's modifiers as last reported).
    Select(String),
    /// Open the selected image in the Annotate screen.
    Annotate(String),
    /// Shift, Ctrl (Command) held or released.
    Modifiers(Modifiers),
    /// Ctrl+A: choose every image shown.
    ChooseAll,
    /// Esc: choose none.
    ChooseNone,
    /// A class, status or split to set on the chosen images, shown with its count first.
    Stage(Change),
    Unstage,
    Apply,
    /// Ctrl+Z: undo the last step.
    Undo,
    /// A step was written (what, how the images were before) or failed.
    Applied(Result<(String, Vec<Before>), String>),
    /// An undo was written (what it undid) or failed.
    Undone(Result<String, String>),
}

/// What the screen asks the app to do.
#[derive(Debug, PartialEq)]
pub enum Action {
    None,
    /// Load these thumbnails (first shown first), forgetting earlier wishes.
    WantThumbnails(Vec<String>),
    /// Open the Annotate screen on this image, moving through the shown images.
    Annotate(String),
    /// Other images are shown now: scroll the grid back to the top (see
    /// [`Browse::scroll_to_top`]) and load these thumbnails.
    Refiltered(Vec<String>),
    /// Set `change` on these images, in the background (answer with `Message::Applied`).
    Label(Vec<String>, Change),
    /// Put these images back as they were (answer with `Message::Undone`).
    Restore(String, Vec<Before>),
}

enum Thumb {
    Ready(image::Handle),
    Failed(String),
}

pub struct Browse {
    filter: Filter,
    /// Indices into `project.images()` that pass the filter, in stem order.
    shown: Vec<usize>,
    counts: Counts,
    experiments: BTreeMap<String, usize>,
    selected: Option<String>,
    /// The images chosen for labeling many at once.
    chosen: Selection,
    modifiers: Modifiers,
    bulk: bulk::Bulk,
    scroll_y: f32,
    viewport: Size,
    thumbs: HashMap<String, Thumb>,
    scroll_id: Id,
}

impl Browse {
    pub fn new(project: &Project, select: Option<String>) -> (Browse, Action, Task<Message>) {
        let mut experiments = BTreeMap::new();
        for e in project.images() {
            *experiments.entry(e.experiment().to_string()).or_default() += 1;
        }
        let mut b = Browse {
            filter: Filter::default(),
            shown: (0..project.images().len()).collect(),
            counts: project.counts(),
            experiments,
            selected: None,
            chosen: Selection::default(),
            modifiers: Modifiers::empty(),
            bulk: bulk::Bulk::default(),
            scroll_y: 0.0,
            viewport: Size::new(1280.0, 800.0),
            thumbs: HashMap::new(),
            scroll_id: Id::unique(),
        };
        let mut task = Task::none();
        if let Some(stem) = select {
            task = b.reveal(project, stem);
        }
        let action = b.wanted(project);
        (b, action, task)
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    pub fn shown_stems<'a>(&self, project: &'a Project) -> Vec<&'a str> {
        self.shown
            .iter()
            .map(|&i| project.images()[i].stem.as_str())
            .collect()
    }

    /// The shown stems, owned: the order the Annotate screen moves through.
    pub fn order(&self, project: &Project) -> Vec<String> {
        self.shown
            .iter()
            .map(|&i| project.images()[i].stem.clone())
            .collect()
    }

    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// The loaded thumbnail of an image (the Annotate screen's strip shows them too).
    pub fn thumbnail(&self, stem: &str) -> Option<&image::Handle> {
        match self.thumbs.get(stem) {
            Some(Thumb::Ready(h)) => Some(h),
            _ => None,
        }
    }

    /// Counts again after labels changed elsewhere (the Annotate screen saved some).
    pub fn refresh(&mut self, project: &Project) {
        self.counts = project.counts();
        self.refilter(project);
    }

    fn refilter(&mut self, project: &Project) {
        self.shown = (0..project.images().len())
            .filter(|&i| self.filter.accepts(&project.images()[i]))
            .collect();
        let shown = self.shown_stems(project);
        self.chosen.keep_shown(&shown);
    }

    /// The images chosen for labeling many at once, in grid order.
    pub fn chosen(&self, project: &Project) -> Vec<String> {
        self.chosen.stems(&self.shown_stems(project))
    }

    /// The keys Browse listens to while it is shown: modifiers (for Shift/Ctrl+click), Ctrl+A,
    /// Esc and Ctrl+Z. Keys a focused widget took are left alone.
    pub fn key_event(event: iced::Event, status: iced::event::Status) -> Option<Message> {
        use keyboard::key::Named;
        let iced::Event::Keyboard(event) = event else {
            return None;
        };
        match event {
            keyboard::Event::ModifiersChanged(m) => Some(Message::Modifiers(m)),
            keyboard::Event::KeyPressed { key, modifiers, .. }
                if status == iced::event::Status::Ignored =>
            {
                match key.as_ref() {
                    keyboard::Key::Character("a") if modifiers.command() => {
                        Some(Message::ChooseAll)
                    }
                    keyboard::Key::Character("z") if modifiers.command() => Some(Message::Undo),
                    keyboard::Key::Named(Named::Escape) => Some(Message::ChooseNone),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub fn update(&mut self, message: Message, project: &Project) -> Action {
        match message {
            Message::FilterClass(c) => self.filter.class = c,
            Message::FilterStatus(s) => self.filter.status = s,
            Message::FilterSplit(s) => self.filter.split = s,
            Message::FilterExperiment(x) => self.filter.experiment = x,
            Message::ClearFilters => self.filter = Filter::default(),
            Message::Scrolled(viewport) => {
                self.scroll_y = viewport.absolute_offset().y;
                self.viewport = viewport.bounds().size();
                return self.wanted(project);
            }
            Message::Select(stem) => {
                let shown = self.shown_stems(project);
                let was_one = self.chosen.len() <= 1;
                if self.chosen.click(&stem, self.modifiers, &shown) == Clicked::Many {
                    self.bulk.pending = None;
                    return Action::None;
                }
                // A second click on the selected image opens it.
                if was_one && self.selected.as_deref() == Some(stem.as_str()) {
                    return Action::Annotate(stem);
                }
                self.selected = Some(stem);
                return Action::None;
            }
            Message::Annotate(stem) => return Action::Annotate(stem),
            other => return self.bulk_update(other, project),
        }
        self.refilter(project);
        self.scroll_y = 0.0;
        match self.wanted(project) {
            Action::WantThumbnails(want) => Action::Refiltered(want),
            other => other,
        }
    }

    /// Choosing many images and labeling them in one step.
    fn bulk_update(&mut self, message: Message, project: &Project) -> Action {
        match message {
            Message::Modifiers(m) => self.modifiers = m,
            Message::ChooseAll => {
                let shown = self.shown_stems(project);
                self.chosen.all(&shown);
            }
            Message::ChooseNone => {
                self.chosen.clear();
                self.bulk.pending = None;
            }
            Message::Stage(change) => self.bulk.pending = Some(change),
            Message::Unstage => self.bulk.pending = None,
            Message::Apply => {
                let stems = self.chosen(project);
                if let Some(change) = self.bulk.pending.take()
                    && !stems.is_empty()
                    && !self.bulk.writing
                {
                    self.bulk.writing = true;
                    return Action::Label(stems, change);
                }
            }
            Message::Undo => {
                if !self.bulk.writing
                    && let Some(done) = self.bulk.undo.pop()
                {
                    self.bulk.writing = true;
                    return Action::Restore(done.what, done.before);
                }
            }
            Message::Applied(result) => {
                self.bulk.writing = false;
                self.bulk.last = Some(match result {
                    Ok((what, before)) => {
                        let line = format!("Set {what}.");
                        self.bulk.undo.push(bulk::Done { what, before });
                        Ok(line)
                    }
                    Err(e) => Err(e),
                });
                self.refresh(project);
            }
            Message::Undone(result) => {
                self.bulk.writing = false;
                self.bulk.last = Some(result.map(|what| format!("Undone: {what}.")));
                self.refresh(project);
            }
            _ => {}
        }
        Action::None
    }

    /// Selects `stem` and scrolls the grid to its row (opening at an image, back from Annotate).
    pub fn reveal(&mut self, project: &Project, stem: String) -> Task<Message> {
        let Some(pos) = self
            .shown
            .iter()
            .position(|&i| project.images()[i].stem == stem)
        else {
            return Task::none();
        };
        let row = pos / columns(self.viewport.width);
        self.scroll_y = (row as f32 * (CELL_HEIGHT + SPACING)).max(0.0);
        self.selected = Some(stem);
        iced::widget::operation::scroll_to(
            self.scroll_id.clone(),
            scrollable::AbsoluteOffset {
                x: 0.0,
                y: self.scroll_y,
            },
        )
    }

    /// The task that moves the grid's scroll bar to the top, matching the state after a filter.
    pub fn scroll_to_top(&self) -> Task<Message> {
        iced::widget::operation::scroll_to(
            self.scroll_id.clone(),
            scrollable::AbsoluteOffset { x: 0.0, y: 0.0 },
        )
    }

    /// A thumbnail arrived from the loader: upload it once and keep the handle.
    pub fn thumbnail_loaded(
        &mut self,
        stem: String,
        pixels: Result<(u32, u32, std::sync::Arc<Vec<u8>>), String>,
    ) {
        let thumb = match pixels {
            Ok((w, h, bytes)) => Thumb::Ready(image::Handle::from_rgba(
                w,
                h,
                std::sync::Arc::unwrap_or_clone(bytes),
            )),
            Err(e) => Thumb::Failed(e),
        };
        self.thumbs.insert(stem, thumb);
    }

    fn visible_range(&self) -> (usize, usize, usize) {
        let cols = columns(self.viewport.width);
        let row_h = CELL_HEIGHT + SPACING;
        let first = ((self.scroll_y - PADDING).max(0.0) / row_h) as usize;
        let last = ((self.scroll_y + self.viewport.height) / row_h).ceil() as usize;
        (
            cols,
            first.saturating_sub(OVERSCAN_ROWS),
            last + OVERSCAN_ROWS,
        )
    }

    /// What to load for the grid as it is now.
    pub fn wanted_now(&mut self, project: &Project) -> Action {
        self.wanted(project)
    }

    /// Thumbnails on screen (and just around it) that are not loaded yet.
    fn wanted(&mut self, project: &Project) -> Action {
        let (cols, first, last) = self.visible_range();
        let start = (first * cols).min(self.shown.len());
        let end = (last * cols).min(self.shown.len());
        if self.thumbs.len() > MAX_THUMBNAILS {
            let keep: std::collections::HashSet<&str> = self.shown[start..end]
                .iter()
                .map(|&i| project.images()[i].stem.as_str())
                .collect();
            self.thumbs.retain(|stem, _| keep.contains(stem.as_str()));
        }
        let want: Vec<String> = self.shown[start..end]
            .iter()
            .map(|&i| &project.images()[i].stem)
            .filter(|s| !self.thumbs.contains_key(*s))
            .cloned()
            .collect();
        Action::WantThumbnails(want)
    }

    pub fn view<'a>(&'a self, project: &'a Project) -> Element<'a, Message> {
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
            self.grid(project)
        };
        let mut main = row![
            self.sidebar(project),
            container(body).width(Length::Fill).height(Length::Fill)
        ]
        .spacing(8);
        if self.chosen.len() > 1 {
            main = main.push(bulk::view(&self.bulk, self.chosen.len(), project));
        } else if let Some(e) = self.selected.as_deref().and_then(|s| project.get(s)) {
            main = main.push(self.details(e));
        }
        main.height(Length::Fill).into()
    }

    fn grid<'a>(&'a self, project: &'a Project) -> Element<'a, Message> {
        responsive(move |size| {
            let cols = columns(size.width);
            // Spread the columns over the whole width instead of leaving a strip on the right.
            let cell_width = ((size.width - 2.0 * PADDING - SCROLLBAR)
                - (cols as f32 - 1.0) * SPACING)
                / cols as f32;
            let rows = self.shown.len().div_ceil(cols);
            let row_h = CELL_HEIGHT + SPACING;
            let first = (((self.scroll_y - PADDING).max(0.0) / row_h) as usize)
                .saturating_sub(OVERSCAN_ROWS)
                .min(rows);
            let last =
                (((self.scroll_y + size.height) / row_h).ceil() as usize + OVERSCAN_ROWS).min(rows);
            let mut content = column![space().height(first as f32 * row_h)].spacing(0);
            for r in first..last {
                let cells = self.shown[r * cols..((r + 1) * cols).min(self.shown.len())]
                    .iter()
                    .map(|&i| self.cell(&project.images()[i], cell_width.max(CELL_WIDTH)));
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

    fn cell<'a>(&'a self, e: &'a ImageEntry, width: f32) -> Element<'a, Message> {
        let thumb: Element<'a, Message> = match self.thumbs.get(&e.stem) {
            Some(Thumb::Ready(h)) => image(h.clone())
                .width(width - 8.0)
                .height(THUMB_HEIGHT)
                .into(),
            Some(Thumb::Failed(why)) => thumbnail_box("cannot read image", Some(why), width - 8.0),
            None => thumbnail_box("loading…", None, width - 8.0),
        };
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

    fn sidebar<'a>(&'a self, project: &'a Project) -> Element<'a, Message> {
        let f = &self.filter;
        let c = &self.counts;
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
        let status_rows = Status::ALL.iter().map(|s| FilterRow {
            label: s.name(),
            count: count(&c.status, s.name()),
            selected: f.status == Some(*s),
            on_press: Message::FilterStatus(Some(*s)),
            color: None,
        });
        let mut split_rows: Vec<FilterRow<'a>> = Split::ALL
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
        let content = column![classes, status, split, experiments, footer]
            .spacing(14)
            .padding(10);
        container(scrollable(content).height(Length::Fill))
            .width(230)
            .height(Length::Fill)
            .style(panel)
            .into()
    }

    fn details<'a>(&'a self, e: &'a ImageEntry) -> Element<'a, Message> {
        let preview: Element<'a, Message> = match self.thumbs.get(&e.stem) {
            Some(Thumb::Ready(h)) => image(h.clone()).width(Length::Fill).into(),
            Some(Thumb::Failed(why)) => thumbnail_box("cannot read image", Some(why), 280.0),
            None => thumbnail_box("loading…", None, 280.0),
        };
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

/// Room the scroll bar takes at the right of the grid.
const SCROLLBAR: f32 = 12.0;

/// How many thumbnail columns fit in `width`.
pub fn columns(width: f32) -> usize {
    (((width - 2.0 * PADDING - SCROLLBAR + SPACING) / (CELL_WIDTH + SPACING)).floor() as usize)
        .max(1)
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

/// The box shown where a thumbnail is still loading, or could not be read.
fn thumbnail_box<'a>(label: &'a str, detail: Option<&'a str>, width: f32) -> Element<'a, Message> {
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
