//! Screen <-> image coordinates for the annotation canvas: a scale and the screen position of
//! the image's top-left corner. All zoom and pan maths lives here.

use iced::{Point, Size, Vector};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// Screen pixels per image pixel.
    pub scale: f32,
    /// Where the image's (0, 0) is on the canvas.
    pub offset: Vector,
}

pub const MIN_SCALE: f32 = 0.02;
pub const MAX_SCALE: f32 = 32.0;

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            scale: 1.0,
            offset: Vector::new(0.0, 0.0),
        }
    }
}

impl Viewport {
    pub fn to_image(&self, p: Point) -> Point {
        Point::new(
            (p.x - self.offset.x) / self.scale,
            (p.y - self.offset.y) / self.scale,
        )
    }

    pub fn to_screen(&self, p: Point) -> Point {
        Point::new(
            p.x * self.scale + self.offset.x,
            p.y * self.scale + self.offset.y,
        )
    }

    /// The screen rectangle of the image's pixels from (`x`, `y`), `width` x `height`.
    pub fn on_screen(&self, x: f32, y: f32, width: f32, height: f32) -> iced::Rectangle {
        iced::Rectangle::new(
            self.to_screen(Point::new(x, y)),
            iced::Size::new(width * self.scale, height * self.scale),
        )
    }

    /// Zooms by `factor`, keeping the image point under `anchor` (a canvas point) in place.
    pub fn zoom_at(&mut self, anchor: Point, factor: f32) {
        let under = self.to_image(anchor);
        self.scale = (self.scale * factor).clamp(MIN_SCALE, MAX_SCALE);
        self.offset = Vector::new(
            anchor.x - under.x * self.scale,
            anchor.y - under.y * self.scale,
        );
    }

    pub fn pan(&mut self, by: Vector) {
        self.offset += by;
    }

    /// The whole image, centred, as large as fits.
    pub fn fit(image: Size, canvas: Size) -> Viewport {
        let scale = (canvas.width / image.width)
            .min(canvas.height / image.height)
            .clamp(MIN_SCALE, MAX_SCALE);
        Viewport::centred(image, canvas, scale)
    }

    /// One image pixel per screen pixel, keeping the canvas centre's image point in the middle.
    pub fn actual_size(&self, canvas: Size) -> Viewport {
        let mut v = *self;
        v.zoom_at(
            Point::new(canvas.width / 2.0, canvas.height / 2.0),
            1.0 / self.scale,
        );
        v
    }

    fn centred(image: Size, canvas: Size, scale: f32) -> Viewport {
        Viewport {
            scale,
            offset: Vector::new(
                (canvas.width - image.width * scale) / 2.0,
                (canvas.height - image.height * scale) / 2.0,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_point_under_the_cursor() {
        let mut v = Viewport {
            scale: 0.5,
            offset: Vector::new(10.0, 20.0),
        };
        let cursor = Point::new(300.0, 200.0);
        let before = v.to_image(cursor);
        v.zoom_at(cursor, 3.0);
        let after = v.to_image(cursor);
        assert!((before.x - after.x).abs() < 1e-3 && (before.y - after.y).abs() < 1e-3);
        assert!((v.scale - 1.5).abs() < 1e-6);
        let back = v.to_screen(v.to_image(Point::new(7.0, 9.0)));
        assert!((back.x - 7.0).abs() < 1e-3 && (back.y - 9.0).abs() < 1e-3);
    }

    #[test]
    fn fit_centres_the_whole_image_and_100_percent_is_scale_one() {
        let v = Viewport::fit(Size::new(1920.0, 1080.0), Size::new(960.0, 800.0));
        assert!((v.scale - 0.5).abs() < 1e-6);
        assert_eq!(v.to_screen(Point::new(0.0, 0.0)), Point::new(0.0, 130.0));
        assert_eq!(
            v.to_screen(Point::new(1920.0, 1080.0)),
            Point::new(960.0, 670.0)
        );
        let a = v.actual_size(Size::new(960.0, 800.0));
        assert_eq!(a.scale, 1.0);
        let centre = a.to_image(Point::new(480.0, 400.0));
        assert!((centre.x - 960.0).abs() < 1e-3 && (centre.y - 540.0).abs() < 1e-3);
    }

    #[test]
    fn zoom_is_bounded() {
        let mut v = Viewport::default();
        for _ in 0..100 {
            v.zoom_at(Point::ORIGIN, 2.0);
        }
        assert_eq!(v.scale, MAX_SCALE);
    }
}
