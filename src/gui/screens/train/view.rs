//! The Train screen's layout: settings and data on the left, the live training on the right.

use super::imagenet::Offer;
use super::{
    BATCH_SIZE, DataSummary, EPOCHS, Field, IMAGE_SIZE, Message, Settings, StartFrom, Train, What,
};
use crate::gui::screens::Context;
use crate::gui::style::{chip, muted, panel};
use crate::gui::training::{Phase, Session};
use crate::gui::widgets::curves::{self, Chart, Series};
use crate::ml::device::DeviceChoice;
use crate::ml::imagenet::catalog::megabytes;
use crate::ml::models::Task;
use crate::project::splits::Split;
use iced::widget::{
    Column, button, column, container, image, pick_list, progress_bar, row, scrollable, space, text,
};
use iced::{Alignment, Color, Element, Length};

const SIDE: f32 = 400.0;

impl Train {
    pub fn view<'a>(&'a self, ctx: &Context<'a>) -> Element<'a, Message> {
        let session = ctx.training;
        let device = ctx.settings.device;
        let busy = session.is_some_and(|s| s.phase.is_active() || matches!(s.phase, Phase::Paused));
        let side = scrollable(
            column![
                self.choices(busy, device),
                self.data(),
                self.start(busy, session, device)
            ]
            .spacing(10)
            .padding([0, 10]),
        )
        .width(SIDE)
        .height(Length::Fill);
        let live: Element<'a, Message> = match session {
            Some(s) => live(s),
            None => container(
                column![
                    text("Nothing is training.").size(20),
                    text(
                        "Choose what to train on the left and press Start. Training runs in the \
                         background: you can go on browsing and annotating meanwhile, and follow \
                         it here."
                    )
                    .size(14)
                    .style(muted),
                ]
                .spacing(8)
                .max_width(520),
            )
            .center(Length::Fill)
            .into(),
        };
        row![
            side,
            container(live)
                .padding(12)
                .width(Length::Fill)
                .height(Length::Fill)
                .style(panel)
        ]
        .spacing(8)
        .height(Length::Fill)
        .into()
    }

    fn choices(&self, busy: bool, device: DeviceChoice) -> Element<'_, Message> {
        let what = |label: &'static str, w: What| {
            button(text(label).size(13))
                .style(if self.what == w {
                    button::primary
                } else {
                    button::secondary
                })
                .on_press_maybe((!busy).then_some(Message::What(w)))
        };
        let mut col = column![
            text("What to train").size(16),
            row![
                what("Classifier", What::Classifier),
                what("Segmenter", What::Segmenter),
                what("Both, in turn", What::Both),
            ]
            .spacing(6),
        ]
        .spacing(8);
        for &task in self.what.tasks() {
            if let Some(s) = self.settings(task) {
                col = col.push(settings_card(self, s, busy));
            }
        }
        let devices = [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Gpu];
        col = col.push(
            row![
                text("Device").size(13).width(90),
                pick_list(
                    devices.map(DeviceLabel),
                    Some(DeviceLabel(device)),
                    |d: DeviceLabel| Message::Device(d.0)
                )
                .text_size(13),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        );
        col.into()
    }

    fn data(&self) -> Element<'_, Message> {
        let mut col = column![
            row![
                text("Data").size(16).width(Length::Fill),
                button(text("Count again").size(12))
                    .style(button::secondary)
                    .on_press_maybe((!self.planning).then_some(Message::RefreshData)),
            ]
            .align_y(Alignment::Center)
        ]
        .spacing(6);
        match &self.plans {
            None => col = col.push(text("Counting the images…").size(13).style(muted)),
            Some(Err(e)) => col = col.push(text(e.to_string()).size(13)),
            Some(Ok(plans)) => {
                for &task in self.what.tasks() {
                    col = col.push(data_table(task, plans.of(task)));
                }
                if self.what.tasks().contains(&Task::Segment) {
                    col = col.push(
                        text(
                            "The segmenter learns from labeled nerve images with a mask, and \
                             from labeled images with a mask and no class (an empty mask from \
                             an import teaches it \"no nerve here\"; they count as nerve).",
                        )
                        .size(11)
                        .style(muted),
                    );
                }
            }
        }
        container(col)
            .padding(10)
            .width(Length::Fill)
            .style(panel)
            .into()
    }

    fn start<'a>(
        &'a self,
        busy: bool,
        session: Option<&'a Session>,
        device: DeviceChoice,
    ) -> Element<'a, Message> {
        let problem = self.start_problem();
        let mut col = column![
            button(text("Start training").size(15))
                .padding([8, 18])
                .on_press_maybe((!busy && problem.is_none()).then_some(Message::Start))
        ]
        .spacing(4);
        if let Some(p) = problem.filter(|_| !busy) {
            col = col.push(text(p).size(12).style(muted));
        }
        if !busy {
            for &task in self.what.tasks() {
                col = col.push(self.forecast(task, device));
            }
        }
        if busy {
            col = col.push(
                text(match session.map(|s| &s.phase) {
                    Some(Phase::Paused) => "A training is paused: resume or cancel it first.",
                    _ => "A training is running (one at a time).",
                })
                .size(12)
                .style(muted),
            );
        }
        col.into()
    }
}

