//! A small line chart drawn in the window (iced canvas): one value per epoch for each series,
//! with axes, a few ticks and a legend. Used for the live training curves.

use iced::alignment;
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke, Text};
use iced::{Color, Element, Length, Pixels, Point, Rectangle, Renderer, Size, Theme, mouse};

/// One line of a chart: (epoch, value) points.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: Color,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub series: Vec<Series>,
    /// The x axis runs from 1 to this (the planned epochs), so the chart fills as training goes.
    pub epochs: usize,
    /// A fixed y range (metrics in 0..1); otherwise from the data.
    pub y_range: Option<(f64, f64)>,
    /// A continuous x axis over this range (ROC: 0..1) instead of epochs 1..=`epochs`.
    pub x_range: Option<(f64, f64)>,
}

/// Colours of training and validation lines, told apart by colour-blind readers (blue/orange).
pub const TRAIN: Color = Color::from_rgb(0.35, 0.62, 0.92);
pub const VALIDATION: Color = Color::from_rgb(0.96, 0.60, 0.20);

const LEFT: f32 = 44.0;
const RIGHT: f32 = 10.0;
const TOP: f32 = 26.0;
const BOTTOM: f32 = 24.0;

pub fn view<'a, M: 'a>(chart: Chart, height: f32) -> Element<'a, M> {
    canvas::Canvas::new(chart)
        .width(Length::Fill)
        .height(Length::Fixed(height))
        .into()
}

impl Chart {
    fn y_bounds(&self) -> (f64, f64) {
        if let Some(r) = self.y_range {
            return r;
        }
        let values = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .filter(|v| v.is_finite());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        // Whole ticks: the bounds are multiples of a round step.
        let step = nice_step((hi - lo).max(1e-3));
        (
            ((lo / step).floor() * step).max(0.0),
            ((hi / step).ceil() * step).max(step),
        )
    }
}

impl Chart {
    /// The series' names and colours, right-aligned on the title line.
    fn legend(&self, frame: &mut Frame, width: f32, ink: Color) {
        let mut x = width - RIGHT;
        for s in self.series.iter().rev() {
            label(
                frame,
                s.name.clone(),
                Point::new(x, 4.0),
                (alignment::Horizontal::Right, alignment::Vertical::Top),
                ink,
            );
            x -= s.name.len() as f32 * 6.2 + 6.0;
            frame.fill_rectangle(Point::new(x - 12.0, 9.0), Size::new(12.0, 3.0), s.color);
            x -= 22.0;
        }
    }

    /// x ticks: about five epochs (whole numbers), or round steps of a continuous range.
    fn x_ticks(&self) -> Vec<(f64, String)> {
        match self.x_range {
            Some((lo, hi)) => {
                let step = nice_step(hi - lo);
                let n = ((hi - lo) / step).round() as usize;
                (0..=n)
                    .map(|k| lo + step * k as f64)
                    .map(|v| (v, tick(v, hi - lo)))
                    .collect()
            }
            None => {
                let step = (self.epochs as f64 / 5.0).ceil().max(1.0) as usize;
                (1..=self.epochs.max(1))
                    .filter(|e| (e - 1) % step == 0 || *e == self.epochs)
                    .map(|e| (e as f64, e.to_string()))
                    .collect()
            }
        }
    }

    /// Each series as a line through its points, with a dot on each.
    fn draw_series(&self, frame: &mut Frame, to_screen: impl Fn((f64, f64)) -> Point) {
        for s in &self.series {
            let points: Vec<Point> = s
                .points
                .iter()
                .filter(|p| p.1.is_finite())
                .map(|&p| to_screen(p))
                .collect();
            if points.len() > 1 {
                let line = Path::new(|b| {
                    b.move_to(points[0]);
                    for p in &points[1..] {
                        b.line_to(*p);
                    }
                });
                frame.stroke(&line, Stroke::default().with_width(2.0).with_color(s.color));
            }
            for p in &points {
                frame.fill(&Path::circle(*p, 2.5), s.color);
            }
        }
    }
}

/// A small label at `at`, aligned as `align` says.
fn label(frame: &mut Frame, content: String, at: Point, align: Align, color: Color) {
    frame.fill_text(Text {
        content,
        position: at,
        color,
        size: Pixels(11.0),
        align_x: align.0.into(),
        align_y: align.1,
        ..Text::default()
    });
}

