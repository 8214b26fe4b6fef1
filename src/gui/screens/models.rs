//! Models: every training run of the project with its date, recipe, data snapshot and metrics;
//! a "stale" badge when the data changed since; compare two runs; choose the active classifier
//! and segmenter; resume a stopped run; delete one; and pre-annotate with the active segmenter.

use crate::gui::background::job;
use crate::gui::screens::Context;
use crate::gui::style::Notice;
use crate::gui::style::{chip, muted, panel};
use crate::ml::models::Task as ModelTask;
use crate::ml::registry::{self, Comparison, Headline, RunSummary};
use crate::ml::run::RunStatus;
use iced::widget::{Column, button, checkbox, column, container, row, scrollable, space, text};
use iced::{Alignment, Color, Element, Length, Subscription, Task};

#[derive(Debug, Clone)]
pub enum Message {
    Listed(Result<Vec<RunSummary>, crate::ml::Error>),
    Refresh,
    ToggleCompare(String, bool),
    Compared(Result<Comparison, crate::ml::Error>),
    Activate(String),
    AskDelete(String),
    Delete(String),
    KeepRun,
    /// The outcome of activate or delete, to show.
    Done(Result<String, crate::ml::Error>),
    Resume(String),
    PreAnnotate,
}

/// What the Models screen asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Continue a stopped run (on the Train screen).
    Resume(String),
    /// Predict masks for the unlabeled images with the active segmenter (and the active
    /// classifier choosing the frames, if there is one).
    PreAnnotate {
        segmenter: String,
        classifier: Option<String>,
    },
}

pub type Action = crate::gui::screens::Action<Message, Request>;

#[derive(Default)]
pub struct Models {
    pub runs: Option<Result<Vec<RunSummary>, crate::ml::Error>>,
    pub loading: bool,
    /// Runs ticked for comparison (two at most; the oldest tick goes).
    pub compare: Vec<String>,
    pub comparison: Option<Result<Comparison, crate::ml::Error>>,
    pub confirm_delete: Option<String>,
    /// What the last action did.
    pub outcome: Option<Notice>,
}

impl Models {
    /// The screen, listing the project's runs.
    pub fn new(ctx: &Context) -> (Models, Task<Message>) {
        let mut models = Models::default();
        let task = models.list(ctx);
        (models, task)
    }

    /// Lists the runs again (the screen is shown again, or a run changed).
    fn list(&mut self, ctx: &Context) -> Task<Message> {
        self.loading = true;
        let root = ctx.root().to_path_buf();
        job("registry", move || registry::list(&root), Message::Listed)
    }

    /// Nothing to listen to: every change comes from a click.
    pub fn subscription(&self) -> Subscription<Message> {
        Subscription::none()
    }

    pub fn runs(&self) -> &[RunSummary] {
        match &self.runs {
            Some(Ok(r)) => r,
            _ => &[],
        }
    }

    /// The active run of a task.
    pub fn active(&self, task: ModelTask) -> Option<&RunSummary> {
        self.runs().iter().find(|r| r.active && r.task == task)
    }

    pub fn update(&mut self, message: Message, ctx: &Context) -> Action {
        let root = ctx.root().to_path_buf();
        match message {
            Message::Listed(runs) => {
                self.loading = false;
                if let Ok(list) = &runs {
                    self.compare.retain(|c| list.iter().any(|r| &r.id == c));
                }
                self.runs = Some(runs);
            }
            Message::Refresh => return Action::run(self.list(ctx)),
            Message::ToggleCompare(id, on) => {
                self.compare.retain(|c| c != &id);
                if on {
                    self.compare.push(id);
                    if self.compare.len() > 2 {
                        self.compare.remove(0);
                    }
                }
                self.comparison = None;
                if let [a, b] = self.compare.as_slice() {
                    let (a, b) = (a.clone(), b.clone());
                    return Action::run(job(
                        "compare-runs",
                        move || registry::compare(&root, &a, &b),
                        Message::Compared,
                    ));
                }
            }
            Message::Compared(c) => self.comparison = Some(c),
            Message::Activate(id) => {
                return Action::run(job(
                    "activate-run",
                    move || {
                        registry::activate(&root, &id)
                            .map(|kind| format!("Run {id} is now the active {kind}."))
                    },
                    Message::Done,
                ));
            }
            Message::AskDelete(id) => self.confirm_delete = Some(id),
            Message::KeepRun => self.confirm_delete = None,
            Message::Delete(id) => {
                self.confirm_delete = None;
                return Action::run(job(
                    "delete-run",
                    move || {
                        registry::delete(&root, &id, false).map(|_| format!("Run {id} deleted."))
                    },
                    Message::Done,
                ));
            }
            Message::Done(outcome) => {
                self.outcome = Some(Notice::of(outcome, |done| done, ""));
                return Action::run(self.list(ctx));
            }
            Message::Resume(id) => return Action::request(Request::Resume(id)),
            Message::PreAnnotate => {
                if let Some(run) = self.active(ModelTask::Segment) {
                    return Action::request(Request::PreAnnotate {
                        segmenter: run.id.clone(),
                        classifier: self.active(ModelTask::Classify).map(|r| r.id.clone()),
                    });
                }
            }
        }
        Action::none()
    }

