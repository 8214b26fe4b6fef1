//! Train: pick what to train (classifier, segmenter or both in turn), adjust the main settings
//! within sensible limits, see the data each model will use and what is left out and why, then
//! Start; the live view (view.rs) follows the training, which runs in the background.

pub mod forecast;
pub mod imagenet;
mod view;

pub use imagenet::{Download, StartFrom};

use crate::gui::background::{job, spawn};
use crate::gui::screens::{Context, Settings as WindowSettings};
use crate::ml::data::{self, DataPlan};
use crate::ml::device::DeviceChoice;
use crate::ml::job::Step;
use crate::ml::models::Task;
use crate::ml::recipe::{self, NamedRecipe};
use crate::project::Project;
use crate::project::splits::Split;
use iced::{Subscription, Task as Job};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Classifier,
    Segmenter,
    Both,
}

impl What {
    pub fn tasks(self) -> &'static [Task] {
        match self {
            What::Classifier => &[Task::Classify],
            What::Segmenter => &[Task::Segment],
            // The classifier first: the segmenter runs on the frames it calls nerve.
            What::Both => &[Task::Classify, Task::Segment],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Epochs,
    ImageSize,
    BatchSize,
    LearningRate,
}

/// Learning rates offered (a ladder of 1 and 3 per decade).
pub const LEARNING_RATES: [f64; 7] = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2];
pub const EPOCHS: (usize, usize) = (1, 500);
pub const IMAGE_SIZE: (usize, usize) = (32, 1024);
pub const BATCH_SIZE: (usize, usize) = (1, 256);

/// One model's recipe and the settings the user changed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub task: Task,
    /// The recipes of this task in `models/`.
    pub recipes: Vec<NamedRecipe>,
    pub chosen: usize,
    pub epochs: usize,
    pub image_size: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// What the weights start from (ImageNet by default, once downloaded).
    pub start: StartFrom,
}

impl Settings {
    fn new(task: Task, all: &[NamedRecipe], preferred: &str) -> Option<Settings> {
        let recipes: Vec<NamedRecipe> = all
            .iter()
            .filter(|r| r.recipe.task() == task)
            .cloned()
            .collect();
        let chosen = recipes
            .iter()
            .position(|r| r.name == preferred)
            .unwrap_or(0);
        let mut s = Settings {
            task,
            recipes,
            chosen,
            epochs: 0,
            image_size: 0,
            batch_size: 0,
            learning_rate: 0.0,
            start: StartFrom::Imagenet,
        };
        s.choose(chosen)?;
        Some(s)
    }

    /// Takes the chosen recipe's own settings.
    fn choose(&mut self, index: usize) -> Option<()> {
        let r = &self.recipes.get(index)?.recipe;
        self.chosen = index;
        self.epochs = r.total_epochs();
        self.image_size = r.image_size;
        self.batch_size = r.batch_size;
        self.learning_rate = r.learning_rate;
        Some(())
    }

    pub fn recipe(&self) -> &NamedRecipe {
        &self.recipes[self.chosen]
    }

    fn adjust(&mut self, field: Field, up: bool) {
        let step = |v: usize, small: usize, big: usize, at: usize| {
            if (up && v >= at) || (!up && v > at) {
                big
            } else {
                small
            }
        };
        match field {
            Field::Epochs => {
                let s = step(self.epochs, 1, 5, 10);
                self.epochs = bump(self.epochs, s, up, EPOCHS);
            }
            Field::ImageSize => {
                let m = self.recipe().recipe.architecture.size_multiple();
                self.image_size = bump(self.image_size, m, up, (m.max(IMAGE_SIZE.0), IMAGE_SIZE.1));
                self.image_size -= self.image_size % m;
            }
            Field::BatchSize => {
                self.batch_size = if up {
                    (self.batch_size * 2).min(BATCH_SIZE.1)
                } else {
                    (self.batch_size / 2).max(BATCH_SIZE.0)
                };
            }
            Field::LearningRate => {
                let at = LEARNING_RATES
                    .iter()
                    .position(|&r| r >= self.learning_rate * 0.999)
                    .unwrap_or(LEARNING_RATES.len() - 1);
                let next = if up {
                    (at + 1).min(LEARNING_RATES.len() - 1)
                } else {
                    at.saturating_sub(1)
                };
                self.learning_rate = LEARNING_RATES[next];
            }
        }
    }

    /// What the forecast of this setting depends on.
    pub fn forecast_key(&self, device: DeviceChoice) -> forecast::Key {
        forecast::Key {
            recipe: self.recipe().name.clone(),
            image_size: self.image_size,
            batch_size: self.batch_size,
            device,
        }
    }