impl Train {
    /// "Segmenter: about 4 min 10 s on CPU (…), measured", and a warning where one is due.
    fn forecast(&self, task: Task, device: DeviceChoice) -> Element<'_, Message> {
        let Some(s) = self.settings(task) else {
            return column![].into();
        };
        let Some(Ok(plans)) = &self.plans else {
            return column![].into();
        };
        let data = plans.of(task);
        let (train, val) = (data.in_split(Split::Train), data.in_split(Split::Val));
        let key = s.forecast_key(device);
        let role = match task {
            Task::Classify => "Classifier",
            Task::Segment => "Segmenter",
        };
        let line = match self.forecasts.get(&key) {
            Some(Ok((times, device))) => format!(
                "{role}: about {} on {device} ({} epochs of {train} images; one training step \
                 of {} images measured at {:.2} s)",
                crate::ml::progress::duration(times.run_seconds(
                    train,
                    val,
                    s.batch_size,
                    s.epochs
                )),
                s.epochs,
                s.batch_size,
                times.train_ms_per_batch / 1e3
            ),
            Some(Err(why)) => format!("{role}: time not measured ({why})"),
            None if self.forecasts.is_measuring(&key) => {
                format!("{role}: measuring the speed on this device…")
            }
            None => String::new(),
        };
        let mut col = column![text(line).size(12)].spacing(2);
        let pretrained = self.weights_for(s).is_some();
        if let Some(warning) = crate::ml::forecast::warning(train, pretrained) {
            col = col.push(text(warning).size(12).color(WARN));
        }
        col.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeviceLabel(DeviceChoice);

impl std::fmt::Display for DeviceLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            DeviceChoice::Auto => "Automatic (a GPU if there is one)",
            DeviceChoice::Cpu => "CPU",
            DeviceChoice::Gpu => "GPU",
        })
    }
}

/// "8 epochs with the backbone frozen, then 4 fine-tuning", or "13 epochs".
fn stages_text(s: &Settings) -> String {
    let r = s.named_recipe().recipe;
    if r.fine_tune_epochs > 0 {
        format!(
            "{} epochs with the backbone frozen, then {} fine-tuning",
            r.epochs, r.fine_tune_epochs
        )
    } else {
        format!("{} epochs", r.epochs)
    }
}

fn settings_card<'a>(train: &'a Train, s: &'a Settings, busy: bool) -> Element<'a, Message> {
    let task = s.task;
    let names: Vec<String> = s.recipes.iter().map(|r| r.name.clone()).collect();
    let stepper = |label: &'static str, value: String, field: Field, hint: String| {
        let b = |sign: &'static str, up: bool| {
            button(text(sign).size(13))
                .width(28)
                .style(button::secondary)
                .on_press_maybe((!busy).then_some(Message::Adjust(task, field, up)))
        };
        row![
            text(label).size(13).width(90),
            b("−", false),
            text(value).size(13).width(60).center(),
            b("+", true),
            text(hint).size(11).style(muted),
        ]
        .spacing(6)
        .align_y(Alignment::Center)
    };
    let title = match task {
        Task::Classify => "Classifier (nerve / opening wound / tendon)",
        Task::Segment => "Segmenter (nerve masks)",
    };
    let stages = stages_text(s);
    container(
        column![
            text(title).size(14),
            row![
                text("Recipe").size(13).width(90),
                pick_list(names, Some(s.recipe().name.clone()), move |n| {
                    Message::Recipe(task, n)
                })
                .text_size(13),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
            stepper(
                "Epochs",
                s.epochs.to_string(),
                Field::Epochs,
                format!("{}–{}", EPOCHS.0, EPOCHS.1)
            ),
            stepper(
                "Image size",
                format!("{} px", s.image_size),
                Field::ImageSize,
                format!("{}–{}", IMAGE_SIZE.0, IMAGE_SIZE.1)
            ),
            stepper(
                "Batch size",
                s.batch_size.to_string(),
                Field::BatchSize,
                format!("{}–{}", BATCH_SIZE.0, BATCH_SIZE.1)
            ),
            stepper(
                "Learning rate",
                format!("{:.0e}", s.learning_rate),
                Field::LearningRate,
                "1e-5–1e-2".into()
            ),
            weights_row(train, s, busy),
            text(stages).size(11).style(muted),
        ]
        .spacing(6),
    )
    .padding(10)
    .width(Length::Fill)
    .style(panel)
    .into()
}

