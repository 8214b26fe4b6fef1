//! The annotation canvas: the image, the mask overlay tiles and the brush cursor, drawn with
//! the current viewport; pointer and keys become the Annotate screen's messages. Only the drag
//! in progress lives here; everything else is the screen's state.

use crate::gui::keys::command_for;
use crate::gui::screens::annotate::{Annotate, Message, Tool};
use iced::advanced::image::{FilterMethod, Image};
use iced::keyboard::{self, Key, Modifiers, key::Named};
use iced::mouse::{self, Button, ScrollDelta};
use iced::widget::canvas::{self, Event, Frame, Geometry, Path, Stroke};
use iced::{Color, Point, Rectangle, Renderer, Size, Theme};

pub struct MaskCanvas<'a> {
    pub annotate: &'a Annotate,
    pub layer: Layer,
}

/// The CPU canvas is three stacked canvases, one renderer layer each: a layer draws its images
/// after its shapes, so the photo, the mask tiles and the brush cursor must not share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The photograph.
    Image,
    /// The mask overlay tiles.
    Mask,
    /// The brush cursor and polygon in progress; this one takes the pointer and keys.
    Tools,
}

/// The canvas, bottom to top: the CPU-drawn photograph and mask, the GPU view (which covers
/// them when wgpu renders; once it has drawn, they are left out), and the tools layer.
pub fn stacked(annotate: &Annotate) -> iced::Element<'_, Message> {
    use iced::Length::Fill;
    let layer = |layer| {
        iced::widget::canvas(MaskCanvas { annotate, layer })
            .width(Fill)
            .height(Fill)
    };
    let gpu = iced::widget::shader(super::mask_shader::MaskShader { annotate })
        .width(Fill)
        .height(Fill);
    if super::mask_shader::gpu_active() {
        iced::widget::stack![gpu, layer(Layer::Tools)].into()
    } else {
        iced::widget::stack![
            layer(Layer::Image),
            layer(Layer::Mask),
            gpu,
            layer(Layer::Tools)
        ]
        .into()
    }
}

#[derive(Default)]
pub struct CanvasState {
    drag: Option<Drag>,
    space: bool,
    modifiers: Modifiers,
    size: Option<Size>,
    /// The photograph or the mask tiles as last drawn, redrawn only when what they show changes
    /// (not on every pointer move, which redraws the tools layer only).
    drawn: Drawn,
}

/// A layer's geometry, and the hash of what it showed.
#[derive(Default)]
struct Drawn {
    cache: canvas::Cache,
    key: std::cell::Cell<Option<u64>>,
}

impl Drawn {
    fn draw(
        &self,
        renderer: &Renderer,
        size: Size,
        key: u64,
        paint: impl Fn(&mut Frame),
    ) -> Geometry {
        if self.key.get() != Some(key) {
            self.cache.clear();
            self.key.set(Some(key));
        }
        self.cache.draw(renderer, size, paint)
    }
}

/// What a layer shows: the picture (its handle), the mask's version, the viewport, the size
/// of the canvas and the overlay's look.
fn shown_key(a: &Annotate, size: Size) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    a.loaded.as_ref().map(|l| l.image.id()).hash(&mut h);
    a.mask_version.hash(&mut h);
    a.tiles.len().hash(&mut h);
    let v = &a.viewport;
    for x in [
        v.scale,
        v.offset.x,
        v.offset.y,
        size.width,
        size.height,
        a.opacity,
    ] {
        x.to_bits().hash(&mut h);
    }
    a.show_mask.hash(&mut h);
    h.finish()
}

#[derive(Debug, Clone, Copy)]
enum Drag {
    Stroke,
    Pan(Point),
}

impl MaskCanvas<'_> {
    fn to_image(&self, p: Point) -> Point {
        self.annotate.viewport.to_image(p)
    }
}

