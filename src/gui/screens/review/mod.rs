//! Review: the predictions of a run beside the ground truth. A queue of images, worst first,
//! with truth | prediction | difference side by side (one zoom and pan for the three); accept a
//! prediction as truth, flag, or send to Annotate. Summary views (confusion matrix whose cells
//! open their images, ROC, metrics with confidence intervals, IoU histogram), image-by-image
//! comparison of two runs, and the lab's linked real-time view.

mod decide;
mod jobs;
pub mod linked;
pub mod summary;
mod view;

use crate::gui::background::Handover;
use crate::gui::screens::Context;
use crate::gui::style::Notice;
use crate::gui::viewport::Viewport;
use crate::ml::models::Task;
use crate::ml::registry::RunSummary;
use crate::review::decisions::{Accepted, Decision, Take, Verdict};
use crate::review::{Error, Filter, Models, Order, Review as Table, Row};
use iced::widget::image::Handle;
use iced::{Point, Size, Vector};
use std::sync::Arc;

/// The parts of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Images,
    Summary,
    Compare,
    Linked,
}

/// The three pictures of the image shown.
#[derive(Debug, Clone)]
pub struct Panes {
    pub stem: String,
    pub size: (u32, u32),
    /// Truth, prediction, difference.
    pub images: [Handle; 3],
}

/// Another segmenter's IoU on the same images.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub stem: String,
    pub ours: f64,
    pub theirs: f64,
}

#[derive(Debug, Clone)]
pub enum Message {
    Listed(Result<Vec<RunSummary>, crate::ml::Error>),
    PickSegmenter(Choice<String>),
    PickClassifier(Choice<String>),
    Progress(String, usize, usize),
    Built(Handover<Result<(Table, Vec<Decision>), Error>>),
    Tab(Tab),
    Sort(Order),
    FilterClass(Choice<usize>),
    FilterSplit(Choice<crate::project::Split>),
    FilterStatus(Choice<crate::project::Status>),
    ClearCell,
    Cell(usize, usize),
    Select(usize),
    Next,
    Previous,
    PanesReady(Handover<Panes>),
    PanesFailed(String, Error),
    CanvasSize(Size),
    Zoom(Point, f32),
    Pan(Vector),
    Fit,
    Accept(Take),
    Accepted(Handover<Result<(Accepted, Row), Error>>),
    /// Ctrl+Z: take the last acceptance back.
    Undo,
    /// The acceptance's files are restored (whether a mask remains), or why not.
    Undone(Handover<Result<(Accepted, bool), Error>>),
    /// An image's row scored again after it was edited in Annotate.
    Rescored(Result<Row, Error>),
    Edit,
    Flag,
    Comment(String),
    ConfirmFlag,
    CancelFlag,
    Flagged(Result<(String, crate::project::ImageLabel), Error>),
    LogWritten(Result<(), Error>),
    WriteReport,
    ReportWritten(Result<std::path::PathBuf, Error>),
    CompareWith(Choice<String>),
    Compared(Handover<Result<Table, Error>>),
    Open(String),
    Linked(linked::Message),
}

/// An entry of a pick list: a value (none: "any", "none") with the words shown for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<T> {
    pub value: Option<T>,
    pub label: String,
}

impl<T> std::fmt::Display for Choice<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// What an update of the Review screen wants done: jobs.rs turns each into the screen's own
/// background work or a request to the app.
#[derive(Debug)]
pub enum Job {
    None,
    List,
    Build(Models),
    Panes(String),
    Accept(String, Take),
    /// Restore what an acceptance replaced.
    Undo(Box<Accepted>),
    Flag(String, String),
    /// Put the keyboard in the flag comment box.
    FocusComment,
    Edit(String),
    WriteLog(String, Vec<Decision>, u64),
    Report(Arc<Table>, Vec<Decision>),
    Compare(String),
    Linked(linked::Job),
    /// An image's files were written: the app records them (see [`Request::Written`]).
    Written(Written),
    Many(Vec<Job>),
}

/// An image's label (and perhaps mask) the review wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub stem: String,
    pub label: crate::project::ImageLabel,
    /// Whether the image has a mask file now.
    pub has_mask: bool,
    /// The files were put back as they were (an undo): no mask means the file is gone.
    pub restored: bool,
}

