//! The app's side of the Review screen: building the review, the pictures, the reviewer's
//! writes (always on another thread, then recorded in the open project), the report, the
//! comparison, and the linked view's playback and export.

use super::{App, Message, Screen, State, for_project, open_annotate, save_task};
use crate::gui::app::jobs::background;
use crate::gui::background::{Handover, spawn};
use crate::gui::screens::review::{self, Panes, linked as linked_view};
use crate::ml::device::{self, DeviceChoice};
use crate::review::decisions::{self, AcceptPaths, review_dir};
use crate::review::linked::{self, Linked};
use crate::review::{Models, overlay, report, table};
use iced::Task;
use iced::widget::image::Handle;
use std::path::{Path, PathBuf};

/// Builds the review of `models` (predicting what is missing) with the decisions recorded.
fn build(
    root: &Path,
    models: &Models,
    choice: DeviceChoice,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<(table::Review, Vec<decisions::Decision>), String> {
    let device = device::select(choice)?;
    let review = table::build(root, models, &device, progress)?;
    let log = match models.primary() {
        Some(run) => decisions::read_log(root, run)?,
        None => Vec::new(),
    };
    Ok((review, log))
}

/// The three pictures of one image (run off the UI thread).
fn panes(
    stem: String,
    photo: PathBuf,
    truth: Option<PathBuf>,
    prediction: Option<PathBuf>,
    threshold: f64,
) -> Result<Panes, String> {
    let rgb = crate::project::thumbnails::decode_image(&photo)?.to_rgb8();
    let truth = truth.map(|p| table::read_gray(&p)).transpose()?;
    let map = match prediction {
        Some(p) if p.exists() => Some(table::read_gray(&p)?),
        _ => None,
    };
    let size = rgb.dimensions();
    let images = overlay::panes(&rgb, truth.as_ref(), map.as_ref(), threshold)
        .map(|img| Handle::from_rgba(size.0, size.1, img.into_raw()));
    Ok(Panes { stem, size, images })
}

impl App {
    pub(super) fn review_action(&mut self, action: review::Action) -> Task<Message> {
        let Some(root) = self.root() else {
            return Task::none();
        };
        let choice = self.train.device;
        let to = Message::Review;
        match action {
            review::Action::None => Task::none(),
            review::Action::Many(actions) => {
                Task::batch(actions.into_iter().map(|a| self.review_action(a)))
            }
            review::Action::List => background(
                "registry",
                move || crate::ml::registry::list(&root),
                move |r| to(review::Message::Listed(r)),
            ),
            review::Action::Build(models) => {
                let stream = spawn("review-build", move |send| {
                    let mut progress =
                        |what: &str, d, t| send(review::Message::Progress(what.to_string(), d, t));
                    let built = build(&root, &models, choice, &mut progress);
                    send(review::Message::Built(Handover::new(built)));
                });
                Task::run(stream, to)
            }
            review::Action::Compare(id) => {
                let stream = spawn("review-compare", move |send| {
                    let models = Models {
                        segmenter: Some(id),
                        classifier: None,
                    };
                    let built = build(&root, &models, choice, &mut |_, _, _| {}).map(|b| b.0);
                    send(review::Message::Compared(Handover::new(built)));
                });
                Task::run(stream, to)
            }
            review::Action::Panes(stem) => {
                let (State::Ready { project, .. }, Some(t)) = (&self.state, &self.review.table)
                else {
                    return Task::none();
                };
                let Some(entry) = project.get(&stem) else {
                    return Task::none();
                };
                let photo = project.image_path(entry);
                let truth = entry.has_mask.then(|| project.mask_path(&stem));
                let prediction = t.prediction_path(&stem);
                let threshold = t.threshold;
                let stream = spawn("review-panes", move |send| {
                    send(
                        match panes(stem.clone(), photo, truth, prediction, threshold) {
                            Ok(p) => review::Message::PanesReady(Handover::new(p)),
                            Err(e) => review::Message::PanesFailed(stem, e),
                        },
                    )
                });
                Task::run(stream, to)
            }
            review::Action::Accept(stem, take) => {
                let (State::Ready { project, .. }, Some(t)) = (&self.state, &self.review.table)
                else {
                    return Task::none();
                };
                let (Some(entry), Some(paths)) =
                    (project.get(&stem), accept_paths(&root, project, t, &stem))
                else {
                    return Task::none();
                };
                let label = entry.label.clone();
                let mut table = t.clone();
                let stream = spawn("review-accept", move |send| {
                    let result =
                        decisions::accept(&table, &stem, &label, &paths, take).and_then(|a| {
                            send(Message::Saved(a.stem.clone(), a.label.clone(), a.has_mask));
                            decisions::apply_accepted(&mut table, &a)?;
                            let row = table.row(&a.stem).cloned().ok_or("the row is gone")?;
                            Ok((a, row))
                        });
                    send(to(review::Message::Accepted(Handover::new(result))));
                });
                Task::run(stream, move |m| for_project(&root, m))
            }
            review::Action::Undo(accepted) => {
                let (State::Ready { project, .. }, Some(t)) = (&self.state, &self.review.table)
                else {
                    return Task::none();
                };
                let Some(paths) = accept_paths(&root, project, t, &accepted.stem) else {
                    return Task::none();
                };
                let stream = spawn("review-undo", move |send| {
                    let result = decisions::undo(&accepted, &paths).map(|has_mask| {
                        send(Message::Restored(
                            accepted.stem.clone(),
                            accepted.before.label.clone(),
                            has_mask,
                        ));
                        (*accepted, has_mask)
                    });
                    send(to(review::Message::Undone(Handover::new(result))));
                });
                Task::run(stream, move |m| for_project(&root, m))
            }
            review::Action::FocusComment => iced::widget::operation::focus("review-comment"),
            review::Action::Flag(stem, comment) => {
                let State::Ready { project, .. } = &self.state else {
                    return Task::none();
                };
                let Some(entry) = project.get(&stem) else {
                    return Task::none();
                };
                let label = decisions::flag(&entry.label, &comment);
                let has_mask = entry.has_mask;
                let path = project.label_path(&stem);
                let stream = spawn(
                    "review-flag",
                    move |send| match crate::project::write_label(&path, &label) {
                        Ok(()) => {
                            send(Message::Saved(stem.clone(), label.clone(), has_mask));
                            send(to(review::Message::Flagged(Ok((stem, label)))));
                        }
                        Err(e) => send(to(review::Message::Flagged(Err(e.to_string())))),
                    },
                );
                Task::run(stream, move |m| for_project(&root, m))
            }
            review::Action::Edit(stem) => {
                let State::Ready {
                    project,
                    browse,
                    loader,
                    annotate,
                } = &mut self.state
                else {
                    return Task::none();
                };
                let mut tasks = Vec::new();
                if let Some(mut open) = annotate.take() {
                    for job in open.flush() {
                        self.carried.insert(job.stem.clone(), (job.clone(), false));
                        tasks.push(save_task(job, project));
                    }
                }
                let carried = self.carried.values().cloned().collect();
                let (screen, task) = open_annotate(project, browse, loader, stem, carried);
                *annotate = Some(screen);
                tasks.push(task);
                self.screen = Screen::Images;
                self.annotate_from = Screen::Review;
                Task::batch(tasks)
            }
            review::Action::WriteLog(run, log, generation) => background(
                "review-log",
                move || decisions::write_log(&root, &run, &log, generation),
                move |r| to(review::Message::LogWritten(r)),
            ),
            review::Action::Report(table, log) => background(
                "review-report",
                move || report::write(&table, &log),
                move |r| to(review::Message::ReportWritten(r)),
            ),
            review::Action::Linked(a) => self.linked_action(root, a),
        }
    }

    /// An image opened from Review was edited and Annotate closed: its row is scored again
    /// against the mask just saved (`mask`, when it was edited), off the UI thread.
    pub(super) fn review_edited(
        &mut self,
        stem: String,
        edit: Option<(crate::project::ImageLabel, Option<crate::mask::Mask>)>,
    ) -> Task<Message> {
        let Some(table) = &self.review.table else {
            return Task::none();
        };
        let Some((label, mask)) = edit else {
            return Task::none();
        };
        let (Some(row), prediction) = (table.row(&stem).cloned(), table.prediction_path(&stem))
        else {
            return Task::none();
        };
        let (classes, nerve, threshold) = (table.classes.clone(), table.nerve, table.threshold);
        background(
            "review-rescore",
            move || {
                let truth = mask.map(|m| {
                    image::GrayImage::from_raw(m.width(), m.height(), m.as_bytes().to_vec())
                        .expect("a mask's bytes fill its size")
                });
                decisions::rescore(row, &label, truth, prediction, &classes, nerve, threshold)
            },
            |r| Message::Review(review::Message::Rescored(r)),
        )
    }

    fn linked_action(&mut self, root: PathBuf, action: linked_view::Action) -> Task<Message> {
        let choice = self.train.device;
        let to = |m| Message::Review(review::Message::Linked(m));
        match action {
            linked_view::Action::None => Task::none(),
            linked_view::Action::Experiments => {
                if let State::Ready { project, .. } = &self.state {
                    self.review
                        .linked
                        .set_experiments(linked::experiments(project));
                }
                Task::none()
            }
            linked_view::Action::Play {
                models,
                experiment,
                stop,
                run,
            } => {
                let stream = spawn("linked-play", move |send| {
                    let result = load(&root, &models, choice).and_then(|l| {
                        linked::play(&root, &l, &experiment, &stop, &mut |f, total| {
                            let frame = Handover::new(shown(f));
                            send(linked_view::Message::Frame(run, frame, total))
                        })
                    });
                    send(linked_view::Message::Done(run, result));
                });
                Task::run(stream, to)
            }
            linked_view::Action::ExportDialog => {
                self.update(Message::Pick(crate::gui::dialogs::Purpose::LinkedExport))
            }
            linked_view::Action::Export {
                models,
                experiment,
                to: out,
            } => {
                let stream = spawn("linked-export", move |send| {
                    let result = load(&root, &models, choice).and_then(|l| {
                        linked::export(&root, &l, &experiment, &out, &mut |d, t| {
                            send(linked_view::Message::ExportProgress(d, t))
                        })
                    });
                    send(linked_view::Message::Exported(result));
                });
                Task::run(stream, to)
            }
        }
    }
}

/// The files accepting (or undoing the acceptance of) `stem` touches.
fn accept_paths(
    root: &Path,
    project: &crate::project::Project,
    table: &table::Review,
    stem: &str,
) -> Option<AcceptPaths> {
    let run = table.models.primary()?;
    Some(AcceptPaths {
        mask: project.mask_path(stem),
        label: project.label_path(stem),
        prediction: table.prediction_path(stem),
        keep_dir: review_dir(root, run).join("replaced-masks"),
    })
}

fn load(root: &Path, models: &Models, choice: DeviceChoice) -> Result<Linked, String> {
    let segmenter = models
        .segmenter
        .as_deref()
        .ok_or("choose a segmenter run")?;
    Linked::load(
        root,
        models.classifier.as_deref(),
        segmenter,
        device::select(choice)?,
    )
}

fn shown(f: linked::Frame) -> linked_view::Shown {
    let (w, h) = f.picture.dimensions();
    let rgba = image::DynamicImage::ImageRgb8(f.picture).to_rgba8();
    linked_view::Shown {
        stem: f.stem,
        index: f.index,
        call: f.call,
        iou: f.iou,
        ms: f.ms,
        picture: Handle::from_rgba(w, h, rgba.into_raw()),
    }
}
