//! Annotate: paint and correct one image's nerve mask, set its class and status, and move
//! through the images in Browse's order. Every change is saved within a second, by the app,
//! on another thread; undo history is kept per image for the whole session.

pub mod adjust;
mod carry;
mod heat;
mod jobs;
mod saving;
mod tracing;
mod undo;
mod view;
mod viewing;

pub use adjust::Adjust;
pub use jobs::load_image;

use crate::gui::background::Handover;
use crate::gui::keys::Command;
use crate::gui::screens::Context;
use crate::gui::viewport::Viewport;
use crate::mask::history::{History, Recorder};
use crate::mask::{Mask, Rect, fill, overlay, raster};
use crate::project::{
    ImageLabel, MaskProvenance, Project, ProjectError, Status, label::current_user,
};
use iced::widget::image;
use iced::{Point, Size, Subscription, Vector};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use crate::mask::overlay::NERVE_GREEN;
/// Save after this long without a change...
const QUIET: Duration = Duration::from_millis(300);
/// ...and at the latest this long after the first unsaved change.
const AT_MOST: Duration = Duration::from_millis(800);
/// Wait this long before trying a failed save again.
const RETRY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Brush,
    Eraser,
    Fill,
    Polygon,
    /// Click waypoints along a nerve; the path follows the bright band between them.
    Tracer,
}

/// One request to show one image: its stem and a generation that never repeats in this
/// process, whichever screen asked. A decoded picture, a late load or a GPU texture is matched
/// by this key, so nothing made for one visit can be shown on another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageKey {
    pub stem: String,
    generation: u64,
}