/// What the Review screen asks of the app.
#[derive(Debug)]
pub enum Request {
    /// Open the image in Annotate; Esc comes back here.
    Edit(String),
    /// Record what was written in the open project's index.
    Written(Written),
    /// Choose where the linked view's export goes; answer with `linked::Message::Export`.
    PickExport,
}

pub type Action = crate::gui::screens::Action<Message, Request>;

#[derive(Default)]
pub struct Review {
    pub runs: Vec<RunSummary>,
    pub models: Models,
    /// Shared with the threads that write a decision (they work on a copy of their own, made
    /// there, not on the UI thread); changed in place here (copied only while one holds it).
    pub table: Option<Arc<Table>>,
    pub loading: Option<(String, usize, usize)>,
    pub error: Option<String>,
    pub tab: Tab,
    pub order: Order,
    pub filter: Filter,
    /// Indices into the table's rows, in queue order.
    pub queue: Vec<usize>,
    /// Position in the queue of the image shown.
    pub position: usize,
    pub panes: Option<Panes>,
    /// The Summary tab's metrics over the queue's filters (kept, not recomputed per frame).
    pub summary: Option<summary::Summary>,
    pub panes_error: Option<String>,
    pub viewport: Viewport,
    pub canvas: Option<Size>,
    fitted: bool,
    pub decisions: Vec<Decision>,
    log_generation: u64,
    /// The comment being typed for a flag.
    pub flagging: Option<String>,
    /// What the last action did, to show.
    pub outcome: Option<Notice>,
    pub busy: bool,
    pub compare_with: Option<String>,
    pub comparison: Option<Result<Vec<Delta>, Error>>,
    pub linked: linked::Linked,
    /// The build of the review (and of the comparison) running: starting another, or dropping
    /// the screen, stops it.
    builds: Stopper,
    comparing: Stopper,
    /// Acceptances that Ctrl+Z takes back, latest last, each with its row before it.
    undo: Vec<(Accepted, Row)>,
}

impl Review {
    /// The screen is shown: list the runs (then build the review of the chosen ones).
    /// The screen, listing the runs (then building the review of the chosen ones).
    pub fn new(ctx: &Context) -> (Review, iced::Task<Message>) {
        let mut review = Review::default();
        let action = review.perform(Job::List, ctx);
        (review, action.task)
    }

    /// The screen is shown again: the runs may have changed meanwhile.
    pub fn shown(&mut self, ctx: &Context) -> Action {
        self.perform(Job::List, ctx)
    }

    /// The screen is left: playback stops, as nobody watches it.
    pub fn left(&mut self) {
        self.linked.halt();
    }

    /// Nothing to listen to: the review's keys are its canvas's.
    pub fn subscription(&self) -> iced::Subscription<Message> {
        iced::Subscription::none()
    }

    pub fn update(&mut self, message: Message, ctx: &Context) -> Action {
        let job = self.step(message);
        self.perform(job, ctx)
    }

    pub fn current(&self) -> Option<&Row> {
        let table = self.table.as_ref()?;
        self.queue.get(self.position).map(|&i| &table.rows[i])
    }

    fn runs_of(&self, task: Task) -> Vec<Choice<String>> {
        let mut out = vec![Choice {
            value: None,
            label: "none".into(),
        }];
        out.extend(self.usable(task).map(|r| Choice {
            value: Some(r.id.clone()),
            label: format!("{}{}", r.id, if r.active { " (active)" } else { "" }),
        }));
        out
    }

