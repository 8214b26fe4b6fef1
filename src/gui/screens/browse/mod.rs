//! Browse: the project's images as a thumbnail grid, with counts and filters by class, status,
//! split and experiment. Only the rows on screen are built, so 10,000 images scroll smoothly.

pub mod bulk;
pub mod selection;
mod view;

use crate::gui::screens::Context;
use crate::gui::style::Notice;
use crate::project::bulk::{Before, Change};
use crate::project::{Counts, ImageEntry, Project, Split, Status};
use iced::keyboard::{self, Modifiers};
use iced::widget::{Id, scrollable};
use iced::{Size, Subscription, Task};
use selection::{Clicked, Selection};
use std::collections::{BTreeMap, HashMap};

pub const CELL_WIDTH: f32 = 184.0;
pub const CELL_HEIGHT: f32 = 152.0;
pub(super) const THUMB_HEIGHT: f32 = 100.0;
pub(super) const SPACING: f32 = 8.0;
pub(super) const PADDING: f32 = 12.0;
/// Rows built above and below the visible ones, so a small scroll shows no gap.
const OVERSCAN_ROWS: usize = 2;

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
    Applied(Result<(String, Vec<Before>), crate::project::ProjectError>),
    /// An undo was written (what it undid) or failed.
    Undone(Result<String, crate::project::ProjectError>),
    /// The active segmenter's ranking of the unlabeled images (stem → rank), read from disk.
    Ranked(std::sync::Arc<HashMap<String, usize>>),
    /// Show the images most useful to label first (by the ranking), or in name order.
    UsefulFirst(bool),
    /// U: open the most useful unlabeled image.
    MostUseful,
}

/// What Browse asks of the app.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// Load these thumbnails (first shown first), forgetting earlier wishes.
    Thumbnails(Vec<String>),
    /// Open the Annotate screen on this image, moving through the shown images.
    Annotate(String),
    /// Set `change` on these images, in the background (answer with `Message::Applied`).
    Label(Vec<String>, Change),
    /// Put these images back as they were (answer with `Message::Undone`).
    Restore(String, Vec<Before>),
}

pub type Action = crate::gui::screens::Action<Message, Request>;

pub struct Browse {
    filter: Filter,
    /// Indices into `project.images()` that pass the filter, in stem order (computed once per
    /// change of the filter or of the labels).
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
    scroll_id: Id,
    /// The active segmenter's ranking of the unlabeled images (1 = label it first).
    ranking: std::sync::Arc<HashMap<String, usize>>,
    useful_first: bool,
}

impl Browse {
    /// The grid over every image, `select` selected and scrolled to.
    pub fn new(ctx: &Context, select: Option<String>) -> (Browse, Task<Message>) {
        let project = ctx.project;
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
            scroll_id: Id::unique(),
            ranking: Default::default(),
            useful_first: true,
        };
        let task = match select {
            Some(stem) => b.reveal(project, stem),
            None => Task::none(),
        };
        (b, Task::batch([task, read_ranking(project.root())]))
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

    /// Counts again after labels changed elsewhere (the Annotate screen saved some).
    pub fn refresh(&mut self, project: &Project) {
        self.counts = project.counts();
        self.refilter(project);
    }

    fn refilter(&mut self, project: &Project) {
        self.shown = (0..project.images().len())
            .filter(|&i| self.filter.accepts(&project.images()[i]))
            .collect();
        if self.useful_first && !self.ranking.is_empty() {
            // Ranked images first, most useful first; the others after, in name order.
            let rank = |i: &usize| {
                let e = &project.images()[*i];
                (e.label.status == Status::Unlabeled)
                    .then(|| self.ranking.get(&e.stem).copied())
                    .flatten()
                    .unwrap_or(usize::MAX)
            };
            self.shown.sort_by_key(rank);
        }
        let shown = self.shown_stems(project);
        self.chosen.keep_shown(&shown);
    }

    /// The unlabeled image the ranking puts first, if there is a ranking.
    pub fn most_useful(&self, project: &Project) -> Option<String> {
        project
            .images()
            .iter()
            .filter(|e| e.label.status == Status::Unlabeled)
            .filter_map(|e| self.ranking.get(&e.stem).map(|r| (*r, &e.stem)))
            .min()
            .map(|(_, s)| s.clone())
    }

    /// How many unlabeled images the ranking orders.
    pub fn ranked(&self) -> usize {
        self.ranking.len()
    }

    pub fn useful_first(&self) -> bool {
        self.useful_first && !self.ranking.is_empty()
    }

    /// The images chosen for labeling many at once, in grid order.
    pub fn chosen(&self, project: &Project) -> Vec<String> {
        self.chosen.stems(&self.shown_stems(project))
    }

    /// The keys Browse listens to while it is shown: modifiers (for Shift/Ctrl+click), Ctrl+A,
    /// Esc and Ctrl+Z.
    pub fn subscription(&self) -> Subscription<Message> {
        iced::event::listen_with(|event, status, _| key_event(event, status))
    }

