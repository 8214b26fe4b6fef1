//! The lab's "linked" real-time tool: an experiment's frames in chronological order, each
//! classified, and segmented only when called nerve; the frame is drawn with the green mask, the
//! class, the time it took and the IoU where truth exists. Exported as PNG frames and an
//! animated GIF (the `gif` encoder of the image crate) that plays at the speed measured.

use super::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, RgbImage};
use plotters::prelude::*;
use serde::Serialize;

use crate::eval::report::plots::{FONT, register_font_once};
use crate::eval::segmentation::Overlap;
use crate::ml::data::image_tensor;
use crate::ml::device::ComputeDevice;
use crate::ml::infer::probabilities;
use crate::ml::models::{Network, Task};
use crate::ml::recipe::Normalisation;
use crate::ml::run::{self, RunDir};
use crate::ml::weights;
use crate::project::label::Status;
use crate::project::manifest::Roi;
use crate::project::preprocess::prepare_mask;
use crate::project::{ImageEntry, Project};

/// Frames are drawn at most this wide (the original stays untouched).
pub const DISPLAY_WIDTH: u32 = 960;

/// A network with the input it expects.
struct Loaded {
    network: Network,
    size: u32,
    normalisation: Normalisation,
}

impl Loaded {
    fn open(root: &Path, id: &str, task: Task, device: &ComputeDevice) -> Result<Loaded> {
        let run = RunDir::open(root, id)?;
        let recipe = run.recipe_for(task)?;
        let classes = run.info()?.classes.len();
        let network = weights::load_for_inference(
            recipe.spec(classes).build(&device.device),
            &run.file(run::WEIGHTS),
        )?;
        Ok(Loaded {
            network,
            size: recipe.image_size as u32,
            normalisation: recipe.normalisation,
        })
    }

    /// The class probabilities or the nerve map of an input already at `self.size`.
    fn probabilities(&self, rgb: &RgbImage, device: &ComputeDevice) -> Vec<f32> {
        let x = image_tensor(rgb, self.normalisation, &device.device);
        probabilities(self.network.forward(x)).remove(0)
    }
}

/// The classifier (optional) and the segmenter, loaded once for a whole sequence.
pub struct Linked {
    classifier: Option<Loaded>,
    segmenter: Loaded,
    classes: Vec<String>,
    nerve: Option<usize>,
    threshold: f32,
    roi: Roi,
    device: ComputeDevice,
    /// Segment every frame whatever the call (for timing the worst case).
    pub segment_all: bool,
}

/// One processed frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub stem: String,
    /// 0-based position in the sequence.
    pub index: usize,
    /// The classifier's call and its probability.
    pub call: Option<(String, f32)>,
    /// Whether the segmenter ran (the frame was called nerve).
    pub segmented: bool,
    /// Share of the frame's region of interest predicted nerve.
    pub nerve_share: f64,
    /// IoU against the truth, as the lab's tool reported it: on frames called nerve, against
    /// the mask of a nerve image, 0 when the image is labeled something else.
    pub iou: Option<f64>,
    /// Time from reading the file to the finished picture.
    pub ms: f64,
    pub stages: Stages,
    /// The annotated picture.
    pub picture: RgbImage,
}

impl Linked {
    pub fn load(
        root: &Path,
        classifier: Option<&str>,
        segmenter: &str,
        device: ComputeDevice,
    ) -> Result<Linked> {
        let project = Project::open_read_only(root)?;
        let classes = RunDir::open(root, segmenter)?.info()?.classes;
        let nerve = project
            .manifest
            .match_class(&project.manifest.mask_class)
            .and_then(|m| classes.iter().position(|c| c == m));
        let threshold = RunDir::open(root, segmenter)?
            .info()?
            .threshold
            .unwrap_or(0.5);
        Ok(Linked {
            classifier: classifier
                .map(|c| Loaded::open(root, c, Task::Classify, &device))
                .transpose()?,
            segmenter: Loaded::open(root, segmenter, Task::Segment, &device)?,
            classes,
            nerve,
            threshold,
            roi: project.manifest.roi,
            device,
            segment_all: false,
        })
    }

    /// Networks of these recipes with their initial (untrained) weights: as fast as trained
    /// ones, for timing the pipeline without a training first.
    pub fn untrained(
        project: &Project,
        classifier: Option<&crate::ml::recipe::Recipe>,
        segmenter: &crate::ml::recipe::Recipe,
        device: ComputeDevice,
    ) -> Linked {
        let classes = project.manifest.classes.clone();
        let nerve = project
            .manifest
            .match_class(&project.manifest.mask_class)
            .and_then(|m| classes.iter().position(|c| c == m));
        let build = |r: &crate::ml::recipe::Recipe| Loaded {
            network: r.spec(classes.len()).build(&device.device),
            size: r.image_size as u32,
            normalisation: r.normalisation,
        };
        Linked {
            classifier: classifier.map(build),
            segmenter: build(segmenter),
            classes: classes.clone(),
            nerve,
            threshold: 0.5,
            roi: project.manifest.roi,
            device: device.clone(),
            segment_all: true,
        }
    }