    /// The recipe as the user set it.
    pub fn named_recipe(&self) -> NamedRecipe {
        let mut named = self.recipe().clone();
        named.recipe = named.recipe.with_total_epochs(self.epochs);
        named.recipe.image_size = self.image_size;
        named.recipe.batch_size = self.batch_size;
        named.recipe.learning_rate = self.learning_rate;
        named
    }
}

fn bump(v: usize, step: usize, up: bool, (lo, hi): (usize, usize)) -> usize {
    if up {
        (v + step).min(hi)
    } else {
        v.saturating_sub(step).max(lo)
    }
}

/// What a task's model would learn from, as counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSummary {
    pub classes: Vec<String>,
    /// Images per (split, class).
    pub counts: BTreeMap<(Split, String), usize>,
    /// Images left out per reason.
    pub excluded: BTreeMap<String, usize>,
    /// Labeled test images (scored in the report after training).
    pub test: usize,
}

impl DataSummary {
    pub fn of(plan: &DataPlan) -> DataSummary {
        DataSummary {
            classes: plan.classes.clone(),
            counts: plan.counts(),
            excluded: plan.excluded_by_reason(),
            test: plan.of_split(Split::Test).len(),
        }
    }

    pub fn in_split(&self, split: Split) -> usize {
        self.counts
            .iter()
            .filter(|((s, _), _)| *s == split)
            .map(|(_, n)| n)
            .sum()
    }

    /// Why a training could not start with this data, if it could not.
    pub fn problem(&self, task: Task) -> Option<String> {
        let what = match task {
            Task::Classify => "labeled images",
            Task::Segment => "labeled nerve images with a mask",
        };
        if self.in_split(Split::Train) == 0 {
            Some(format!("no {what} in the train split"))
        } else if self.in_split(Split::Val) == 0 {
            Some(format!(
                "no {what} in the val split (validation needs some)"
            ))
        } else {
            None
        }
    }
}

/// The data of both tasks, planned off the UI thread (segmenters hash every mask).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plans {
    pub classify: DataSummary,
    pub segment: DataSummary,
    /// The ImageNet weights downloaded so far (looked up with the data).
    pub weights: imagenet::Scan,
}

impl Plans {
    pub fn of(&self, task: Task) -> &DataSummary {
        match task {
            Task::Classify => &self.classify,
            Task::Segment => &self.segment,
        }
    }

    /// Plans the project's data as it is on disk now.
    pub fn make(project: &std::path::Path) -> Result<Plans, crate::project::ProjectError> {
        let project = Project::open_read_only(project)?;
        Ok(Plans {
            classify: DataSummary::of(&data::plan(&project, Task::Classify)),
            segment: DataSummary::of(&data::plan(&project, Task::Segment)),
            weights: imagenet::Scan::make(),
        })
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    /// The recipes found in the models folder.
    RecipesRead(Vec<NamedRecipe>),
    What(What),
    Recipe(Task, String),
    Adjust(Task, Field, bool),
    Device(DeviceChoice),
    /// Choose a torchvision weights file (.pth or .safetensors) to start from.
    PickWeights(Task),
    Weights(Task, Option<PathBuf>),
    /// Start from random weights.
    ClearWeights(Task),
    /// Start from the recipe's ImageNet weights (downloaded first where they are not here).
    UseImagenet(Task),
    /// Download the ImageNet weights of this task's recipe.
    DownloadWeights(Task),
    CancelDownload,
    /// News of the download of a file.
    Downloaded(String, Download),
    /// A recipe's speed on a device, measured (or why not).
    Forecast(
        forecast::Key,
        Result<(crate::ml::forecast::StepTimes, String), crate::ml::Error>,
    ),
    Planned(Result<Plans, crate::project::ProjectError>),
    RefreshData,
    Start,
    Pause,
    Resume,
    Cancel,
    /// Open the Models screen.
    ShowModels,
}

/// What the Train screen asks of the app.
#[derive(Debug, Clone)]
pub enum Request {
    /// Start the window's training with these steps.
    Start {
        steps: Vec<Step>,
        device: DeviceChoice,
        reports: Vec<Split>,
    },
    Pause,
    Resume,
    Cancel,
    ShowModels,
    /// Show the file dialog; answer with `Message::Weights`.
    PickWeights(Task),
    /// Train, review and predict on this device from now on.
    Device(DeviceChoice),
}

pub type Action = crate::gui::screens::Action<Message, Request>;

pub struct Train {
    pub what: What,
    pub classifier: Option<Settings>,
    pub segmenter: Option<Settings>,
    pub plans: Option<Result<Plans, crate::project::ProjectError>>,
    pub planning: bool,
    pub weights: imagenet::Weights,
    pub forecasts: forecast::Forecasts,
    /// Whether the recipes were read (until then no settings are shown).
    recipes_read: bool,
    /// Where the recipes were looked for (said when there are none).
    recipes_dir: PathBuf,
}

impl Train {
    /// The screen, reading the recipes and counting the data in the background.
    pub fn new(ctx: &Context) -> (Train, Job<Message>) {
        let mut train = Train {
            what: What::Segmenter,
            classifier: None,
            segmenter: None,
            recipes_read: false,
            plans: None,
            planning: false,
            weights: imagenet::Weights::default(),
            forecasts: forecast::Forecasts::default(),
            recipes_dir: recipe::models_dir(),
        };
        let read = job(
            "read-recipes",
            || {
                recipe::list()
                    .iter()
                    .filter_map(|name| recipe::load(name).ok())
                    .collect()
            },
            Message::RecipesRead,
        );
        let plan = train.plan(ctx);
        (train, Job::batch([read, plan]))
    }