impl MaskCanvas<'_> {
    /// A button pressed at `p`: a stroke, a fill, a polygon point, or a pan.
    fn pressed(
        &self,
        state: &mut CanvasState,
        button: Button,
        p: Point,
    ) -> Option<canvas::Action<Message>> {
        use canvas::Action;
        let message = match button {
            Button::Middle => {
                state.drag = Some(Drag::Pan(p));
                return Some(Action::capture());
            }
            Button::Left if state.space => {
                state.drag = Some(Drag::Pan(p));
                return Some(Action::capture());
            }
            Button::Right if matches!(self.annotate.tool, Tool::Polygon | Tool::Tracer) => {
                Message::Command(crate::gui::keys::Command::FinishPolygon)
            }
            Button::Left => match self.annotate.tool {
                Tool::Brush | Tool::Eraser => {
                    state.drag = Some(Drag::Stroke);
                    Message::StrokeStart(self.to_image(p))
                }
                Tool::Fill => Message::FillAt(self.to_image(p)),
                Tool::Polygon => Message::PolygonPoint(self.to_image(p), state.modifiers.shift()),
                Tool::Tracer => Message::TracePoint(self.to_image(p), state.modifiers.command()),
            },
            _ => return None,
        };
        Some(Action::publish(message).and_capture())
    }
}

/// Keys: modifiers and Space (held to pan) are the canvas's own; others are commands.
fn key(state: &mut CanvasState, event: &keyboard::Event) -> Option<canvas::Action<Message>> {
    use canvas::Action;
    match event {
        keyboard::Event::ModifiersChanged(m) => {
            state.modifiers = *m;
            None
        }
        keyboard::Event::KeyPressed {
            key: Key::Named(Named::Space),
            ..
        } => {
            state.space = true;
            Some(Action::capture())
        }
        keyboard::Event::KeyReleased {
            key: Key::Named(Named::Space),
            ..
        } => {
            state.space = false;
            Some(Action::capture())
        }
        keyboard::Event::KeyPressed { key, modifiers, .. } => {
            command_for(key, *modifiers).map(|c| Action::publish(Message::Command(c)).and_capture())
        }
        _ => None,
    }
}