    /// While a training runs in this window, no run is resumed.
    pub fn view(&self, ctx: &Context) -> Element<'_, Message> {
        let (training, read_only) = (ctx.training_active(), ctx.read_only());
        let mut col = Column::new().spacing(10);
        col = col.push(
            row![
                text("Models").size(20),
                text("Every training of this project. Tick two runs to compare them.")
                    .size(13)
                    .style(muted)
                    .width(Length::Fill),
                button(text("Refresh").size(13))
                    .style(button::secondary)
                    .on_press_maybe((!self.loading).then_some(Message::Refresh)),
            ]
            .spacing(12)
            .align_y(Alignment::Center),
        );
        col = col.push(self.pre_annotation(read_only));
        col = col.push(crate::gui::style::message_line(self.outcome.clone()));
        if let Some(c) = &self.comparison {
            col = col.push(comparison(c));
        }
        match &self.runs {
            None => col = col.push(text("Reading the runs…").size(14).style(muted)),
            Some(Err(e)) => col = col.push(text(e.to_string()).size(14).color(BAD)),
            Some(Ok(runs)) if runs.is_empty() => {
                col = col.push(
                    text("No runs yet: train a model on the Train screen.")
                        .size(14)
                        .style(muted),
                )
            }
            Some(Ok(runs)) => {
                for r in runs {
                    col = col.push(self.run_row(r, training, read_only));
                }
            }
        }
        scrollable(col.padding([0, 10])).height(Length::Fill).into()
    }

    fn pre_annotation(&self, read_only: bool) -> Element<'_, Message> {
        let active = self.active(ModelTask::Segment);
        let line = match active {
            Some(r) => format!(
                "Predict masks for the unlabeled images with the active segmenter ({}). Masks \
                 that exist are kept; the new ones are marked predicted, for you to correct.",
                r.id
            ),
            None => "Make a segmenter active to predict masks for the unlabeled images.".into(),
        };
        container(
            row![
                text(line).size(13).width(Length::Fill),
                button(text("Predict masks for unlabeled images").size(13)).on_press_maybe(
                    (active.is_some() && !read_only).then_some(Message::PreAnnotate)
                ),
            ]
            .spacing(12)
            .align_y(Alignment::Center),
        )
        .padding(10)
        .style(panel)
        .into()
    }

    /// Delete…, then the question whether to delete the run.
    fn delete_button<'a>(&'a self, r: &'a RunSummary, read_only: bool) -> Element<'a, Message> {
        if self.confirm_delete.as_ref() == Some(&r.id) {
            Element::from(
                row![
                    text("Delete this run and its weights?").size(12),
                    button(text("Delete").size(12))
                        .style(button::danger)
                        .on_press(Message::Delete(r.id.clone())),
                    button(text("Keep").size(12))
                        .style(button::secondary)
                        .on_press(Message::KeepRun),
                ]
                .spacing(6)
                .align_y(Alignment::Center),
            )
        } else {
            button(text("Delete…").size(12))
                .style(button::secondary)
                .on_press_maybe(
                    (!read_only && r.info.status != RunStatus::Training)
                        .then(|| Message::AskDelete(r.id.clone())),
                )
                .into()
        }
    }

    fn run_row<'a>(
        &'a self,
        r: &'a RunSummary,
        training: bool,
        read_only: bool,
    ) -> Element<'a, Message> {
        let i = &r.info;
        let kind = if r.task == ModelTask::Segment {
            "segmenter"
        } else {
            "classifier"
        };
        let status_colour = match i.status {
            RunStatus::Finished | RunStatus::EarlyStopped => GOOD,
            RunStatus::Failed | RunStatus::Interrupted => BAD,
            RunStatus::Training | RunStatus::Cancelled => WARN,
        };
        let mut title = row![
            checkbox(self.compare.contains(&r.id))
                .on_toggle(|on| Message::ToggleCompare(r.id.clone(), on)),
            text(&r.id).size(15),
            chip(i.status.name().replace('_', " "), status_colour),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        if r.active {
            title = title.push(chip(format!("active {kind}"), GOOD));
        }
        if r.stale.total() > 0 {
            title = title.push(chip(format!("stale: {}", staleness(r)), WARN));
        }
        title = title.push(space::horizontal());
        let finished = i.status.completed();
        if finished && !r.active {
            title = title.push(
                button(text(format!("Make active {kind}")).size(12))
                    .style(button::secondary)
                    .on_press_maybe((!read_only).then(|| Message::Activate(r.id.clone()))),
            );
        }
        if i.status.resumable() {
            title = title.push(
                button(text("Resume training").size(12))
                    .style(button::secondary)
                    .on_press_maybe((!training).then(|| Message::Resume(r.id.clone()))),
            );
        }
        title = title.push(self.delete_button(r, read_only));
        let mut body = column![title, text(facts(r)).size(12).style(muted)].spacing(4);
        for h in r.evaluations.iter().filter(|h| h.split != "all") {
            body = body.push(text(headline(h)).size(13));
        }
        if r.evaluations.is_empty() {
            body = body.push(text("No evaluation yet.").size(12).style(muted));
        }
        if let Some(e) = &i.error {
            body = body.push(text(e).size(12).color(BAD));
        }
        container(body)
            .padding(10)
            .width(Length::Fill)
            .style(panel)
            .into()
    }
}