impl ImageKey {
    pub fn next(stem: &str) -> ImageKey {
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        ImageKey {
            stem: stem.to_string(),
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// A revision number no other edit of this process has, so a save's outcome is matched to its
/// edit even when an earlier screen's save of the same image is still being written.
fn next_revision() -> u64 {
    static REVISION: AtomicU64 = AtomicU64::new(1);
    REVISION.fetch_add(1, Ordering::Relaxed)
}

/// An image decoded by the app for this screen.
#[derive(Debug)]
pub struct LoadedImage {
    pub image: image::Handle,
    /// The decoded pixels, for viewing adjustments.
    pub rgba: std::sync::Arc<Vec<u8>>,
    pub size: (u32, u32),
    /// Copy-on-write: the GPU view reads it while the screen edits it.
    pub mask: Arc<Mask>,
}

/// What the app writes for this screen: the label, and the mask when there is one.
#[derive(Debug, Clone)]
pub struct SaveJob {
    pub stem: String,
    pub revision: u64,
    pub label: ImageLabel,
    pub mask: Option<Mask>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Loaded(ImageKey, Handover<LoadedImage>),
    LoadFailed(ImageKey, ProjectError),
    CanvasSize(Size),
    StrokeStart(Point),
    StrokeTo(Point),
    StrokeEnd,
    FillAt(Point),
    PolygonPoint(Point, bool),
    /// A tracer click (image point; Ctrl: start a branch on a traced nerve).
    TracePoint(Point, bool),
    /// The wheel with the tracer: `steps` wider (negative: narrower) at the node near `at`
    /// (image point; the view zooms at `screen` when no node is near), or the `whole` nerve.
    TraceWidth {
        screen: Point,
        at: Point,
        steps: f32,
        whole: bool,
    },
    /// The tracer of an image (its ridge measure), computed after it loaded.
    TracerReady(ImageKey, Handover<crate::mask::trace::Tracer>),
    /// The segmenter's doubt over an image, read (none when it was never scored).
    HeatMap(ImageKey, Option<image::Handle>),
    /// A mask carried from a neighbouring frame (its stem), or why not.
    Proposed(
        ImageKey,
        String,
        Handover<Result<crate::mask::propagate::Proposal, ProjectError>>,
    ),
    Pan(Vector),
    Zoom(Point, f32),
    Radius(f32),
    Opacity(f32),
    Tool(Tool),
    Command(Command),
    Go(String),
    Tick(Instant),
    Saved(SaveOutcome),
    Brightness(f32),
    Contrast(f32),
    ResetView,
    /// The adjusted picture for (stem, settings) is ready.
    Adjusted(String, Adjust, image::Handle),
}

/// How a save went, with what was written (so the app can update its index).
#[derive(Debug, Clone)]
pub struct SaveOutcome {
    pub stem: String,
    pub revision: u64,
    pub label: ImageLabel,
    pub wrote_mask: bool,
    pub result: Result<(), ProjectError>,
}

/// What the Annotate screen asks of the app.
#[derive(Debug)]
pub enum Request {
    /// Write this save on another thread; the outcome comes back as `Message::Saved` (the app
    /// writes saves because they must outlive the screen: Esc leaves while they are written).
    Save(SaveJob),
    /// Leave for the screen Annotate was opened from.
    Back,
    /// Load these thumbnails for the strip.
    Thumbnails(Vec<String>),
}

pub type Action = crate::gui::screens::Action<Message, Request>;

/// Edits of an image not yet on disk, kept while another image is shown.
struct Pending {
    mask: Option<Mask>,
    label: ImageLabel,
    revision: u64,
}

struct Unsaved {
    first: Instant,
    last: Instant,
}

pub struct Annotate {
    pub(crate) order: Vec<String>,
    pub(crate) current: String,
    pub(crate) label: ImageLabel,
    pub(crate) loaded: Option<LoadedImage>,
    pub(crate) load_error: Option<ProjectError>,
    /// Whether the mask is written on save (it existed, or was edited).
    mask_exists: bool,
    pub(crate) tiles: HashMap<(u32, u32), (Rect, image::Handle)>,
    histories: HashMap<String, History>,
    pending: HashMap<String, Pending>,
    pub(crate) viewport: Viewport,
    pub(crate) canvas: Option<Size>,
    needs_fit: bool,
    pub(crate) tool: Tool,
    pub(crate) radius: f32,
    pub(crate) opacity: f32,
    pub(crate) show_mask: bool,
    pub(crate) help: bool,
    stroke: Option<(Recorder, (f32, f32), bool)>,
    pub(crate) polygon: Vec<Point>,
    polygon_subtract: bool,
    revision: u64,
    unsaved: Option<Unsaved>,
    saving: Option<u64>,
    pub(crate) save_error: Option<(ProjectError, Instant)>,
    pub(crate) read_only: Option<String>,
    pub(crate) adjust: Adjust,
    /// The load asked for the image on screen: only its picture is shown, and the GPU view
    /// uploads new textures whenever it changes.
    pub(crate) image_key: Option<ImageKey>,
    /// Counts mask changes; with the log of what each changed, the GPU view uploads only those.
    pub(crate) mask_version: u64,
    pub(crate) mask_log: VecDeque<(u64, Rect)>,
    /// The tracer of the image on screen, for the visit that asked for it.
    tracer: Option<(ImageKey, Arc<crate::mask::trace::Tracer>)>,
    /// The traced nerve clicks extend.
    tracing: Option<usize>,
    /// How much wider than measured the tracer draws (kept from image to image).
    pub(crate) trace_width: f32,
    /// A mask carried from a neighbouring frame, waiting for Enter or Esc.
    proposal: Option<carry::Shown>,
    /// What the last carry did or why it could not.
    pub(crate) carry_note: Option<String>,
    /// The heat map of the segmenter's doubt (K), and whether it is shown.
    heat: Option<(ImageKey, image::Handle)>,
    show_heat: bool,
}

/// Mask changes remembered for the GPU view; one further behind re-uploads the whole mask.
const MASK_LOG: usize = 256;

impl Annotate {
    /// Opens on `stem`, moving through `order` (Browse's filtered order). `carried` are saves
    /// an earlier Annotate screen started and that are not known to be on disk yet: they are
    /// shown instead of the files, and written again if they failed.
    pub fn new(
        ctx: &Context,
        order: Vec<String>,
        stem: String,
        carried: Vec<(SaveJob, bool)>,
    ) -> (Annotate, Action) {
        let project = ctx.project;
        let mut a = Annotate {
            order,
            current: String::new(),
            label: ImageLabel::default(),
            loaded: None,
            load_error: None,
            mask_exists: false,
            tiles: HashMap::new(),
            histories: HashMap::new(),
            pending: HashMap::new(),
            viewport: Viewport::default(),
            canvas: None,
            needs_fit: true,
            tool: Tool::Brush,
            radius: 12.0,
            opacity: 0.5,
            show_mask: true,
            help: false,
            stroke: None,
            polygon: Vec::new(),
            polygon_subtract: false,
            revision: 0,
            unsaved: None,
            saving: None,
            save_error: None,
            read_only: project.read_only_reason(),
            adjust: adjust::NEUTRAL,
            image_key: None,
            mask_version: 0,
            mask_log: VecDeque::new(),
            tracer: None,
            tracing: None,
            trace_width: 1.0,
            proposal: None,
            carry_note: None,
            heat: None,
            show_heat: false,
        };
        let mut action = Action::none();
        for (job, failed) in carried {
            a.pending.insert(
                job.stem.clone(),
                Pending {
                    mask: job.mask.clone(),
                    label: job.label.clone(),
                    revision: job.revision,
                },
            );
            if failed {
                action = action.and_request(Request::Save(job));
            }
        }
        let go = a.go(project, stem);
        (a, action.and(go))
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    /// The image being loaded for the canvas, until it is.
    pub fn loading(&self) -> Option<&ImageKey> {
        self.image_key.as_ref().filter(|_| self.loaded.is_none())
    }

    /// The picture on the canvas (none while the image loads).
    pub fn picture(&self) -> Option<&LoadedImage> {
        self.loaded.as_ref()
    }

    pub fn mask(&self) -> Option<&Mask> {
        self.loaded.as_ref().map(|l| l.mask.as_ref())
    }

    pub fn label(&self) -> &ImageLabel {
        &self.label
    }

    /// The tool the pointer works with.
    pub fn tool(&self) -> Tool {
        self.tool
    }

    /// How the picture lies on the canvas (image to screen points).
    pub fn viewport(&self) -> &Viewport {
        &self.viewport
    }

    /// Unsaved changes exist (shown to the user, and saved before quitting).
    pub fn has_unsaved(&self) -> bool {
        self.unsaved.is_some() || !self.pending.is_empty()
    }

    /// Whether the app should send `Tick`s (something waits to be saved).
    pub fn wants_ticks(&self) -> bool {
        self.unsaved.is_some() || self.save_error.is_some()
    }

    /// Leaves the current image (keeping unsaved edits) and loads `stem`.
    fn go(&mut self, project: &Project, stem: String) -> Action {
        let mut action = Action::none();
        // Edits not known to be on disk (unsaved, failed, or still being written) are kept in
        // memory until their save succeeds.
        if let Some(loaded) = self.loaded.take()
            && (self.unsaved.is_some() || self.save_error.is_some() || self.saving.is_some())
        {
            let job = SaveJob {
                mask: self.mask_exists.then(|| Arc::unwrap_or_clone(loaded.mask)),
                ..self.save_job()
            };
            self.pending.insert(
                self.current.clone(),
                Pending {
                    mask: job.mask.clone(),
                    label: job.label.clone(),
                    revision: job.revision,
                },
            );
            action = action.and_request(Request::Save(job));
        }
        self.unsaved = None;
        self.saving = None;
        self.stroke = None;
        self.polygon.clear();
        self.tracing = None;
        self.tracer = None;
        self.proposal = None;
        self.carry_note = None;
        self.tiles.clear();
        self.load_error = None;
        self.needs_fit = true;
        self.label = match self.pending.get(&stem) {
            Some(p) => p.label.clone(),
            None => project
                .get(&stem)
                .map(|e| e.label.clone())
                .unwrap_or_default(),
        };
        self.mask_exists = self.pending.get(&stem).map_or_else(
            || project.get(&stem).is_some_and(|e| e.has_mask),
            |p| p.mask.is_some(),
        );
        self.current = stem.clone();
        let key = ImageKey::next(&stem);
        self.image_key = Some(key.clone());
        action
            .and(Action::run(jobs::load(project, key)))
            .and_request(Request::Thumbnails(self.neighbours(4)))
    }

    /// Stems around the current one in the Browse order (for the strip).
    pub fn neighbours(&self, reach: usize) -> Vec<String> {
        let i = self.position();
        let lo = i.saturating_sub(reach);
        let hi = (i + reach + 1).min(self.order.len());
        self.order[lo..hi].to_vec()
    }

    fn position(&self) -> usize {
        self.order
            .iter()
            .position(|s| *s == self.current)
            .unwrap_or(0)
    }

    /// Its autosave ticks while something waits to be saved (keys reach it through the
    /// canvas, which takes them while the pointer is over it or it has focus).
    pub fn subscription(&self) -> Subscription<Message> {
        if self.wants_ticks() {
            iced::time::every(Duration::from_millis(200)).map(Message::Tick)
        } else {
            Subscription::none()
        }
    }

    pub fn update(&mut self, message: Message, ctx: &Context) -> Action {
        let project = ctx.project;
        match message {
            Message::Loaded(..)
            | Message::LoadFailed(..)
            | Message::TracerReady(..)
            | Message::HeatMap(..)
            | Message::Proposed(..) => return self.arrived(message, project),
            Message::TracePoint(..) | Message::TraceWidth { .. } => self.trace_message(message),
            Message::StrokeStart(_)
            | Message::StrokeTo(_)
            | Message::StrokeEnd
            | Message::FillAt(_)
            | Message::PolygonPoint(..) => self.paint(message),
            Message::Radius(delta) => self.radius = (self.radius + delta).clamp(1.0, 400.0),
            Message::Tool(t) => {
                self.tool = t;
                self.polygon.clear();
            }
            Message::Command(c) => return self.command(c, project),
            Message::Go(stem) => return self.go(project, stem),
            Message::Tick(now) => return self.autosave(now),
            Message::Saved(o) => self.saved(&o.stem, o.revision, o.result),
            Message::CanvasSize(_)
            | Message::Pan(_)
            | Message::Zoom(..)
            | Message::Opacity(_)
            | Message::Brightness(_)
            | Message::Contrast(_)
            | Message::ResetView
            | Message::Adjusted(..) => return self.view_message(message),
        }
        Action::none()
    }

    /// The brush, the eraser, the fill and the polygon's points.
    fn paint(&mut self, message: Message) {
        match message {
            Message::StrokeStart(p) => {
                if let Some(on) = self.paints() {
                    self.stroke = Some((Recorder::default(), (p.x, p.y), on));
                    self.stroke_to(p);
                }
            }
            Message::StrokeTo(p) => self.stroke_to(p),
            Message::StrokeEnd => {
                if let Some((recorder, _, _)) = self.stroke.take() {
                    self.finish_edit(recorder);
                }
            }
            Message::FillAt(p) if self.editable() && p.x >= 0.0 && p.y >= 0.0 => {
                self.region_edit(|m| fill::flood_fill(m, (p.x as u32, p.y as u32), true));
            }
            Message::PolygonPoint(p, subtract) if self.editable() => {
                if self.polygon.is_empty() {
                    self.polygon_subtract = subtract;
                }
                self.polygon.push(p);
            }
            _ => {}
        }
    }

    fn command(&mut self, c: Command, project: &Project) -> Action {
        match c {
            Command::Brush => self.tool = Tool::Brush,
            Command::Eraser => self.tool = Tool::Eraser,
            Command::Fill => self.tool = Tool::Fill,
            Command::Polygon => self.tool = Tool::Polygon,
            Command::Tracer => self.tool = Tool::Tracer,
            Command::FinishPolygon if self.accept_proposal() => {}
            Command::HeatMap => return self.toggle_heat(project.root().to_path_buf()),
            Command::CarryPrevious => return self.carry(project, -1),
            Command::CarryNext => return self.carry(project, 1),
            Command::FinishPolygon if self.tool == Tool::Tracer => {
                self.finish_nerve();
            }
            Command::FinishPolygon => {
                let points: Vec<(f64, f64)> = self
                    .polygon
                    .drain(..)
                    .map(|p| (p.x as f64, p.y as f64))
                    .collect();
                let on = !self.polygon_subtract;
                if self.editable() {
                    self.region_edit(|m| fill::polygon(m, &points, on));
                }
            }
            Command::Cancel if self.discard_proposal() => {}
            Command::Cancel if !self.polygon.is_empty() => self.polygon.clear(),
            Command::Cancel if self.tracing().is_some() => {
                self.finish_nerve();
            }
            Command::Smaller if self.tool == Tool::Tracer => self.scale_nerve(1.0 / 1.1),
            Command::Larger if self.tool == Tool::Tracer => self.scale_nerve(1.1),
            Command::Cancel => return Action::request(Request::Back),
            Command::Smaller => self.radius = (self.radius / 1.25).max(1.0),
            Command::Larger => self.radius = (self.radius * 1.25).min(400.0),
            Command::ZoomIn
            | Command::ZoomOut
            | Command::Fit
            | Command::ActualSize
            | Command::ToggleMask => self.view_command(c),
            Command::Class(i) => {
                if let Some(class) = project.manifest.classes.get(i).cloned() {
                    self.change_label(|l| {
                        l.class = Some(class);
                        if l.status == Status::Unlabeled {
                            l.status = Status::Labeled;
                        }
                    });
                }
            }
            Command::Labeled => self.change_label(|l| l.status = Status::Labeled),
            Command::Reviewed => self.change_label(|l| l.status = Status::Reviewed),
            Command::Flagged => self.change_label(|l| l.status = Status::Flagged),
            Command::Undo | Command::Redo => self.undo_redo(c == Command::Undo),
            Command::Save => {
                if self.unsaved.is_some() && self.saving.is_none() {
                    return self.start_save();
                }
            }
            Command::FillHoles => {
                if self.editable() {
                    self.region_edit(fill::fill_holes);
                }
            }
            Command::Clear => {
                if self.editable() {
                    self.region_edit(fill::clear);
                }
            }
            Command::Next | Command::Previous | Command::NextUnlabeled | Command::MostUseful => {
                return self.move_to(c, project);
            }
            Command::Help => self.help = !self.help,
        }
        Action::none()
    }

    /// D / A / N: the next or previous image in Browse's order, or the next unlabeled one.
    fn move_to(&mut self, c: Command, project: &Project) -> Action {
        match c {
            Command::Next | Command::Previous => {
                let i = self.position();
                let j = if c == Command::Next {
                    (i + 1).min(self.order.len().saturating_sub(1))
                } else {
                    i.saturating_sub(1)
                };
                if j != i {
                    return self.go(project, self.order[j].clone());
                }
            }
            Command::NextUnlabeled | Command::MostUseful => {
                // N: the next unlabeled image after this one; U: the first in Browse's order,
                // which is the most useful one when Browse shows the most useful first.
                let i = if c == Command::MostUseful {
                    0
                } else {
                    self.position()
                };
                let n = self.order.len();
                let start = usize::from(c != Command::MostUseful);
                let next = (start..n).map(|k| &self.order[(i + k) % n]).find(|s| {
                    let pending = self.pending.get(*s).map(|p| p.label.status);
                    **s != self.current
                        && pending.or_else(|| project.get(s).map(|e| e.label.status))
                            == Some(Status::Unlabeled)
                });
                if let Some(stem) = next.cloned() {
                    return self.go(project, stem);
                }
            }
            _ => {}
        }
        Action::none()
    }

    fn editable(&self) -> bool {
        self.read_only.is_none() && self.loaded.is_some()
    }

    /// Whether the current tool paints (`Some(true)`), erases, or does not stroke.
    fn paints(&self) -> Option<bool> {
        if !self.editable() {
            return None;
        }
        match self.tool {
            Tool::Brush => Some(true),
            Tool::Eraser => Some(false),
            _ => None,
        }
    }

    fn stroke_to(&mut self, p: Point) {
        let (Some((recorder, last, on)), Some(loaded)) =
            (self.stroke.as_mut(), self.loaded.as_mut())
        else {
            return;
        };
        let to = (p.x, p.y);
        recorder.touch(
            &loaded.mask,
            Rect::around(*last, to, self.radius, &loaded.mask),
        );
        let dirty =
            raster::stamp_segment(Arc::make_mut(&mut loaded.mask), *last, to, self.radius, *on);
        *last = to;
        if dirty.is_some() {
            self.rebuild_tiles(dirty);
        }
    }

    /// A fill, polygon, fill-holes or clear: one undo step.
    fn region_edit(&mut self, edit: impl FnOnce(&mut Mask) -> Option<Rect>) {
        let Some(loaded) = self.loaded.as_mut() else {
            return;
        };
        let mut recorder = Recorder::default();
        recorder.touch_all(&loaded.mask);
        if let Some(dirty) = edit(Arc::make_mut(&mut loaded.mask)) {
            self.rebuild_tiles(Some(dirty));
            self.finish_edit(recorder);
        }
    }

    fn finish_edit(&mut self, recorder: Recorder) {
        let Some(loaded) = self.loaded.as_ref() else {
            return;
        };
        if let Some(edit) = recorder.finish(&loaded.mask) {
            self.histories
                .entry(self.current.clone())
                .or_default()
                .push(edit);
            self.mask_changed();
        }
    }

    fn mask_changed(&mut self) {
        self.mask_exists = true;
        self.change_label(|l| {
            l.mask = Some(match l.mask {
                Some(MaskProvenance::Predicted | MaskProvenance::PredictedEdited) => {
                    MaskProvenance::PredictedEdited
                }
                _ => MaskProvenance::Drawn,
            });
        });
    }

    fn change_label(&mut self, change: impl FnOnce(&mut ImageLabel)) {
        if self.read_only.is_some() {
            return;
        }
        change(&mut self.label);
        self.label.touch(&current_user());
        self.revision = next_revision();
        let now = Instant::now();
        let first = self.unsaved.as_ref().map_or(now, |u| u.first);
        self.unsaved = Some(Unsaved { first, last: now });
    }

    /// Rebuilds the overlay tiles under `dirty` (all of them when `None`): only what a stroke
    /// touched is uploaded again.
    fn rebuild_tiles(&mut self, dirty: Option<Rect>) {
        let Some(loaded) = self.loaded.as_ref() else {
            return;
        };
        let whole = Rect {
            x: 0,
            y: 0,
            width: loaded.size.0,
            height: loaded.size.1,
        };
        self.mask_version += 1;
        self.mask_log
            .push_back((self.mask_version, dirty.unwrap_or(whole)));
        if self.mask_log.len() > MASK_LOG {
            self.mask_log.pop_front();
        }
        // The GPU view reads the mask itself; the overlay tiles serve the CPU canvas only.
        if crate::gui::widgets::mask_shader::gpu_active() {
            self.tiles.clear();
            return;
        }
        let tiles: Vec<(u32, u32)> = match dirty {
            Some(r) => overlay::tiles_touching(r).collect(),
            None => overlay::all_tiles(&loaded.mask).collect(),
        };
        for tile in tiles {
            let (rect, rgba) = overlay::tile_rgba(&loaded.mask, tile, NERVE_GREEN);
            self.tiles.insert(
                tile,
                (
                    rect,
                    image::Handle::from_rgba(rect.width, rect.height, rgba),
                ),
            );
        }
    }
}
