//! The Annotate screen's own background work: decoding an image with its mask, and the picture
//! with brightness and contrast applied (for the CPU view). Both run on threads of their own.

use super::{Adjust, ImageKey, LoadedImage, Message};
use crate::gui::background::{Handover, spawn};
use crate::mask::trace::Tracer;
use crate::project::Project;
use crate::project::ProjectError;
use iced::Task;
use iced::widget::image::Handle;
use std::path::Path;
use std::sync::Arc;

impl super::Annotate {
    /// What the background work sent back: the image (then its tracer is measured), a failed
    /// load, the tracer, a heat map, a carried mask. Late answers for another visit are dropped.
    pub(super) fn arrived(&mut self, message: Message, project: &Project) -> super::Action {
        use super::Action;
        let current = |key: &ImageKey| self.image_key.as_ref() == Some(key);
        match message {
            Message::Loaded(key, handover) if current(&key) => {
                if let Some(mut loaded) = handover.take() {
                    if let Some(p) = self.pending.get(&key.stem).and_then(|p| p.mask.clone()) {
                        loaded.mask = Arc::new(p);
                    }
                    let root = project.root().to_path_buf();
                    let measure = tracer(key, loaded.rgba.clone(), loaded.size, root);
                    self.loaded = Some(loaded);
                    self.rebuild_tiles(None);
                    self.fit_if_needed();
                    let adjusted = if self.adjust.is_neutral() {
                        Action::none()
                    } else {
                        self.adjusted()
                    };
                    return Action::run(measure).and(adjusted);
                }
            }
            Message::LoadFailed(key, error) if current(&key) => self.load_error = Some(error),
            Message::TracerReady(key, handover) if current(&key) => {
                if let Some(t) = handover.take() {
                    self.tracer = Some((key, Arc::new(t)));
                }
            }
            Message::HeatMap(key, heat) => self.heat_arrived(key, heat),
            Message::Proposed(key, from, handover) => {
                if let Some(result) = handover.take() {
                    self.proposed(key, from, result);
                }
            }
            _ => {}
        }
        Action::none()
    }
}

/// Decodes `key`'s image and mask on another thread.
pub fn load(project: &Project, key: ImageKey) -> Task<Message> {
    let Some(entry) = project.get(&key.stem) else {
        return Task::none();
    };
    let image_path = project.image_path(entry);
    let mask_path = entry.has_mask.then(|| project.mask_path(&key.stem));
    let stream = spawn("load-image", move |send| {
        send(load_image(&key, &image_path, mask_path.as_deref()))
    });
    Task::run(stream, |m| m)
}

/// The tracer of `key`'s picture (its ridge measure, blended with the active segmenter's
/// cached prediction of this image where there is one), computed on another thread.
pub fn tracer(
    key: ImageKey,
    rgba: Arc<Vec<u8>>,
    (w, h): (u32, u32),
    project: std::path::PathBuf,
) -> Task<Message> {
    let stream = spawn("tracer", move |send| {
        let mut tracer = Tracer::of(&rgba, 4, w, h);
        if let Some(p) = segmenter_map(&project, &key.stem, (w, h)) {
            tracer.ridge.blend(&p, w, h);
        }
        send(Message::TracerReady(key, Handover::new(tracer)));
    });
    Task::run(stream, |m| m)
}

/// The active segmenter's probability map of `stem` (0..1), if it has been predicted at the
/// picture's size.
fn segmenter_map(project: &Path, stem: &str, size: (u32, u32)) -> Option<Vec<f32>> {
    let run = crate::ml::registry::read_active(project).segmenter?;
    let path = crate::ml::predict::predictions_dir(project, &run).join(format!("{stem}.png"));
    let map = image::open(path).ok()?.to_luma8();
    (map.dimensions() == size).then(|| map.iter().map(|&v| v as f32 / 255.0).collect())
}

/// The picture of `stem` with `settings` applied, computed on another thread.
pub fn adjust(
    stem: String,
    rgba: Arc<Vec<u8>>,
    (w, h): (u32, u32),
    settings: Adjust,
) -> Task<Message> {
    let stream = spawn("view-adjust", move |send| {
        let handle = Handle::from_rgba(w, h, settings.apply(&rgba));
        send(Message::Adjusted(stem, settings, handle));
    });
    Task::run(stream, |m| m)
}

/// Decodes an image and its mask for the Annotate screen (run off the UI thread).
pub fn load_image(key: &ImageKey, image_path: &Path, mask_path: Option<&Path>) -> Message {
    match decode(image_path, mask_path) {
        Ok(l) => Message::Loaded(key.clone(), Handover::new(l)),
        Err(e) => Message::LoadFailed(key.clone(), e),
    }
}

fn decode(image_path: &Path, mask_path: Option<&Path>) -> Result<LoadedImage, ProjectError> {
    let rgba = crate::project::thumbnails::decode_image(image_path)?.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mask = match mask_path {
        Some(p) => {
            let m = crate::mask::read_mask(p)?;
            if (m.width(), m.height()) != (w, h) {
                return Err(ProjectError::invalid(
                    p,
                    format!(
                        "the mask is {}x{} but the image is {w}x{h}; fix or remove the mask file",
                        m.width(),
                        m.height()
                    ),
                ));
            }
            m
        }
        None => crate::mask::Mask::empty(w, h),
    };
    let rgba = Arc::new(rgba.into_raw());
    Ok(LoadedImage {
        image: Handle::from_rgba(w, h, rgba.as_ref().clone()),
        rgba,
        size: (w, h),
        mask: Arc::new(mask),
    })
}
