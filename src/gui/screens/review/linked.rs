//! The linked real-time view: an experiment's frames, classified then segmented when called
//! nerve, shown as fast as the models produce them, with the class, the milliseconds per frame
//! and the IoU; exported as a GIF and PNG frames.

use crate::gui::background::Handover;
use crate::gui::style::muted;
use crate::review::linked::Export;
use crate::review::{Error, Models};
use iced::widget::image::Handle;
use iced::widget::{
    Column, button, column, container, image, pick_list, progress_bar, row, slider, text,
};
use iced::{Alignment, ContentFit, Element, Length};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Frames kept for scrubbing after playback (about 2 MB each).
pub const KEPT_FRAMES: usize = 600;

/// A processed frame as shown.
#[derive(Debug, Clone)]
pub struct Shown {
    pub stem: String,
    pub index: usize,
    pub call: Option<(String, f32)>,
    pub iou: Option<f64>,
    pub ms: f64,
    pub picture: Handle,
}

#[derive(Debug, Clone)]
pub enum Message {
    Pick(String),
    Play,
    Stop,
    /// A frame of playback `run` (see [`Playback`]).
    Frame(Playback, Handover<Shown>, usize),
    /// Playback `run` ended: frames played, or why it stopped.
    Done(Playback, Result<usize, Error>),
    Seek(usize),
    ExportDialog,
    Export(Option<PathBuf>),
    ExportProgress(usize, usize),
    Exported(Result<Export, Error>),
}

/// What an update of the linked view wants done (the Review screen's jobs.rs does it).
#[derive(Debug)]
pub enum Job {
    None,
    Experiments,
    Play {
        models: Models,
        experiment: String,
        stop: Arc<AtomicBool>,
        run: Playback,
    },
    ExportDialog,
    Export {
        models: Models,
        experiment: String,
        to: PathBuf,
    },
}

/// Which press of Play a playback thread serves. Its frames and its end are tagged with it, so
/// a thread that was stopped cannot clear the stop handle of the one started after it, nor
/// add its last frames to the new run's list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Playback(u64);

#[derive(Default)]
pub struct Linked {
    pub models: Models,
    pub experiments: Vec<(String, usize)>,
    pub experiment: Option<String>,
    pub frames: Vec<Shown>,
    pub total: usize,
    pub shown: usize,
    stop: Option<Arc<AtomicBool>>,
    /// The playback now running or last run.
    run: Playback,
    /// When Play was pressed and when the last frame came.
    played: Option<(Instant, Instant)>,
    pub error: Option<String>,
    pub exporting: Option<(usize, usize)>,
    pub exported: Option<Result<Export, Error>>,
}

impl Linked {
    pub fn choose(&mut self, models: &Models) {
        self.models = models.clone();
    }

    pub fn set_experiments(&mut self, list: Vec<(String, usize)>) {
        if self
            .experiment
            .as_ref()
            .is_none_or(|e| !list.iter().any(|(n, _)| n == e))
        {
            self.experiment = list.first().map(|(n, _)| n.clone());
        }
        self.experiments = list;
    }

    pub fn playing(&self) -> bool {
        self.stop.is_some()
    }

    /// Median milliseconds per frame and the frames per second it makes, of what was played
    /// (the median: the first frame also warms the models up).
    pub fn speed(&self) -> Option<(f64, f64)> {
        if self.frames.is_empty() {
            return None;
        }
        let ms: Vec<f64> = self.frames.iter().map(|f| f.ms).collect();
        let median = crate::eval::stats::Summary::of(&ms).median;
        Some((median, 1000.0 / median.max(1e-9)))
    }

    /// Frames shown per second of playback (the models' throughput, reading ahead).
    pub fn playback_rate(&self) -> Option<f64> {
        let (start, last) = self.played?;
        let s = last.duration_since(start).as_secs_f64();
        (s > 0.0 && !self.frames.is_empty()).then(|| self.frames.len() as f64 / s)
    }