impl canvas::Program<Message> for MaskCanvas<'_> {
    type State = CanvasState;

    fn update(
        &self,
        state: &mut CanvasState,
        event: &Event,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> Option<canvas::Action<Message>> {
        use canvas::Action;
        if self.layer != Layer::Tools {
            return None;
        }
        let pos = cursor.position_in(bounds);
        let is_input = matches!(
            event,
            Event::Mouse(mouse::Event::ButtonPressed(_) | mouse::Event::ButtonReleased(_))
                | Event::Keyboard(_)
        );
        if !is_input && state.size != Some(bounds.size()) {
            state.size = Some(bounds.size());
            return Some(Action::publish(Message::CanvasSize(bounds.size())));
        }
        match event {
            Event::Mouse(mouse::Event::CursorMoved { .. }) => match (state.drag, pos) {
                (Some(Drag::Stroke), Some(p)) => {
                    Some(Action::publish(Message::StrokeTo(self.to_image(p))))
                }
                (Some(Drag::Pan(last)), Some(p)) => {
                    state.drag = Some(Drag::Pan(p));
                    Some(Action::publish(Message::Pan(p - last)))
                }
                _ => Some(Action::request_redraw()),
            },
            Event::Mouse(mouse::Event::ButtonPressed(button)) => self.pressed(state, *button, pos?),
            Event::Mouse(mouse::Event::ButtonReleased(Button::Left | Button::Middle)) => {
                match state.drag.take() {
                    Some(Drag::Stroke) => Some(Action::publish(Message::StrokeEnd)),
                    Some(Drag::Pan(_)) => Some(Action::capture()),
                    None => None,
                }
            }
            Event::Mouse(mouse::Event::WheelScrolled { delta }) => {
                let p = pos?;
                let dy = match delta {
                    ScrollDelta::Lines { y, .. } => *y,
                    ScrollDelta::Pixels { y, .. } => *y / 40.0,
                };
                let whole = state.modifiers.command() || state.modifiers.shift();
                let message = if self.annotate.tool == Tool::Tracer {
                    Message::TraceWidth {
                        screen: p,
                        at: self.to_image(p),
                        steps: dy,
                        whole,
                    }
                } else if whole {
                    Message::Radius(dy * 2.0)
                } else {
                    Message::Zoom(p, 1.2f32.powf(dy))
                };
                Some(Action::publish(message).and_capture())
            }
            Event::Keyboard(event) => key(state, event),
            _ => None,
        }
    }

    fn draw(
        &self,
        state: &CanvasState,
        renderer: &Renderer,
        _theme: &Theme,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> Vec<Geometry> {
        let a = self.annotate;
        if self.layer == Layer::Tools {
            let mut frame = Frame::new(renderer, bounds.size());
            draw_tools(self, &mut frame, state, bounds, cursor);
            return vec![frame.into_geometry()];
        }
        let key = shown_key(a, bounds.size());
        let layer = self.layer;
        vec![
            state
                .drawn
                .draw(renderer, bounds.size(), key, |frame| match layer {
                    Layer::Image => draw_image(a, frame, bounds.size()),
                    _ => draw_mask(a, frame),
                }),
        ]
    }

    fn mouse_interaction(
        &self,
        state: &CanvasState,
        bounds: Rectangle,
        cursor: mouse::Cursor,
    ) -> mouse::Interaction {
        match (state.drag, state.space, cursor.is_over(bounds)) {
            (Some(Drag::Pan(_)), ..) => mouse::Interaction::Grabbing,
            (_, true, true) => mouse::Interaction::Grab,
            (_, _, true) if matches!(self.annotate.tool, Tool::Brush | Tool::Eraser) => {
                mouse::Interaction::Hidden
            }
            (_, _, true) => mouse::Interaction::Crosshair,
            _ => mouse::Interaction::default(),
        }
    }
}

/// The polygon in progress and the round brush cursor.
/// The photograph at the viewport, over the canvas's background.
fn draw_image(a: &Annotate, frame: &mut Frame, size: Size) {
    let v = &a.viewport;
    frame.fill_rectangle(Point::ORIGIN, size, Color::from_rgb8(0x18, 0x18, 0x1b));
    if let Some(loaded) = &a.loaded {
        let filter = if v.scale >= 2.0 {
            FilterMethod::Nearest
        } else {
            FilterMethod::Linear
        };
        let (w, h) = (loaded.size.0 as f32, loaded.size.1 as f32);
        frame.draw_image(
            v.on_screen(0.0, 0.0, w, h),
            Image::new(loaded.image.clone()).filter_method(filter),
        );
    }
}

/// The mask's overlay tiles at the viewport, when the mask is shown.
fn draw_mask(a: &Annotate, frame: &mut Frame) {
    if a.loaded.is_none() || !a.show_mask {
        return;
    }
    let v = &a.viewport;
    for (rect, handle) in a.tiles.values() {
        frame.draw_image(
            v.on_screen(
                rect.x as f32,
                rect.y as f32,
                rect.width as f32,
                rect.height as f32,
            ),
            Image::new(handle.clone())
                .filter_method(FilterMethod::Nearest)
                .opacity(a.opacity),
        );
    }
}

fn draw_tools(
    canvas: &MaskCanvas<'_>,
    frame: &mut Frame,
    state: &CanvasState,
    bounds: Rectangle,
    cursor: mouse::Cursor,
) {
    let a = canvas.annotate;
    let v = &a.viewport;
    draw_heat(a, frame);
    draw_proposal(a, frame);
    draw_nerves(a, frame);
    if !a.polygon.is_empty() {
        let path = Path::new(|b| {
            for (i, p) in a.polygon.iter().enumerate() {
                let s = v.to_screen(*p);
                if i == 0 { b.move_to(s) } else { b.line_to(s) }
            }
            if let Some(p) = cursor.position_in(bounds) {
                b.line_to(p);
            }
        });
        frame.stroke(
            &path,
            Stroke::default()
                .with_width(2.0)
                .with_color(Color::from_rgb8(0xFF, 0xD6, 0x4A)),
        );
    }
    if let (Some(p), Tool::Brush | Tool::Eraser, false) =
        (cursor.position_in(bounds), a.tool, state.space)
    {
        let circle = Path::circle(p, (a.radius * v.scale).max(1.0));
        frame.stroke(
            &circle,
            Stroke::default()
                .with_width(2.5)
                .with_color(Color::from_rgba(0.0, 0.0, 0.0, 0.6)),
        );
        let color = if a.tool == Tool::Brush {
            Color::WHITE
        } else {
            Color::from_rgb8(0xFF, 0x7A, 0x6B)
        };
        frame.stroke(&circle, Stroke::default().with_width(1.2).with_color(color));
    }
}

/// The traced nerves: each centreline (the one being traced brighter), its waypoints, and a
/// red ring where its width jumps suddenly (worth a look).
fn draw_nerves(a: &Annotate, frame: &mut Frame) {
    let v = &a.viewport;
    let current = a.tracing();
    for (i, nerve) in a.paths().iter().enumerate() {
        let line = Path::new(|b| {
            for (k, n) in nerve.nodes().enumerate() {
                let s = v.to_screen(Point::new(n.x, n.y));
                if k == 0 { b.move_to(s) } else { b.line_to(s) }
            }
        });
        let color = if current == Some(i) {
            Color::from_rgb8(0xFF, 0xD6, 0x4A)
        } else {
            Color::from_rgba8(0x8E, 0xE6, 0xFF, 0.8)
        };
        frame.stroke(&line, Stroke::default().with_width(1.5).with_color(color));
        for w in &nerve.waypoints {
            let dot = Path::circle(v.to_screen(Point::new(w[0], w[1])), 4.0);
            frame.fill(&dot, color);
        }
        for n in nerve.jumps() {
            let ring = Path::circle(
                v.to_screen(Point::new(n.x, n.y)),
                (n.width * v.scale / 2.0).max(6.0),
            );
            frame.stroke(
                &ring,
                Stroke::default()
                    .with_width(2.0)
                    .with_color(Color::from_rgb8(0xFF, 0x5A, 0x4F)),
            );
        }
    }
}

/// A mask carried from a neighbouring frame, over the picture until it is kept or discarded:
/// magenta, its nerves' centrelines, and red rings where it is uncertain.
fn draw_proposal(a: &Annotate, frame: &mut Frame) {
    let Some(shown) = a.proposal() else {
        return;
    };
    let v = &a.viewport;
    let m = &shown.proposal.mask;
    frame.draw_image(
        v.on_screen(0.0, 0.0, m.width() as f32, m.height() as f32),
        Image::new(shown.overlay.clone()).filter_method(FilterMethod::Nearest),
    );
    for &(x, y, r) in &shown.proposal.uncertain {
        let ring = Path::circle(v.to_screen(Point::new(x, y)), (r * v.scale).max(6.0));
        frame.stroke(
            &ring,
            Stroke::default()
                .with_width(2.0)
                .with_color(Color::from_rgb8(0xFF, 0x5A, 0x4F)),
        );
    }
}

/// The segmenter's doubt (K), stretched over the picture.
fn draw_heat(a: &Annotate, frame: &mut Frame) {
    let (Some(heat), Some(loaded)) = (a.heat_map(), a.picture()) else {
        return;
    };
    let v = &a.viewport;
    frame.draw_image(
        v.on_screen(0.0, 0.0, loaded.size.0 as f32, loaded.size.1 as f32),
        Image::new(heat.clone()).filter_method(FilterMethod::Linear),
    );
}