    /// Reads a frame and makes the models' inputs (the part that can run ahead, on another
    /// thread, while the models work on the frame before).
    pub fn read(&self, project: &Project, entry: &ImageEntry) -> Result<Read> {
        let start = Instant::now();
        let path = project.image_path(entry);
        let img = crate::project::thumbnails::decode_image(&path)?.to_rgb8();
        let r = self.roi.to_pixels(img.width(), img.height());
        let roi = imageops::crop_imm(&img, r.x, r.y, r.width, r.height).to_image();
        let mut inputs: Vec<(u32, RgbImage)> = Vec::new();
        let sizes = self
            .classifier
            .iter()
            .map(|c| c.size)
            .chain([self.segmenter.size]);
        for size in sizes {
            if !inputs.iter().any(|(s, _)| *s == size) {
                inputs.push((
                    size,
                    imageops::resize(&roi, size, size, FilterType::Triangle),
                ));
            }
        }
        Ok(Read {
            img,
            inputs,
            read_ms: start.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// The IoU of the segmenter's call with the frame's mask, when the frame is a labeled
    /// nerve image with one (0 where the segmenter ran on another labeled frame).
    fn iou(
        &self,
        project: &Project,
        entry: &ImageEntry,
        called: Option<&[bool]>,
        size: u32,
    ) -> Result<Option<f64>> {
        let labeled = matches!(entry.label.status, Status::Labeled | Status::Reviewed);
        let truth_class = entry
            .label
            .class
            .as_deref()
            .and_then(|c| project.manifest.match_class(c))
            .and_then(|c| self.classes.iter().position(|k| k == c))
            .filter(|_| labeled);
        Ok(match (called, truth_class) {
            (Some(c), Some(t)) if Some(t) == self.nerve && entry.has_mask => {
                let mask = crate::mask::read_mask(&project.mask_path(&entry.stem))?;
                let truth = prepare_mask(&mask, &self.roi, size);
                Some(Overlap::of(truth.as_bytes().iter().map(|&v| v > 0), c.iter().copied()).iou())
            }
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        })
    }

    /// Runs the models on a read frame, scores it and draws it.
    pub fn finish(
        &self,
        project: &Project,
        entry: &ImageEntry,
        index: usize,
        read: Read,
    ) -> Result<Frame> {
        // The frame's own time: its reading, then this (not the wait between, while the frame
        // before was still in the models).
        let start = Instant::now();
        let elapsed = |at: Instant| read.read_ms + at.elapsed().as_secs_f64() * 1000.0;
        let mut stages = Stages {
            read_ms: read.read_ms,
            ..Stages::default()
        };
        let mut lap = {
            let mut last = Instant::now();
            move || {
                let ms = last.elapsed().as_secs_f64() * 1000.0;
                last = Instant::now();
                ms
            }
        };
        let img = read.img;
        let input = |size: u32| -> &RgbImage {
            &read
                .inputs
                .iter()
                .find(|(s, _)| *s == size)
                .expect("every model's input is made when reading")
                .1
        };
        let call = self.classifier.as_ref().map(|c| {
            let p = c.probabilities(input(c.size), &self.device);
            let k = crate::eval::classification::argmax(&p);
            (k, p[k])
        });
        stages.classify_ms = lap();
        let called_nerve = match call {
            Some((k, _)) => Some(k) == self.nerve || self.segment_all,
            None => true,
        };
        let size = self.segmenter.size;
        let map = called_nerve.then(|| self.segmenter.probabilities(input(size), &self.device));
        let called: Option<Vec<bool>> = map
            .as_ref()
            .map(|m| m.iter().map(|&v| v >= self.threshold).collect());
        stages.segment_ms = lap();
        let nerve_share = called.as_ref().map_or(0.0, |c| {
            c.iter().filter(|&&v| v).count() as f64 / c.len().max(1) as f64
        });
        let iou = self.iou(project, entry, called.as_deref(), size)?;
        let mut picture = self.draw(&img, called.as_deref(), size);
        let call_named = call.map(|(k, p)| (self.classes[k].clone(), p));
        let ms_so_far = elapsed(start);
        caption(&mut picture, &caption_lines(&call_named, ms_so_far, iou));
        stages.draw_ms = lap();
        Ok(Frame {
            stem: entry.stem.clone(),
            index,
            call: call_named,
            segmented: called.is_some(),
            nerve_share,
            iou,
            ms: elapsed(start),
            stages,
            picture,
        })
    }

    /// The frame at display size with the predicted nerve in green over its region of interest.
    fn draw(&self, img: &RgbImage, called: Option<&[bool]>, size: u32) -> RgbImage {
        let (w, h) = img.dimensions();
        let scale = (DISPLAY_WIDTH as f32 / w as f32).min(1.0);
        let (dw, dh) = (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        );
        // A box filter: as good as a triangle when shrinking, and several times faster.
        let mut picture = if (dw, dh) == (w, h) {
            img.clone()
        } else {
            imageops::thumbnail(img, dw, dh)
        };
        if let Some(called) = called {
            let small = GrayImage::from_raw(
                size,
                size,
                called.iter().map(|&c| if c { 255 } else { 0 }).collect(),
            )
            .expect("map size");
            let r = self.roi.to_pixels(dw, dh);
            let mask = imageops::resize(&small, r.width, r.height, FilterType::Triangle);
            let g = super::overlay::MASK;
            let width = picture.width() as usize;
            let buffer: &mut [u8] = &mut picture;
            for (y, line) in mask.as_raw().chunks_exact(r.width as usize).enumerate() {
                let at = ((r.y as usize + y) * width + r.x as usize) * 3;
                let out = &mut buffer[at..at + line.len() * 3];
                for (px, &m) in out.chunks_exact_mut(3).zip(line) {
                    if crate::mask::is_nerve(m) {
                        let under = [px[0], px[1], px[2]];
                        px.copy_from_slice(&super::overlay::blend(under, g, super::overlay::COVER));
                    }
                }
            }
        }
        picture
    }
}

/// A frame read and made ready for the models.
pub struct Read {
    img: RgbImage,
    /// The region of interest at each model's input size.
    inputs: Vec<(u32, RgbImage)>,
    read_ms: f64,
}

/// Where a frame's time went, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stages {
    /// Reading and decoding the file, cropping the region of interest and resizing it to the
    /// models' inputs.
    pub read_ms: f64,
    pub classify_ms: f64,
    /// 0 when the frame was not called nerve.
    pub segment_ms: f64,
    /// Scoring against the truth, drawing the mask and the caption.
    pub draw_ms: f64,
}

/// The caption of a frame: the class, the time and the IoU, as the lab's tool wrote them.
pub fn caption_lines(call: &Option<(String, f32)>, ms: f64, iou: Option<f64>) -> Vec<String> {
    let mut lines = vec![match call {
        Some((c, p)) => format!("{c} ({p:.2})"),
        None => "segmenter only".into(),
    }];
    lines.push(format!("{ms:.0} ms"));
    if let Some(i) = iou {
        lines.push(format!("IoU {i:.2}"));
    }
    lines
}

/// Writes `lines` in a dark box at the top left of `picture` (drawn in a buffer the size of
/// the box: the text costs the same whatever the frame's size).
pub fn caption(picture: &mut RgbImage, lines: &[String]) {
    register_font_once();
    let (w, h) = picture.dimensions();
    let size = (h / 22).clamp(12, 28);
    let pad = size / 2;
    let box_w = (size * 9).min(w);
    let box_h = (pad * 2 + size * lines.len() as u32 + 4).min(h);
    let mut boxed = imageops::crop_imm(picture, 0, 0, box_w, box_h).to_image();
    boxed.iter_mut().for_each(|v| *v /= 4);
    {
        let buffer: &mut [u8] = &mut boxed;
        let area = BitMapBackend::with_buffer(buffer, (box_w, box_h)).into_drawing_area();
        let style = TextStyle::from((FONT, size as f64).into_font()).color(&WHITE);
        for (i, line) in lines.iter().enumerate() {
            let _ = area.draw(&Text::new(
                line.clone(),
                (pad as i32, (pad + i as u32 * size) as i32),
                style.clone(),
            ));
        }
        let _ = area.present();
    }
    imageops::replace(picture, &boxed, 0, 0);
}

/// The experiments of a project with their frame counts, in name order.
pub fn experiments(project: &Project) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for e in project.images() {
        *counts.entry(e.experiment().to_string()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// An experiment's frames in chronological order (frame number, then name).
pub fn sequence<'p>(project: &'p Project, experiment: &str) -> Vec<&'p ImageEntry> {
    let mut frames: Vec<&ImageEntry> = project
        .images()
        .iter()
        .filter(|e| e.experiment() == experiment)
        .collect();
    frames.sort_by(|a, b| (a.label.frame, &a.stem).cmp(&(b.label.frame, &b.stem)));
    frames
}

/// Runs the linked models over an experiment, handing each frame to `on_frame` as it is done;
/// stops early when `stop` is set. The next frame is read on another thread while the models
/// work on this one. Returns the number of frames processed.
pub fn play(
    root: &Path,
    linked: &Linked,
    experiment: &str,
    stop: &AtomicBool,
    on_frame: &mut dyn FnMut(Frame, usize),
) -> Result<usize> {
    let project = Project::open_read_only(root)?;
    let frames = sequence(&project, experiment);
    if frames.is_empty() {
        return Err(Error::invalid(
            root,
            format!("no frames in experiment {experiment}"),
        ));
    }
    let total = frames.len();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Read>>(1);
        let (project, frames_ref) = (&project, &frames);
        scope.spawn(move || {
            for entry in frames_ref {
                if stop.load(Ordering::Relaxed) || tx.send(linked.read(project, entry)).is_err() {
                    break;
                }
            }
        });
        for (i, entry) in frames.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                return Ok(i);
            }
            let Ok(read) = rx.recv() else {
                return Ok(i);
            };
            on_frame(linked.finish(project, entry, i, read?)?, total);
        }
        Ok(total)
    })
}