impl<M> canvas::Program<M> for Chart {
    type State = ();

    fn draw(
        &self,
        _state: &(),
        renderer: &Renderer,
        theme: &Theme,
        bounds: Rectangle,
        _cursor: mouse::Cursor,
    ) -> Vec<Geometry> {
        let palette = theme.extended_palette();
        let ink = palette.background.base.text;
        let faint = ink.scale_alpha(0.15);
        let mut frame = Frame::new(renderer, bounds.size());
        let plot = Rectangle::new(
            Point::new(LEFT, TOP),
            Size::new(
                (bounds.width - LEFT - RIGHT).max(10.0),
                (bounds.height - TOP - BOTTOM).max(10.0),
            ),
        );
        label(
            &mut frame,
            self.title.clone(),
            Point::new(LEFT, 4.0),
            (alignment::Horizontal::Left, alignment::Vertical::Top),
            ink,
        );
        self.legend(&mut frame, bounds.width, ink);
        let (y0, y1) = self.y_bounds();
        let (x_min, x_max) = self.x_range.unwrap_or((1.0, self.epochs.max(2) as f64));
        let to_screen = |(e, v): (f64, f64)| {
            Point::new(
                plot.x + ((e - x_min) / (x_max - x_min)) as f32 * plot.width,
                plot.y + plot.height - ((v - y0) / (y1 - y0)) as f32 * plot.height,
            )
        };
        // Horizontal grid and y ticks.
        let step = nice_step(y1 - y0);
        let ticks = ((y1 - y0) / step).round() as usize;
        for k in 0..=ticks {
            let v = y0 + step * k as f64;
            let p = to_screen((1.0, v));
            frame.stroke(
                &Path::line(
                    Point::new(plot.x, p.y),
                    Point::new(plot.x + plot.width, p.y),
                ),
                Stroke::default().with_width(1.0).with_color(faint),
            );
            label(
                &mut frame,
                tick(v, y1 - y0),
                Point::new(plot.x - 4.0, p.y),
                (alignment::Horizontal::Right, alignment::Vertical::Center),
                ink.scale_alpha(0.7),
            );
        }
        let xs = self.x_ticks();
        for (x, name) in xs {
            let p = to_screen((x, y0));
            label(
                &mut frame,
                name,
                Point::new(p.x, plot.y + plot.height + 4.0),
                (alignment::Horizontal::Center, alignment::Vertical::Top),
                ink.scale_alpha(0.7),
            );
        }
        frame.stroke(
            &Path::rectangle(plot.position(), plot.size()),
            Stroke::default()
                .with_width(1.0)
                .with_color(ink.scale_alpha(0.4)),
        );
        self.draw_series(&mut frame, to_screen);
        vec![frame.into_geometry()]
    }
}

type Align = (alignment::Horizontal, alignment::Vertical);

/// A round step (1, 2, 2.5 or 5 times a power of ten) giving about four intervals.
fn nice_step(range: f64) -> f64 {
    let raw = range / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * 0.999)
        .unwrap_or(10.0 * magnitude)
}

/// A tick label with as many decimals as the range needs, trailing zeros dropped.
fn tick(v: f64, range: f64) -> String {
    let decimals = if range >= 20.0 {
        0
    } else if range >= 0.05 {
        2
    } else {
        4
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_round_and_never_below_zero() {
        let chart = Chart {
            title: "loss".into(),
            series: vec![Series {
                name: "train".into(),
                color: TRAIN,
                points: vec![(1.0, 0.9), (2.0, 0.5), (3.0, f64::NAN)],
            }],
            epochs: 10,
            y_range: None,
            x_range: None,
        };
        let (lo, hi) = chart.y_bounds();
        assert_eq!((lo, hi), (0.5, 0.9));
        assert_eq!(nice_step(0.88), 0.25);
        assert_eq!(nice_step(1.0), 0.25);
        assert_eq!(nice_step(40.0), 10.0);
        let empty = Chart {
            series: vec![],
            ..chart
        };
        assert_eq!(empty.y_bounds(), (0.0, 1.0));
        assert_eq!(tick(0.25, 1.0), "0.25");
        assert_eq!(tick(0.5, 1.0), "0.5");
        assert_eq!(tick(1.0, 1.0), "1");
        assert_eq!(tick(0.0, 0.8), "0");
        assert_eq!(tick(12.0, 40.0), "12");
    }
}