const GOOD: Color = Color::from_rgb(0.40, 0.80, 0.45);
const WARN: Color = Color::from_rgb(0.94, 0.68, 0.31);
const BAD: Color = Color::from_rgb(0.92, 0.42, 0.38);

/// "3 masks changed, 2 relabeled".
fn staleness(r: &RunSummary) -> String {
    let s = &r.stale;
    [
        (s.masks_changed, "masks changed", "mask changed"),
        (s.relabeled, "relabeled", "relabeled"),
        (s.removed, "no longer usable", "no longer usable"),
        (s.added, "new images", "new image"),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, many, one)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect::<Vec<_>>()
    .join(", ")
}

/// "test (17 images): accuracy 0.882 [0.71–0.96] · MCC …".
fn headline(h: &Headline) -> String {
    let metrics: Vec<String> = h
        .metrics
        .iter()
        .map(|m| match m.ci95 {
            Some(ci) => format!(
                "{} {:.3} [{}]",
                m.name,
                m.value,
                crate::eval::stats::shown_interval(ci, 3)
            ),
            None => format!("{} {:.3}", m.name, m.value),
        })
        .collect();
    format!("{} ({} images): {}", h.split, h.images, metrics.join(" · "))
}

fn comparison(c: &Result<Comparison, crate::ml::Error>) -> Element<'_, Message> {
    let c = match c {
        Ok(c) => c,
        Err(e) => return text(e.to_string()).size(13).color(BAD).into(),
    };
    let ci = |v: Option<[f64; 2]>| {
        v.map_or(String::new(), |ci| {
            format!("[{}]", crate::eval::stats::shown_interval(ci, 3))
        })
    };
    let cell = |s: String, w: f32| text(s).size(13).width(w);
    let mut table = column![
        text(format!(
            "A = {} ({} images) against B = {} ({} images), on {}",
            c.a, c.images_a, c.b, c.images_b, c.split
        ))
        .size(14),
        row![
            cell("metric".into(), 150.0),
            cell("A".into(), 70.0),
            cell("A 95% CI".into(), 130.0),
            cell("B".into(), 70.0),
            cell("B 95% CI".into(), 130.0),
            cell("B − A".into(), 80.0),
        ]
    ]
    .spacing(3);
    for d in &c.rows {
        let better = d.delta > 1e-9;
        table = table.push(row![
            cell(d.metric.clone(), 150.0),
            cell(format!("{:.3}", d.a), 70.0),
            cell(ci(d.a_ci95), 130.0),
            cell(format!("{:.3}", d.b), 70.0),
            cell(ci(d.b_ci95), 130.0),
            text(format!("{:+.3}", d.delta)).size(13).color(if better {
                GOOD
            } else if d.delta < -1e-9 {
                BAD
            } else {
                Color::from_rgb(0.7, 0.7, 0.7)
            }),
        ]);
    }
    container(table).padding(10).style(panel).into()
}

/// What a run is, in one line: kind, recipe, start, epochs, data and device.
fn facts(r: &RunSummary) -> String {
    let i = &r.info;
    let kind = if r.task == ModelTask::Segment {
        "segmenter"
    } else {
        "classifier"
    };
    format!(
        "{kind} · recipe {} · {} · {} · started {} · {} of {} epochs (best {}) · trained on {} images, validated on {} · {}",
        i.recipe,
        i.architecture,
        i.started_from(),
        i.started_at
            .get(..16)
            .unwrap_or(&i.started_at)
            .replace('T', " "),
        i.epochs_done,
        i.epochs_planned,
        i.best_epoch,
        r.trained_on,
        r.validated_on,
        i.device
    )
}