    /// The recipes arrived: the default architecture of each task is chosen.
    fn recipes_read(&mut self, all: &[NamedRecipe]) {
        self.recipes_read = true;
        self.classifier = Settings::new(Task::Classify, all, "mobilenet_v2");
        self.segmenter = Settings::new(Task::Segment, all, "unet_mobilenet_v2");
        if self.segmenter.is_none() {
            self.what = What::Classifier;
        }
    }

    /// Counts the data afresh, off the UI thread (labels may have changed meanwhile).
    fn plan(&mut self, ctx: &Context) -> Job<Message> {
        self.planning = true;
        self.forecasts.forget_failures();
        let root = ctx.root().to_path_buf();
        job("plan-data", move || Plans::make(&root), Message::Planned)
    }

    /// Nothing to listen to: the training's news reach the app, which owns the training.
    pub fn subscription(&self) -> Subscription<Message> {
        Subscription::none()
    }

    pub fn settings(&self, task: Task) -> Option<&Settings> {
        match task {
            Task::Classify => self.classifier.as_ref(),
            Task::Segment => self.segmenter.as_ref(),
        }
    }

    fn settings_mut(&mut self, task: Task) -> Option<&mut Settings> {
        match task {
            Task::Classify => self.classifier.as_mut(),
            Task::Segment => self.segmenter.as_mut(),
        }
    }

    /// The weights file a run of this task would start from.
    pub fn weights_for(&self, s: &Settings) -> Option<PathBuf> {
        let r = &s.recipe().recipe;
        self.weights.path_for(&s.start, r.architecture, r.width)
    }

    /// Training images a task would learn from (0 until counted).
    pub fn train_images(&self, task: Task) -> usize {
        match &self.plans {
            Some(Ok(p)) => p.of(task).in_split(Split::Train),
            _ => 0,
        }
    }

    /// Measure the next setting shown whose speed is not known yet (one at a time).
    fn next_forecast(&mut self, ctx: &Context) -> Action {
        let Some(Ok(plans)) = &self.plans else {
            return Action::none();
        };
        let classes = plans.classify.classes.len().max(1);
        for &task in self.what.tasks() {
            let Some(s) = self.settings(task) else {
                continue;
            };
            let key = s.forecast_key(ctx.settings.device);
            let recipe = s.named_recipe().recipe;
            if self.forecasts.want(&key) {
                return Action::run(measure(key, recipe, classes, ctx));
            }
        }
        Action::none()
    }

    /// Why Start is not possible now, if it is not (the session's state is checked by the app).
    pub fn start_problem(&self) -> Option<String> {
        if !self.recipes_read {
            return Some("reading the recipes…".into());
        }
        for &task in self.what.tasks() {
            if self.settings(task).is_none() {
                return Some(format!(
                    "no {} recipe found in {}",
                    task.role(),
                    self.recipes_dir.display()
                ));
            }
            match &self.plans {
                None => return Some("counting the data…".into()),
                Some(Err(e)) => return Some(e.to_string()),
                Some(Ok(p)) => {
                    if let Some(problem) = p.of(task).problem(task) {
                        return Some(format!("{}: {problem}", task.role()));
                    }
                }
            }
        }
        None
    }