    pub fn update(&mut self, message: Message) -> Job {
        match message {
            Message::Pick(e) => {
                self.halt();
                self.experiment = Some(e);
                self.frames.clear();
            }
            Message::Play => {
                let Some(experiment) = self.experiment.clone() else {
                    return Job::None;
                };
                if self.models.segmenter.is_none() {
                    self.error = Some("Choose a segmenter run above.".into());
                    return Job::None;
                }
                self.halt();
                let stop = Arc::new(AtomicBool::new(false));
                self.stop = Some(stop.clone());
                self.run = Playback(self.run.0 + 1);
                self.frames.clear();
                self.error = None;
                self.total = 0;
                self.played = Some((Instant::now(), Instant::now()));
                return Job::Play {
                    models: self.models.clone(),
                    experiment,
                    stop,
                    run: self.run,
                };
            }
            Message::Stop => self.halt(),
            Message::Frame(run, h, total) => {
                if run != self.run || !self.playing() {
                    return Job::None;
                }
                if let Some(f) = h.take() {
                    self.total = total;
                    if self.frames.len() >= KEPT_FRAMES {
                        self.frames.remove(0);
                    }
                    self.frames.push(f);
                    self.shown = self.frames.len() - 1;
                    if let Some((_, last)) = &mut self.played {
                        *last = Instant::now();
                    }
                }
            }
            Message::Done(run, r) => {
                if run != self.run {
                    return Job::None;
                }
                self.stop = None;
                if let Err(e) = r {
                    self.error = Some(e.to_string());
                }
            }
            Message::Seek(i) => self.shown = i.min(self.frames.len().saturating_sub(1)),
            Message::ExportDialog => return Job::ExportDialog,
            Message::Export(Some(to)) => {
                if let Some(experiment) = self.experiment.clone() {
                    self.exporting = Some((0, 0));
                    self.exported = None;
                    return Job::Export {
                        models: self.models.clone(),
                        experiment,
                        to,
                    };
                }
            }
            Message::Export(None) => {}
            Message::ExportProgress(d, t) => self.exporting = Some((d, t)),
            Message::Exported(r) => {
                self.exporting = None;
                self.exported = Some(r);
            }
        }
        Job::None
    }

    /// Stops playback, if any (also when the user leaves the Linked view tab or the screen).
    pub fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            s.store(true, Ordering::Relaxed);
        }
    }
}

/// A playback nobody shows any more (the screen was closed) stops.
impl Drop for Linked {
    fn drop(&mut self) {
        self.halt();
    }
}

