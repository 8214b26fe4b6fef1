//! The segmenter's doubt over the image on screen (K): the heat map the ranking of the
//! unlabeled images wrote (`cache/uncertainty/<run>/<stem>.png`), read in the background and
//! drawn over the picture, from transparent (sure) through orange to red (the mirrored
//! predictions disagree).

use super::{Annotate, ImageKey, Message};
use crate::gui::background::job;
use iced::widget::image::Handle;
use std::path::PathBuf;

impl Annotate {
    /// K: shows or hides the heat map, reading it the first time.
    pub(super) fn toggle_heat(&mut self, root: PathBuf) -> super::Action {
        self.show_heat = !self.show_heat;
        let (true, Some(key)) = (self.show_heat, self.image_key.clone()) else {
            return super::Action::none();
        };
        if self.heat.as_ref().is_some_and(|(k, _)| *k == key) {
            return super::Action::none();
        }
        let stem = key.stem.clone();
        super::Action::run(job(
            "heat-map",
            move || read(&root, &stem),
            move |h| Message::HeatMap(key.clone(), h),
        ))
    }

    pub(super) fn heat_arrived(&mut self, key: ImageKey, heat: Option<Handle>) {
        if self.image_key.as_ref() != Some(&key) {
            return;
        }
        if heat.is_none() {
            self.carry_note = Some(
                "No heat map for this image: it is made for unlabeled images when a segmenter is \
                 trained (or by `nerve-studio rank`)."
                    .into(),
            );
        }
        self.heat = heat.map(|h| (key, h));
    }

    /// The heat map to draw over the picture, when shown and loaded.
    pub fn heat_map(&self) -> Option<&Handle> {
        self.heat
            .as_ref()
            .filter(|(k, _)| self.show_heat && self.image_key.as_ref() == Some(k))
            .map(|(_, h)| h)
    }
}

/// The active segmenter's heat map of `stem`, coloured, if there is one.
fn read(root: &std::path::Path, stem: &str) -> Option<Handle> {
    let run = crate::ml::registry::read_active(root).segmenter?;
    let map = image::open(crate::ml::uncertainty::heat_map_path(root, &run, stem))
        .ok()?
        .to_luma8();
    let rgba: Vec<u8> = map
        .iter()
        .flat_map(|&v| {
            // Sure places stay clear; doubt shows from orange to red.
            let t = ((v as f32 / 255.0 - 0.15) / 0.85).clamp(0.0, 1.0);
            [
                255,
                (200.0 * (1.0 - t)) as u8,
                0,
                (t.powf(0.7) * 200.0) as u8,
            ]
        })
        .collect();
    Some(Handle::from_rgba(map.width(), map.height(), rgba))
}