/// What an export wrote and measured.
#[derive(Clone, Debug, Serialize)]
pub struct Export {
    pub experiment: String,
    pub frames: usize,
    pub segmented: usize,
    pub frames_dir: PathBuf,
    pub video: PathBuf,
    pub mean_ms: f64,
    /// The median (the first frame also warms the models up).
    pub median_ms: f64,
    /// 1000 / median.
    pub frames_per_s: f64,
    pub mean_iou: Option<f64>,
}

/// Writes the annotated sequence to `out`: `frames/NNNN_<stem>.png` and `<experiment>.gif`,
/// whose frames last as long as each took to compute.
pub fn export(
    root: &Path,
    linked: &Linked,
    experiment: &str,
    out: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Export> {
    let frames_dir = out.join("frames");
    std::fs::create_dir_all(&frames_dir).map_err(Error::file(&frames_dir))?;
    let safe: String = experiment
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let video = out.join(format!("{safe}.gif"));
    let mut gif_bytes = Vec::new();
    let (mut ms, mut ious, mut segmented) = (Vec::new(), Vec::new(), 0);
    let mut failure = None;
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut gif_bytes, 20);
        let _ = encoder.set_repeat(image::codecs::gif::Repeat::Infinite);
        let stop = AtomicBool::new(false);
        play(root, linked, experiment, &stop, &mut |f, total| {
            if failure.is_some() {
                return;
            }
            let path = frames_dir.join(format!("{:04}_{}.png", f.index + 1, f.stem));
            let mut png = Vec::new();
            let written = f
                .picture
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(Error::picture(&path))
                .and_then(|_| crate::atomic::write_atomic(&path, &png).map_err(Error::file(&path)));
            let rgba = DynamicImage::ImageRgb8(f.picture.clone()).to_rgba8();
            let delay = image::Delay::from_numer_denom_ms(f.ms.max(10.0).round() as u32, 1);
            let encoded = encoder
                .encode_frame(image::Frame::from_parts(rgba, 0, 0, delay))
                .map_err(Error::picture(&video));
            if let Err(e) = written.and(encoded) {
                failure = Some(e);
            }
            ms.push(f.ms);
            ious.extend(f.iou);
            segmented += usize::from(f.segmented);
            progress(f.index + 1, total);
        })?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    crate::atomic::write_atomic(&video, &gif_bytes).map_err(Error::file(&video))?;
    let mean_ms = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    let median_ms = crate::eval::stats::Summary::of(&ms).median;
    Ok(Export {
        experiment: experiment.to_string(),
        frames: ms.len(),
        segmented,
        frames_dir,
        video,
        mean_ms,
        median_ms,
        frames_per_s: if median_ms > 0.0 {
            1000.0 / median_ms
        } else {
            0.0
        },
        mean_iou: (!ious.is_empty()).then(|| ious.iter().sum::<f64>() / ious.len() as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_say_class_time_and_iou() {
        let lines = caption_lines(&Some(("nerve".into(), 0.93)), 41.4, Some(0.8123));
        assert_eq!(lines, ["nerve (0.93)", "41 ms", "IoU 0.81"]);
        assert_eq!(caption_lines(&None, 9.0, None), ["segmenter only", "9 ms"]);
        let mut p = RgbImage::from_pixel(320, 180, image::Rgb([200, 200, 200]));
        caption(&mut p, &lines);
        // The box is dark and the text in it is light.
        assert_eq!(p.get_pixel(1, 1).0, [50, 50, 50]);
        let bright = (0..80)
            .flat_map(|x| (0..40).map(move |y| (x, y)))
            .filter(|&(x, y)| p.get_pixel(x, y).0[0] > 150)
            .count();
        assert!(bright > 20, "no text drawn ({bright} light pixels)");
    }
}