/// Where the weights start: the recipe's ImageNet file (offered for download where it is not
/// here yet), a torchvision file the user chose, or random.
fn weights_row<'a>(train: &'a Train, s: &'a Settings, busy: bool) -> Element<'a, Message> {
    let task = s.task;
    let choice = |label: &'static str, on: bool, message: Message| {
        button(text(label).size(12))
            .style(if on {
                button::primary
            } else {
                button::secondary
            })
            .on_press_maybe((!busy).then_some(message))
    };
    let buttons = row![
        text("Start from").size(13).width(90),
        choice(
            "ImageNet",
            s.start == StartFrom::Imagenet,
            Message::UseImagenet(task)
        ),
        choice(
            "File…",
            matches!(s.start, StartFrom::File(_)),
            Message::PickWeights(task)
        ),
        choice(
            "Random",
            s.start == StartFrom::Random,
            Message::ClearWeights(task)
        ),
    ]
    .spacing(6)
    .align_y(Alignment::Center);
    let r = &s.recipe().recipe;
    let detail: Element<'a, Message> = match &s.start {
        StartFrom::File(path) => one_line(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        StartFrom::Random => {
            // A sentence, wrapped (cut at the card's edge it lost its end).
            text("random weights: every layer trains from the first epoch")
                .size(13)
                .into()
        }
        StartFrom::Imagenet => imagenet_offer(train, task, r.architecture, r.width, busy),
    };
    // The offer and its progress take the card's whole width (a Download button beside the
    // size did not fit under the buttons); a file's name lines up under them.
    let indent = if s.start == StartFrom::Imagenet {
        0.0
    } else {
        96.0
    };
    column![
        buttons,
        container(detail)
            .padding(iced::Padding::ZERO.left(indent))
            .width(Length::Fill)
    ]
    .spacing(4)
    .into()
}

/// One line cut at the panel's edge rather than wrapped under the buttons.
fn one_line<'a>(line: String) -> Element<'a, Message> {
    container(
        text(line)
            .size(13)
            .wrapping(iced::widget::text::Wrapping::None),
    )
    .width(Length::Fill)
    .clip(true)
    .into()
}

/// "ImageNet weights (14 MB) — Download", the download's progress, or the file in use.
fn imagenet_offer<'a>(
    train: &'a Train,
    task: Task,
    arch: crate::ml::models::Arch,
    width: f64,
    busy: bool,
) -> Element<'a, Message> {
    let stopped = |file: &str| {
        train
            .weights
            .stopped
            .get(file)
            .map(|why| text(why.clone()).size(11).color(WARN))
    };
    match train.weights.offer(arch, width) {
        Offer::Ready(file, _) => column![
            one_line(format!("ImageNet weights: {file}")),
            text("The backbone starts pretrained and is frozen where the recipe says.")
                .size(11)
                .style(muted),
        ]
        .spacing(2)
        .into(),
        Offer::Download(source, partial) => {
            let label = if partial > 0 {
                format!(
                    "Resume ({} of {} here)",
                    megabytes(partial),
                    source.size_text()
                )
            } else {
                "Download".into()
            };
            let mut col = column![
                row![
                    text(format!("ImageNet weights ({}) —", source.size_text())).size(13),
                    button(text(label).size(12)).on_press_maybe(
                        (!busy && train.weights.downloading.is_none())
                            .then_some(Message::DownloadWeights(task))
                    ),
                ]
                .spacing(6)
                .align_y(Alignment::Center),
                text("Until then: random weights.").size(11).style(muted),
            ]
            .spacing(2);
            if let Some(why) = stopped(&source.file) {
                col = col.push(why);
            }
            col.into()
        }
        Offer::Downloading(source, transfer) => column![
            row![
                progress_bar(0.0..=1.0, transfer.map(|t| t.fraction()).unwrap_or(0.0))
                    .length(Length::Fill)
                    .girth(8),
                button(text("Cancel").size(12))
                    .style(button::secondary)
                    .on_press(Message::CancelDownload),
            ]
            .spacing(6)
            .align_y(Alignment::Center),
            text(match transfer {
                Some(t) => format!("{}: {}", source.file, t.text()),
                None => format!("{}: connecting…", source.file),
            })
            .size(11)
            .style(muted),
        ]
        .spacing(2)
        .into(),
        Offer::None(why) => text(why).size(11).style(muted).into(),
    }
}