impl Linked {
    pub fn view(&self) -> Element<'_, Message> {
        let models = format!(
            "Classifier {} → segmenter {} (only on frames called nerve)",
            self.models.classifier.as_deref().unwrap_or("none"),
            self.models.segmenter.as_deref().unwrap_or("none")
        );
        let mut col = Column::new()
            .spacing(8)
            .push(self.controls())
            .push(text(models).size(12).style(muted));
        if let Some((ms, fps)) = self.speed() {
            col = col.push(
                text(format!(
                    "{} of {} frames · {ms:.0} ms/frame ({fps:.1} frames/s){}{}",
                    self.frames.len(),
                    self.total,
                    self.playback_rate()
                        .map(|r| format!(" · played at {r:.1} frames/s"))
                        .unwrap_or_default(),
                    if self.playing() { " · playing" } else { "" }
                ))
                .size(14),
            );
        }
        col = col.push(self.outcome());
        col.push(self.frame_view()).into()
    }

    /// The experiment, Play or Stop, Export.
    fn controls(&self) -> Element<'_, Message> {
        let mut controls = row![
            text("Experiment").size(13),
            pick_list(
                self.experiments
                    .iter()
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>(),
                self.experiment.clone(),
                Message::Pick
            )
            .text_size(13),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        if let Some((_, n)) = self
            .experiments
            .iter()
            .find(|(e, _)| Some(e) == self.experiment.as_ref())
        {
            controls = controls.push(text(format!("{n} frames")).size(12).style(muted));
        }
        controls = controls.push(if self.playing() {
            button(text("Stop").size(13)).on_press(Message::Stop)
        } else {
            button(text("Play").size(13)).on_press_maybe(
                (self.experiment.is_some() && self.models.segmenter.is_some())
                    .then_some(Message::Play),
            )
        });
        controls = controls.push(
            button(text("Export GIF and PNG frames…").size(13))
                .style(button::secondary)
                .on_press_maybe(
                    (self.exporting.is_none()
                        && self.experiment.is_some()
                        && self.models.segmenter.is_some())
                    .then_some(Message::ExportDialog),
                ),
        );
        controls.into()
    }

    /// A playback's error, and the export's progress or outcome.
    fn outcome(&self) -> Element<'_, Message> {
        let mut col = Column::new().spacing(8);
        if let Some(e) = &self.error {
            col = col.push(text(e).size(13).style(text::danger));
        }
        if let Some((d, t)) = self.exporting {
            col = col.push(
                row![
                    text(format!("Exporting frame {d} of {t}")).size(13),
                    progress_bar(0.0..=t.max(1) as f32, d as f32).girth(8)
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            );
        }
        match &self.exported {
            Some(Ok(x)) => {
                col = col.push(
                    text(format!(
                        "Exported {} frames ({:.0} ms/frame, {:.1} frames/s): {} and {}",
                        x.frames,
                        x.median_ms,
                        x.frames_per_s,
                        x.video.display(),
                        x.frames_dir.display()
                    ))
                    .size(13),
                )
            }
            Some(Err(e)) => col = col.push(text(e.to_string()).size(13).style(text::danger)),
            None => {}
        }
        col.into()
    }

    /// The frame shown with its call, time and IoU, and the slider to scrub; or what Play does.
    fn frame_view(&self) -> Element<'_, Message> {
        let mut col = Column::new().spacing(8);
        if let Some(f) = self.frames.get(self.shown) {
            let detail = format!(
                "Frame {} · {} · {}{}",
                f.index + 1,
                f.stem,
                f.call
                    .as_ref()
                    .map(|(c, p)| format!("{c} ({p:.2})"))
                    .unwrap_or_else(|| "segmenter only".into()),
                f.iou.map(|i| format!(" · IoU {i:.2}")).unwrap_or_default()
            );
            col = col
                .push(text(detail).size(13))
                .push(
                    container(
                        image(f.picture.clone())
                            .content_fit(ContentFit::Contain)
                            .width(Length::Fill)
                            .height(Length::Fill),
                    )
                    .width(Length::Fill)
                    .height(Length::Fill),
                )
                .push(slider(
                    0.0..=(self.frames.len().saturating_sub(1)) as f32,
                    self.shown as f32,
                    |v| Message::Seek(v.round() as usize),
                ));
        } else if !self.playing() {
            col = col.push(
                column![
                    text("Press Play to run the models over the experiment's frames in order.")
                        .size(14),
                    text(
                        "Each frame shows the green nerve mask, the class, the time it took and \
                         the IoU where the frame has a ground-truth mask."
                    )
                    .size(12)
                    .style(muted)
                ]
                .spacing(4),
            );
        }
        col.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(index: usize) -> Handover<Shown> {
        Handover::new(Shown {
            stem: format!("f{index}"),
            index,
            call: None,
            iou: None,
            ms: 4.0,
            picture: Handle::from_rgba(1, 1, vec![0, 0, 0, 255]),
        })
    }

    fn play(linked: &mut Linked) -> (Arc<AtomicBool>, Playback) {
        match linked.update(Message::Play) {
            Job::Play { stop, run, .. } => (stop, run),
            other => panic!("Play gave {other:?}"),
        }
    }

    /// Stop, then Play before the stopped thread has reported its end: the old thread's end and
    /// its late frames must not touch the new playback.
    #[test]
    fn a_stopped_playback_cannot_end_or_fill_the_one_started_after_it() {
        let mut linked = Linked::default();
        linked.models = Models {
            segmenter: Some("seg".into()),
            classifier: None,
        };
        linked.experiment = Some("e1".into());
        let (first_stop, first) = play(&mut linked);
        linked.update(Message::Frame(first, frame(0), 10));
        linked.update(Message::Stop);
        assert!(
            first_stop.load(Ordering::Relaxed),
            "Stop reaches the first thread"
        );
        let (second_stop, second) = play(&mut linked);
        assert_ne!(first, second);

        linked.update(Message::Frame(first, frame(1), 10));
        linked.update(Message::Done(first, Ok(2)));
        assert!(linked.playing(), "the second playback is still running");
        assert!(linked.frames.is_empty(), "no late frame of the first run");
        assert!(!second_stop.load(Ordering::Relaxed));

        linked.update(Message::Frame(second, frame(0), 10));
        assert_eq!(linked.frames.len(), 1);
        linked.update(Message::Stop);
        assert!(
            second_stop.load(Ordering::Relaxed),
            "Stop reaches the second thread"
        );
        linked.update(Message::Done(second, Ok(1)));
        assert!(!linked.playing());
    }
}