    pub fn update(&mut self, message: Message, ctx: &Context) -> Action {
        match message {
            Message::RecipesRead(all) => {
                self.recipes_read(&all);
                self.next_forecast(ctx)
            }
            Message::What(w) => {
                self.what = w;
                self.next_forecast(ctx)
            }
            Message::Recipe(task, name) => {
                if let Some(s) = self.settings_mut(task)
                    && let Some(i) = s.recipes.iter().position(|r| r.name == name)
                {
                    s.choose(i);
                }
                self.next_forecast(ctx)
            }
            Message::Adjust(task, field, up) => {
                if let Some(s) = self.settings_mut(task) {
                    s.adjust(field, up);
                }
                self.next_forecast(ctx)
            }
            Message::Device(d) => {
                let ctx = Context {
                    settings: &WindowSettings { device: d },
                    ..*ctx
                };
                self.next_forecast(&ctx).and_request(Request::Device(d))
            }
            Message::PickWeights(_)
            | Message::Weights(..)
            | Message::ClearWeights(_)
            | Message::UseImagenet(_)
            | Message::DownloadWeights(_)
            | Message::CancelDownload
            | Message::Downloaded(..) => self.weights_update(message),
            Message::Forecast(key, result) => {
                self.forecasts.measured(key, result);
                self.next_forecast(ctx)
            }
            Message::Planned(plans) => {
                self.planning = false;
                if let Ok(p) = &plans {
                    self.weights.scanned(p.weights.clone());
                }
                self.plans = Some(plans);
                self.next_forecast(ctx)
            }
            Message::RefreshData => Action::run(self.plan(ctx)),
            Message::Start => self.start_request(ctx),
            Message::Pause => Action::request(Request::Pause),
            Message::Resume => Action::request(Request::Resume),
            Message::Cancel => Action::request(Request::Cancel),
            Message::ShowModels => Action::request(Request::ShowModels),
        }
    }

    /// Where the weights of a run come from: a file, random, or ImageNet (downloaded here).
    fn weights_update(&mut self, message: Message) -> Action {
        match message {
            Message::PickWeights(task) => return Action::request(Request::PickWeights(task)),
            Message::Weights(task, Some(path)) => {
                if let Some(s) = self.settings_mut(task) {
                    s.start = StartFrom::File(path);
                }
            }
            Message::Weights(_, None) => {}
            Message::ClearWeights(task) => {
                if let Some(s) = self.settings_mut(task) {
                    s.start = StartFrom::Random;
                }
            }
            Message::UseImagenet(task) => {
                if let Some(s) = self.settings_mut(task) {
                    s.start = StartFrom::Imagenet;
                }
            }
            Message::DownloadWeights(task) => {
                let Some(s) = self.settings(task) else {
                    return Action::none();
                };
                let r = &s.recipe().recipe;
                if let imagenet::Offer::Download(source, _) =
                    self.weights.offer(r.architecture, r.width)
                    && let Some(cancel) = self.weights.begin(&source)
                {
                    return Action::run(download(source, cancel));
                }
            }
            Message::CancelDownload => self.weights.cancel(),
            Message::Downloaded(file, news) => self.weights.update(&file, news),
            _ => {}
        }
        Action::none()
    }