    /// The runs of `task` with trained weights to review.
    fn usable(&self, task: Task) -> impl Iterator<Item = &RunSummary> + '_ {
        self.runs
            .iter()
            .filter(move |r| r.task == task && r.info.epochs_done > 0)
    }

    fn requeue(&mut self) -> Job {
        let Some(table) = &self.table else {
            return Job::None;
        };
        self.queue = table.queue(self.order, &self.filter);
        self.position = 0;
        self.summarise();
        self.show_current()
    }

    fn show_current(&mut self) -> Job {
        self.flagging = None;
        match self.current() {
            Some(row) => {
                let stem = row.stem.clone();
                if self.panes.as_ref().is_some_and(|p| p.stem == stem) {
                    return Job::None;
                }
                self.panes_error = None;
                Job::Panes(stem)
            }
            None => {
                self.panes = None;
                Job::None
            }
        }
    }

    fn build(&mut self) -> Job {
        self.table = None;
        self.summary = None;
        self.panes = None;
        self.queue.clear();
        self.comparison = None;
        self.compare_with = None;
        self.undo.clear();
        if self.models.primary().is_none() {
            self.error = Some("There is no trained model to review yet: train one first.".into());
            return Job::None;
        }
        self.error = None;
        self.loading = Some(("Preparing the review".into(), 0, 0));
        Job::Build(self.models.clone())
    }

    fn step(&mut self, message: Message) -> Job {
        use Message as M;
        match message {
            M::Listed(_)
            | M::PickSegmenter(_)
            | M::PickClassifier(_)
            | M::Progress(..)
            | M::Built(_) => self.runs_step(message),
            M::Tab(_)
            | M::Sort(_)
            | M::FilterClass(_)
            | M::FilterSplit(_)
            | M::FilterStatus(_)
            | M::ClearCell
            | M::Cell(..)
            | M::Select(_)
            | M::Next
            | M::Previous
            | M::Open(_) => self.queue_step(message),
            M::PanesReady(_)
            | M::PanesFailed(..)
            | M::CanvasSize(_)
            | M::Zoom(..)
            | M::Pan(_)
            | M::Fit => {
                self.picture_step(message);
                Job::None
            }
            M::WriteReport | M::ReportWritten(_) | M::CompareWith(_) | M::Compared(_) => {
                self.report_step(message)
            }
            M::Linked(m) => Job::Linked(self.linked.update(m)),
            other => self.decision_step(other),
        }
    }

    /// The runs to review: listed, chosen, and the review built of them.
    fn runs_step(&mut self, message: Message) -> Job {
        match message {
            Message::Listed(Ok(runs)) => {
                self.runs = runs;
                let pick = |task: Task, current: &Option<String>| {
                    let runs: Vec<&RunSummary> = self.usable(task).collect();
                    current
                        .clone()
                        .filter(|c| runs.iter().any(|r| &r.id == c))
                        .or_else(|| runs.iter().find(|r| r.active).map(|r| r.id.clone()))
                        .or_else(|| runs.first().map(|r| r.id.clone()))
                };
                let models = Models {
                    segmenter: pick(Task::Segment, &self.models.segmenter),
                    classifier: pick(Task::Classify, &self.models.classifier),
                };
                self.linked.choose(&models);
                if self.table.is_none() || models != self.models {
                    self.models = models;
                    return self.build();
                }
            }
            Message::Listed(Err(e)) => self.error = Some(e.to_string()),
            Message::PickSegmenter(c) => {
                self.models.segmenter = c.value;
                self.linked.choose(&self.models);
                return self.build();
            }
            Message::PickClassifier(c) => {
                self.models.classifier = c.value;
                self.linked.choose(&self.models);
                return self.build();
            }
            Message::Progress(what, done, total) if self.loading.is_some() => {
                self.loading = Some((what, done, total));
            }
            Message::Built(h) => {
                // A build stopped for a newer one says nothing: the newer one is on its way.
                let Some(result) = h.take().filter(|r| !matches!(r, Err(Error::Stopped))) else {
                    return Job::None;
                };
                self.loading = None;
                match result {
                    Ok((table, decisions)) if table.models == self.models => {
                        self.decisions = decisions;
                        self.table = Some(Arc::new(table));
                        return self.requeue();
                    }
                    Ok(_) => {}
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            _ => {}
        }
        Job::None
    }

    /// Which images are queued, in which order, and which one is shown.
    fn queue_step(&mut self, message: Message) -> Job {
        match message {
            Message::Tab(t) => {
                if t != Tab::Linked {
                    self.linked.halt();
                }
                self.tab = t;
                if t == Tab::Linked {
                    return Job::Linked(linked::Job::Experiments);
                }
            }
            Message::Sort(o) => {
                self.order = o;
                return self.requeue();
            }
            Message::FilterClass(c) => {
                self.filter.class = c.value;
                return self.requeue();
            }
            Message::FilterSplit(c) => {
                self.filter.split = c.value;
                return self.requeue();
            }
            Message::FilterStatus(c) => {
                self.filter.status = c.value;
                return self.requeue();
            }
            Message::ClearCell => {
                self.filter.cell = None;
                return self.requeue();
            }
            Message::Cell(t, c) => {
                self.filter = Filter {
                    cell: Some((t, c)),
                    ..Filter::default()
                };
                self.order = Order::ClassifierDoubt;
                self.tab = Tab::Images;
                return self.requeue();
            }
            Message::Select(p) => {
                self.position = p.min(self.queue.len().saturating_sub(1));
                return self.show_current();
            }
            Message::Next => {
                if self.position + 1 < self.queue.len() {
                    self.position += 1;
                }
                return self.show_current();
            }
            Message::Previous => {
                self.position = self.position.saturating_sub(1);
                return self.show_current();
            }
            Message::Open(stem) => {
                if let Some(table) = &self.table {
                    self.filter = Filter::default();
                    self.queue = table.queue(self.order, &self.filter);
                    self.position = self
                        .queue
                        .iter()
                        .position(|&i| table.rows[i].stem == stem)
                        .unwrap_or(0);
                    self.tab = Tab::Images;
                    self.summarise();
                    return self.show_current();
                }
            }
            _ => {}
        }
        Job::None
    }

    /// The reviewer's decisions: accept, undo, flag, edit, and their outcomes.
    fn decision_step(&mut self, message: Message) -> Job {
        match message {
            Message::Accept(take) => {
                if let Some(row) = self.current()
                    && !self.busy
                    && self.can_accept(row, take)
                {
                    let stem = row.stem.clone();
                    self.busy = true;
                    return Job::Accept(stem, take);
                }
            }
            Message::Accepted(h) => {
                if let Some(result) = h.take() {
                    return self.accepted(result);
                }
            }
            Message::Undo => return self.ask_undo(),
            Message::Undone(h) => {
                if let Some(result) = h.take() {
                    return self.undone(result);
                }
            }
            Message::Rescored(Ok(row)) => return self.edited(row),
            Message::Rescored(Err(e)) => {
                self.outcome = Some(Notice::Failed(format!(
                    "The edited image could not be scored: {e}"
                )))
            }
            Message::Edit => {
                if let Some(stem) = self.current().map(|r| r.stem.clone()) {
                    let log = self.decide(&stem, Verdict::Edited, String::new());
                    return Job::Many(vec![log, Job::Edit(stem)]);
                }
            }
            Message::Flag if self.current().is_some() => {
                self.flagging = Some(String::new());
                return Job::FocusComment;
            }
            Message::Comment(c) if self.flagging.is_some() => self.flagging = Some(c),
            Message::CancelFlag => self.flagging = None,
            Message::ConfirmFlag => {
                if let (Some(comment), Some(stem)) =
                    (self.flagging.take(), self.current().map(|r| r.stem.clone()))
                {
                    self.busy = true;
                    return Job::Flag(stem, comment);
                }
            }
            Message::Flagged(result) => return self.flagged(result),
            Message::LogWritten(Err(e)) => {
                self.outcome = Some(Notice::Failed(format!(
                    "The decisions could not be recorded: {e}"
                )))
            }
            Message::LogWritten(Ok(())) => {}
            _ => {}
        }
        Job::None
    }

    /// The report and the comparison with another run.
    fn report_step(&mut self, message: Message) -> Job {
        match message {
            Message::WriteReport => {
                if let Some(t) = &self.table {
                    return Job::Report(Arc::clone(t), self.decisions.clone());
                }
            }
            Message::ReportWritten(r) => {
                self.outcome = Some(Notice::of(
                    r,
                    |p| format!("Review report written: {}", p.display()),
                    "The report could not be written",
                ));
            }
            Message::CompareWith(c) => {
                self.compare_with = c.value.clone();
                self.comparison = None;
                if let Some(id) = c.value {
                    return Job::Compare(id);
                }
            }
            Message::Compared(h) => {
                if let Some(result) = h.take().filter(|r| !matches!(r, Err(Error::Stopped))) {
                    self.comparison = Some(result.map(|other| self.deltas(&other)));
                }
            }
            _ => {}
        }
        Job::None
    }

    /// The three pictures of the image shown, and their shared zoom and pan.
    fn picture_step(&mut self, message: Message) {
        match message {
            Message::PanesReady(h) => {
                if let Some(p) = h.take()
                    && self.current().is_some_and(|r| r.stem == p.stem)
                {
                    if !self.fitted || self.panes.as_ref().map(|q| q.size) != Some(p.size) {
                        self.fit(p.size);
                    }
                    self.panes = Some(p);
                }
            }
            Message::PanesFailed(stem, e) if self.current().is_some_and(|r| r.stem == stem) => {
                self.panes_error = Some(e.to_string());
            }
            Message::CanvasSize(s) => {
                let first = self.canvas.is_none();
                self.canvas = Some(s);
                if let (true, Some(p)) = (first || !self.fitted, &self.panes) {
                    let size = p.size;
                    self.fit(size);
                }
            }
            Message::Zoom(at, factor) => self.viewport.zoom_at(at, factor),
            Message::Pan(by) => self.viewport.pan(by),
            Message::Fit => {
                if let Some(size) = self.panes.as_ref().map(|p| p.size) {
                    self.fit(size);
                }
            }
            _ => {}
        }
    }

    /// Whether an acceptance can be taken back.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether `take` has something to accept on `row`.
    pub fn can_accept(&self, row: &Row, take: Take) -> bool {
        match take {
            Take::Mask => self
                .table
                .as_ref()
                .is_some_and(|t| t.models.segmenter.is_some()),
            Take::Class => row.call().is_some_and(|(c, _)| Some(c) != row.truth),
        }
    }

    fn fit(&mut self, size: (u32, u32)) {
        if let Some(canvas) = self.canvas {
            self.viewport = Viewport::fit(Size::new(size.0 as f32, size.1 as f32), canvas);
            self.fitted = true;
        }
    }

    /// Image by image: our IoU against the other run's, on the images both scored.
    fn deltas(&self, other: &Table) -> Vec<Delta> {
        let Some(table) = &self.table else {
            return Vec::new();
        };
        let mut out: Vec<Delta> = table
            .rows
            .iter()
            .filter_map(|r| {
                Some(Delta {
                    stem: r.stem.clone(),
                    ours: r.iou()?,
                    theirs: other.row(&r.stem)?.iou()?,
                })
            })
            .collect();
        // Largest changes first, either way.
        out.sort_by(|a, b| {
            (b.theirs - b.ours)
                .abs()
                .total_cmp(&(a.theirs - a.ours).abs())
                .then_with(|| a.stem.cmp(&b.stem))
        });
        out
    }
}

/// The stop flag of the newest background build: a new build stops the one before, and the
/// flag is raised when its owner is dropped.
#[derive(Default)]
struct Stopper(Option<Arc<std::sync::atomic::AtomicBool>>);

impl Stopper {
    /// Stops the build running, if any, and hands out the flag of the next one.
    fn start(&mut self) -> Arc<std::sync::atomic::AtomicBool> {
        self.stop();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        self.0 = Some(flag.clone());
        flag
    }

    fn stop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A Review screen on the Linked tab, playing; the playback's stop flag.
    fn playing() -> (Review, Arc<AtomicBool>) {
        let mut review = Review::default();
        review.linked.models = Models {
            segmenter: Some("seg".into()),
            classifier: None,
        };
        review.linked.experiment = Some("e1".into());
        let _ = review.step(Message::Tab(Tab::Linked));
        let Job::Linked(linked::Job::Play { stop, .. }) =
            review.step(Message::Linked(linked::Message::Play))
        else {
            panic!("Play started no playback");
        };
        assert!(review.linked.playing());
        (review, stop)
    }

    #[test]
    fn a_new_build_stops_the_last_and_a_dropped_screen_stops_its_own() {
        let mut review = Review::default();
        let first = review.builds.start();
        let second = review.builds.start();
        assert!(
            first.load(Ordering::Relaxed),
            "a newer build stops the older"
        );
        assert!(!second.load(Ordering::Relaxed));
        let comparing = review.comparing.start();
        drop(review);
        assert!(second.load(Ordering::Relaxed) && comparing.load(Ordering::Relaxed));
    }

    #[test]
    fn leaving_the_linked_tab_stops_playback() {
        let (mut review, stop) = playing();
        let _ = review.step(Message::Tab(Tab::Summary));
        assert!(stop.load(Ordering::Relaxed), "the thread is told to stop");
        assert!(!review.linked.playing(), "the button says Play again");
    }

    #[test]
    fn leaving_the_screen_or_closing_it_stops_playback() {
        let (mut review, stop) = playing();
        review.left();
        assert!(stop.load(Ordering::Relaxed));
        let (review, stop) = playing();
        drop(review);
        assert!(
            stop.load(Ordering::Relaxed),
            "a dropped screen stops its playback"
        );
    }
}
