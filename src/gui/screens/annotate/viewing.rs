//! How the image is viewed, never what is saved: zoom and pan, fitting, the mask's opacity and
//! visibility, and brightness and contrast (the adjusted picture is computed off the UI thread).

use super::{Action, Annotate, Message, adjust, jobs};
use crate::gui::keys::Command;
use crate::gui::viewport::Viewport;
use iced::{Point, Size};

impl Annotate {
    /// The canvas's size, the pointer's zoom and pan, the opacity, brightness and contrast.
    pub(super) fn view_message(&mut self, message: Message) -> Action {
        match message {
            Message::CanvasSize(size) => {
                self.canvas = Some(size);
                self.fit_if_needed();
            }
            Message::Pan(by) => self.viewport.pan(by),
            Message::Zoom(at, factor) => self.viewport.zoom_at(at, factor),
            Message::Opacity(o) => self.opacity = o.clamp(0.0, 1.0),
            Message::Brightness(b) => {
                self.adjust.brightness = b.clamp(-0.5, 0.5);
                return self.adjusted();
            }
            Message::Contrast(c) => {
                self.adjust.contrast = c.clamp(0.5, 3.0);
                return self.adjusted();
            }
            Message::ResetView => {
                self.adjust = adjust::NEUTRAL;
                return self.adjusted();
            }
            Message::Adjusted(stem, settings, handle) => {
                // Only the latest settings for the image on screen count.
                if let Some(l) = self
                    .loaded
                    .as_mut()
                    .filter(|_| stem == self.current && settings == self.adjust)
                {
                    l.image = handle;
                }
            }
            _ => {}
        }
        Action::none()
    }

    /// The view's keys: zoom in and out about the canvas's centre, fit, 100%, hide the mask.
    pub(super) fn view_command(&mut self, c: Command) {
        let canvas = self.canvas.unwrap_or(Size::new(800.0, 600.0));
        let centre = Point::new(canvas.width / 2.0, canvas.height / 2.0);
        match c {
            Command::ZoomIn => self.viewport.zoom_at(centre, 1.25),
            Command::ZoomOut => self.viewport.zoom_at(centre, 0.8),
            Command::Fit => {
                self.needs_fit = true;
                self.fit_if_needed();
            }
            Command::ActualSize => self.viewport = self.viewport.actual_size(canvas),
            Command::ToggleMask => self.show_mask = !self.show_mask,
            _ => {}
        }
    }

    /// The picture with the viewing settings, computed off the UI thread (the GPU view applies
    /// them itself).
    pub(super) fn adjusted(&self) -> Action {
        if crate::gui::widgets::mask_shader::gpu_active() {
            return Action::none();
        }
        match &self.loaded {
            Some(l) => Action::run(jobs::adjust(
                self.current.clone(),
                l.rgba.clone(),
                l.size,
                self.adjust,
            )),
            None => Action::none(),
        }
    }

    pub(super) fn fit_if_needed(&mut self) {
        if let (true, Some(canvas), Some(l)) = (self.needs_fit, self.canvas, self.loaded.as_ref()) {
            self.viewport = Viewport::fit(Size::new(l.size.0 as f32, l.size.1 as f32), canvas);
            self.needs_fit = false;
        }
    }
}