    /// Start: the chosen recipes with their weights, reported on validation (and test, where
    /// every task has test images).
    fn start_request(&self, ctx: &Context) -> Action {
        if self.start_problem().is_some() {
            return Action::none();
        }
        let steps = self
            .what
            .tasks()
            .iter()
            .filter_map(|&t| self.settings(t))
            .map(|s| Step::New(s.named_recipe(), self.weights_for(s)))
            .collect();
        // Every finished run is reported on validation, and on test where it has images.
        let has_test = self
            .what
            .tasks()
            .iter()
            .all(|&t| matches!(&self.plans, Some(Ok(p)) if p.of(t).test > 0));
        let mut reports = vec![Split::Val];
        if has_test {
            reports.push(Split::Test);
        }
        Action::request(Request::Start {
            steps,
            device: ctx.settings.device,
            reports,
        })
    }
}

/// Downloads an ImageNet file on a thread of its own, reporting its progress.
fn download(source: crate::ml::imagenet::Source, cancel: Arc<AtomicBool>) -> Job<Message> {
    let file = source.file.clone();
    let stream = spawn("imagenet-download", move |send| {
        use crate::ml::imagenet::{FetchError, fetch, store};
        let folder = store::folder();
        let result = folder
            .clone()
            .map_err(FetchError::Failed)
            .and_then(|folder| {
                fetch(&source, &folder, &cancel, &mut |t| {
                    send(Download::Progress(t))
                })
            });
        // What is on disk now: a cancelled or broken-off download keeps its bytes, a corrupt
        // one was deleted.
        let kept = folder.map_or(0, |f| store::partial(&f, &source).1);
        send(Download::Done(result, kept));
    });
    Job::run(stream, move |news| Message::Downloaded(file.clone(), news))
}

/// Measures a recipe's speed on a device: a warm-up step and a timed step (a device that fails
/// to start, or a network that does not fit its memory, is reported, not a crash). Not while a
/// training holds the device.
fn measure(
    key: forecast::Key,
    recipe: crate::ml::recipe::Recipe,
    classes: usize,
    ctx: &Context,
) -> Job<Message> {
    if ctx.training_active() {
        let why = "a training is running: the speed is measured once the device is free";
        return Job::done(Message::Forecast(key, Err(crate::ml::Error::request(why))));
    }
    let back = key.clone();
    job(
        "forecast",
        move || {
            let device = crate::ml::device::select(key.device)?;
            let name = device.name.clone();
            std::panic::catch_unwind(move || {
                crate::ml::forecast::measure(&recipe, classes, &device)
            })
            .map(|t| (t, name))
            .map_err(|_| {
                crate::ml::Error::request("the speed could not be measured on this device")
            })
        },
        move |r| Message::Forecast(back.clone(), r),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_carries_the_chosen_weights_and_refuses_without_data() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::create(
            &dir.path().join("p"),
            crate::project::manifest::Manifest::new("p"),
        )
        .unwrap();
        let (thumbnails, settings) = (Default::default(), Default::default());
        let ctx = Context {
            project: &project,
            thumbnails: &thumbnails,
            settings: &settings,
            training: None,
        };
        let (mut train, _) = Train::new(&ctx);
        let all: Vec<NamedRecipe> = recipe::list()
            .iter()
            .filter_map(|n| recipe::load(n).ok())
            .collect();
        let _ = train.update(Message::RecipesRead(all), &ctx);
        let _ = train.update(Message::What(What::Segmenter), &ctx);
        assert!(
            train.update(Message::Start, &ctx).requests.is_empty(),
            "no data counted yet"
        );
        let weights = Message::Weights(Task::Segment, Some("/w/mnv2.pth".into()));
        let _ = train.update(weights, &ctx);
        let mut plans = Plans::default();
        for split in [Split::Train, Split::Val] {
            plans.segment.counts.insert((split, "nerve".into()), 3);
        }
        let _ = train.update(Message::Planned(Ok(plans)), &ctx);
        let started = train.update(Message::Start, &ctx);
        let [Request::Start { steps, reports, .. }] = &started.requests[..] else {
            panic!("Start refused: {:?}", train.start_problem());
        };
        assert!(matches!(&steps[..], [Step::New(_, Some(w))] if w.ends_with("mnv2.pth")));
        assert_eq!(reports, &vec![Split::Val], "no test images, no test report");
        let _ = train.update(Message::ClearWeights(Task::Segment), &ctx);
        let s = train.segmenter.as_ref().unwrap();
        assert_eq!(s.start, StartFrom::Random);
        assert_eq!(train.weights_for(s), None);
    }

    #[test]
    fn settings_stay_within_their_limits() {
        let all: Vec<NamedRecipe> = recipe::list()
            .iter()
            .filter_map(|n| recipe::load(n).ok())
            .collect();
        let mut s = Settings::new(Task::Segment, &all, "unet_mobilenet_v2").unwrap();
        for _ in 0..200 {
            s.adjust(Field::Epochs, false);
            s.adjust(Field::ImageSize, false);
            s.adjust(Field::BatchSize, false);
            s.adjust(Field::LearningRate, false);
        }
        assert_eq!(
            (s.epochs, s.image_size, s.batch_size, s.learning_rate),
            (1, 32, 1, 1e-5)
        );
        for _ in 0..200 {
            s.adjust(Field::Epochs, true);
            s.adjust(Field::ImageSize, true);
            s.adjust(Field::BatchSize, true);
            s.adjust(Field::LearningRate, true);
        }
        assert_eq!(
            (s.epochs, s.image_size, s.batch_size, s.learning_rate),
            (500, 1024, 256, 1e-2)
        );
        s.adjust(Field::Epochs, false);
        assert_eq!(s.epochs, 495);
        let named = s.named_recipe();
        named.recipe.validate().unwrap();
        assert_eq!(named.recipe.total_epochs(), 495);
        assert_eq!(named.recipe.image_size, 1024);
    }
}