    pub fn update(&mut self, message: Message, ctx: &Context) -> Action {
        let project = ctx.project;
        match message {
            Message::FilterClass(c) => self.filter.class = c,
            Message::FilterStatus(s) => self.filter.status = s,
            Message::FilterSplit(s) => self.filter.split = s,
            Message::FilterExperiment(x) => self.filter.experiment = x,
            Message::ClearFilters => self.filter = Filter::default(),
            Message::Scrolled(viewport) => {
                self.scroll_y = viewport.absolute_offset().y;
                self.viewport = viewport.bounds().size();
                return Action::request(Request::Thumbnails(self.in_view(project)));
            }
            Message::Select(stem) => return self.select(stem, project),
            Message::Annotate(stem) => return Action::request(Request::Annotate(stem)),
            Message::Ranked(ranking) => {
                // Arrives after the grid is shown: reorder it where it stands.
                self.ranking = ranking;
                self.refilter(project);
                return Action::request(Request::Thumbnails(self.in_view(project)));
            }
            Message::UsefulFirst(on) => self.useful_first = on,
            Message::MostUseful => {
                return match self.most_useful(project) {
                    Some(stem) => Action::request(Request::Annotate(stem)),
                    None => Action::none(),
                };
            }
            other => return self.bulk_update(other, project),
        }
        // Other images are shown now: back to the top of the grid, and their thumbnails.
        self.refilter(project);
        self.scroll_y = 0.0;
        Action::run(self.scroll_to_top()).and_request(Request::Thumbnails(self.in_view(project)))
    }

    /// A click on an image: choose it among many (Shift/Ctrl), select it, or open it when it
    /// was the one selected.
    fn select(&mut self, stem: String, project: &Project) -> Action {
        let shown = self.shown_stems(project);
        let was_one = self.chosen.len() <= 1;
        if self.chosen.click(&stem, self.modifiers, &shown) == Clicked::Many {
            self.bulk.pending = None;
            return Action::none();
        }
        if was_one && self.selected.as_deref() == Some(stem.as_str()) {
            return Action::request(Request::Annotate(stem));
        }
        self.selected = Some(stem);
        Action::none()
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
                    return Action::request(Request::Label(stems, change));
                }
            }
            Message::Undo => {
                if !self.bulk.writing
                    && let Some(done) = self.bulk.undo.pop()
                {
                    self.bulk.writing = true;
                    return Action::request(Request::Restore(done.what, done.before));
                }
            }
            Message::Applied(result) => {
                self.bulk.writing = false;
                self.bulk.last = Some(match result {
                    Ok((what, before)) => {
                        let line = format!("Set {what}.");
                        self.bulk.undo.push(bulk::Done { what, before });
                        Notice::Done(line)
                    }
                    Err(e) => Notice::Failed(e.to_string()),
                });
                self.refresh(project);
            }
            Message::Undone(result) => {
                self.bulk.writing = false;
                self.bulk.last = Some(Notice::of(result, |what| format!("Undone: {what}."), ""));
                self.refresh(project);
            }
            _ => {}
        }
        Action::none()
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
    fn scroll_to_top(&self) -> Task<Message> {
        iced::widget::operation::scroll_to(
            self.scroll_id.clone(),
            scrollable::AbsoluteOffset { x: 0.0, y: 0.0 },
        )
    }

    /// The images on screen (and just around it), first shown first: the thumbnails to have.
    pub fn in_view(&self, project: &Project) -> Vec<String> {
        let cols = columns(self.viewport.width);
        let (first, last) = rows_in_view(self.scroll_y, self.viewport.height, usize::MAX);
        let start = (first * cols).min(self.shown.len());
        let end = (last * cols).min(self.shown.len());
        self.shown[start..end]
            .iter()
            .map(|&i| project.images()[i].stem.clone())
            .collect()
    }
}

/// The keys Browse takes; keys a focused widget took are left alone.
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
                keyboard::Key::Character("a") if modifiers.command() => Some(Message::ChooseAll),
                keyboard::Key::Character("z") if modifiers.command() => Some(Message::Undo),
                keyboard::Key::Named(Named::Escape) => Some(Message::ChooseNone),
                keyboard::Key::Character("u") if !modifiers.command() => Some(Message::MostUseful),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The first and last (exclusive) grid rows to build for a view `height` high scrolled to
/// `scroll_y`, with a margin either side, at most `rows`: the grid builds these rows and
/// loads their thumbnails, one rule for both.
fn rows_in_view(scroll_y: f32, height: f32, rows: usize) -> (usize, usize) {
    let row_h = CELL_HEIGHT + SPACING;
    let first = (((scroll_y - PADDING).max(0.0) / row_h) as usize)
        .saturating_sub(OVERSCAN_ROWS)
        .min(rows);
    let last = (((scroll_y + height) / row_h).ceil() as usize + OVERSCAN_ROWS).min(rows);
    (first, last)
}

/// Room the scroll bar takes at the right of the grid.
pub(super) const SCROLLBAR: f32 = 12.0;

/// How many thumbnail columns fit in `width`.
pub fn columns(width: f32) -> usize {
    (((width - 2.0 * PADDING - SCROLLBAR + SPACING) / (CELL_WIDTH + SPACING)).floor() as usize)
        .max(1)
}

/// Reads the active segmenter's ranking of the unlabeled images, off the UI thread.
fn read_ranking(root: &std::path::Path) -> Task<Message> {
    let root = root.to_path_buf();
    crate::gui::background::job(
        "read-ranking",
        move || crate::ml::uncertainty::read_ranking(&root),
        |r| Message::Ranked(std::sync::Arc::new(r)),
    )
}