fn data_table(task: Task, d: &DataSummary) -> Element<'_, Message> {
    let splits = [Split::Train, Split::Val, Split::Test];
    let cell = |s: String| text(s).size(12).width(56);
    let mut header = row![text(task.role()).size(13).width(130)];
    for s in splits {
        header = header.push(cell(s.name().into()));
    }
    let mut col = column![header].spacing(2);
    for class in &d.classes {
        let mut r = row![text(class).size(12).width(130)];
        let mut any = false;
        for s in splits {
            let n = d.counts.get(&(s, class.clone())).copied().unwrap_or(0);
            any |= n > 0;
            r = r.push(cell(n.to_string()));
        }
        if any || task == Task::Classify {
            col = col.push(r);
        }
    }
    if let Some(p) = d.problem(task) {
        col = col.push(text(format!("Cannot train: {p}")).size(12).color(WARN));
    }
    if !d.excluded.is_empty() {
        let left_out: Vec<String> = d
            .excluded
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        col = col.push(
            text(format!("Left out: {}", left_out.join(", ")))
                .size(12)
                .style(muted),
        );
    }
    col.into()
}

const WARN: Color = Color::from_rgb(0.94, 0.68, 0.31);
const GOOD: Color = Color::from_rgb(0.40, 0.80, 0.45);

/// The live view of a training.
fn live(s: &Session) -> Element<'_, Message> {
    let mut col = Column::new().spacing(10);
    let (title, colour) = match &s.phase {
        Phase::Running => ("Training", GOOD),
        Phase::Pausing => ("Pausing after this batch…", WARN),
        Phase::Cancelling => ("Stopping after this batch…", WARN),
        Phase::Paused => ("Paused", WARN),
        Phase::Finished => ("Finished", GOOD),
        Phase::Cancelled => ("Cancelled", WARN),
        Phase::Failed(_) => ("Failed", Color::from_rgb(0.9, 0.35, 0.3)),
    };
    let mut head = row![chip(title, colour)]
        .spacing(10)
        .align_y(Alignment::Center);
    if let Some((i, n, name)) = &s.step {
        head = head.push(text(format!("{name} ({} of {n})", i + 1)).size(16));
    }
    if let Some(run) = &s.run {
        head = head.push(text(format!("run {run}")).size(12).style(muted));
    }
    head = head.push(space::horizontal());
    head = head.push(controls(&s.phase));
    col = col.push(head);
    col = col.push(
        text(format!(
            "{} · {} train / {} validation images · {}",
            s.device.as_deref().unwrap_or("finding the device…"),
            s.images.0,
            s.images.1,
            if s.architecture.is_empty() {
                "preparing"
            } else {
                &s.architecture
            }
        ))
        .size(12)
        .style(muted),
    );
    if !s.weights.is_empty() {
        let mut started = format!("Weights: {}", s.weights);
        if let Some(stage) = &s.stage {
            started = format!("{started}. {stage}.");
        }
        col = col.push(text(started).size(12).style(muted));
    }
    col = col.push(progress(s));
    if let Phase::Failed(e) = &s.phase {
        col = col.push(
            text(e.to_string())
                .size(13)
                .color(Color::from_rgb(0.95, 0.45, 0.4)),
        );
    }
    col = col.push(charts(s));
    col = col.push(samples(s));
    if !s.log.is_empty() {
        let mut log = column![].spacing(2);
        for line in s.log.iter().rev().take(6).rev() {
            log = log.push(text(line).size(12));
        }
        col = col.push(log);
    }
    scrollable(col).height(Length::Fill).into()
}

fn controls(phase: &Phase) -> Element<'_, Message> {
    let b = |label: &'static str, m: Option<Message>| {
        button(text(label).size(13))
            .style(button::secondary)
            .on_press_maybe(m)
    };
    let mut r = row![].spacing(6);
    match phase {
        Phase::Running => {
            r = r
                .push(b("Pause", Some(Message::Pause)))
                .push(b("Cancel", Some(Message::Cancel)));
        }
        Phase::Pausing | Phase::Cancelling => r = r.push(b("Cancel", None)),
        Phase::Paused => {
            r = r
                .push(
                    button(text("Resume").size(13))
                        .style(button::primary)
                        .on_press(Message::Resume),
                )
                .push(b("Cancel", Some(Message::Cancel)));
        }
        Phase::Finished | Phase::Cancelled | Phase::Failed(_) => {
            r = r.push(b("See the runs in Models", Some(Message::ShowModels)));
        }
    }
    r.into()
}

fn progress(s: &Session) -> Element<'_, Message> {
    let stopped = match s.phase {
        Phase::Paused => Some("Paused"),
        Phase::Cancelled => Some("Stopped"),
        _ => None,
    };
    let (fraction, line) = if let (Some(how), Some(b)) = (stopped, s.batch) {
        let done = s.history.last().map_or(0, |r| r.epoch);
        (
            done as f32 / b.epochs.max(1) as f32,
            format!(
                "{how} after epoch {done} of {}; the checkpoint of that epoch is kept",
                b.epochs
            ),
        )
    } else if matches!(s.phase, Phase::Finished) {
        (1.0, "Done".into())
    } else if let Some((stage, done, total)) = &s.report {
        (
            *done as f32 / (*total).max(1) as f32,
            format!("Writing the {stage}: {done} of {total}"),
        )
    } else if let Some((done, total)) = s.loading {
        (
            done as f32 / total.max(1) as f32,
            format!("Preparing images: {done} of {total}"),
        )
    } else if let Some(b) = s.batch {
        let doing = if s.validating {
            "validating".to_string()
        } else {
            format!("batch {}/{}", b.batch, b.batches)
        };
        (
            b.fraction(),
            format!(
                "Epoch {}/{} (stage {}) · {doing} · loss {:.4} · {:.1} images/s · about {} left",
                b.epoch,
                b.epochs,
                b.stage,
                b.loss,
                b.images_per_s,
                crate::ml::progress::duration(b.eta_s)
            ),
        )
    } else {
        (0.0, "Starting…".into())
    };
    column![
        progress_bar(0.0..=1.0, fraction).girth(10),
        text(line).size(13)
    ]
    .spacing(4)
    .into()
}

fn charts(s: &Session) -> Element<'_, Message> {
    let epochs = s
        .batch
        .map(|b| b.epochs)
        .or(s.history.last().map(|r| r.epoch))
        .unwrap_or(1);
    let series = |name: &str, colour, f: fn(&crate::ml::progress::EpochRecord) -> f64| Series {
        name: name.into(),
        color: colour,
        points: s.history.iter().map(|r| (r.epoch as f64, f(r))).collect(),
    };
    let metric = match s.metric {
        "iou" => "IoU at 0.5",
        "" => "metric",
        m => m,
    };
    let loss = Chart {
        title: "Loss".into(),
        series: vec![
            series("train", curves::TRAIN, |r| r.train_loss),
            series("validation", curves::VALIDATION, |r| r.val_loss),
        ],
        epochs,
        y_range: None,
        x_range: None,
    };
    let main = Chart {
        title: metric.to_string(),
        series: vec![
            series("train", curves::TRAIN, |r| r.train_metric),
            series("validation", curves::VALIDATION, |r| r.val_metric),
        ],
        epochs,
        y_range: Some((0.0, 1.0)),
        x_range: None,
    };
    row![curves::view(loss, 200.0), curves::view(main, 200.0)]
        .spacing(12)
        .into()
}

fn samples(s: &Session) -> Element<'_, Message> {
    if s.samples.is_empty() {
        return text("Predictions on a few validation images appear here after each epoch.")
            .size(12)
            .style(muted)
            .into();
    }
    let mut strip = row![].spacing(14);
    for sample in &s.samples {
        let side = 100.0;
        let mut pics = row![
            column![
                text("truth").size(11).style(muted),
                image(sample.truth.clone()).width(side).height(side)
            ]
            .spacing(2)
        ]
        .spacing(4);
        if let Some(p) = &sample.prediction {
            pics = pics.push(
                column![
                    text("prediction").size(11).style(muted),
                    image(p.clone()).width(side).height(side)
                ]
                .spacing(2),
            );
        }
        strip = strip.push(
            column![
                pics,
                text(&sample.caption)
                    .size(12)
                    .color(if sample.correct { GOOD } else { WARN }),
                text(&sample.stem).size(11).style(muted),
            ]
            .spacing(3),
        );
    }
    column![
        text(format!(
            "Validation images after epoch {} (the same ones every epoch)",
            s.sample_epoch
        ))
        .size(13),
        scrollable(strip).direction(scrollable::Direction::Horizontal(
            scrollable::Scrollbar::default().spacing(6)
        ))
    ]
    .spacing(6)
    .into()
}
