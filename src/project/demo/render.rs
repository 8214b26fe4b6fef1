//! Synthetic intra-operative frames: reddish tissue with fat and vessels, specular glare, an
//! over-exposed strip at the left, blur and sensor noise; plus the class-specific structure
//! (thin bright nerves with exact masks, a dark bloody cavity, or a broad striated tendon).
//! Thin pale fascia strands and elongated glare appear in every class, so that "bright and
//! thin" alone does not find nerves.

use super::band::{Curve, DistanceField};
use super::random::{Noise, Rng};
use crate::mask::Mask;
use image::RgbImage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tissue {
    Nerve,
    OpeningWound,
    Tendon,
}

type Rgb = [f32; 3];

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn scale(c: Rgb, k: f32) -> Rgb {
    [c[0] * k, c[1] * k, c[2] * k]
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Everything an experiment's frames share: the same patient, camera and lighting.
struct Scene {
    tex: Noise,
    fine: Noise,
    base: Rgb,
    fat_level: f32,
    strip: f32,
    gain: f32,
    drift: (f32, f32),
    nerves: Vec<(Curve, f32, f32)>,
    tendon: (Curve, f32),
    wound: (f32, f32, f32, f32),
}

impl Scene {
    fn new(seed: u64, w: f32, h: f32, s: f32) -> Scene {
        let mut r = Rng::fork(seed, 1);
        let x_min = 0.3 * w;
        let nerve_count = if r.chance(0.3) { 2 } else { 1 };
        let nerves = (0..nerve_count)
            .map(|_| {
                (
                    Curve::across(&mut r, w, h, x_min),
                    r.range(6.0, 17.0) * s,
                    r.range(0.35, 0.85),
                )
            })
            .collect();
        Scene {
            tex: Noise::new(r.next_u64()),
            fine: Noise::new(r.next_u64()),
            base: [
                r.range(0.55, 0.72),
                r.range(0.15, 0.27),
                r.range(0.13, 0.23),
            ],
            fat_level: r.range(0.6, 0.75),
            strip: r.range(0.22, 0.40),
            gain: r.range(0.85, 1.1),
            drift: (r.range(-3.0, 3.0) * s, r.range(-2.0, 2.0) * s),
            nerves,
            tendon: (Curve::across(&mut r, w, h, x_min), r.range(26.0, 55.0) * s),
            wound: (
                r.range(0.5, 0.78) * w,
                r.range(0.3, 0.7) * h,
                r.range(0.14, 0.26) * w,
                r.range(0.2, 0.34) * h,
            ),
        }
    }
}

/// The tissue under everything: texture, fat and vessels, shifted by the frame's drift; the
/// pixels and the fine noise at each (later passes reuse it).
fn background(
    scene: &Scene,
    width: u32,
    height: u32,
    (dx, dy): (f32, f32),
    s: f32,
) -> (Vec<Rgb>, Vec<f32>) {
    let n = width as usize * height as usize;
    let mut px: Vec<Rgb> = Vec::with_capacity(n);
    let mut fine_at: Vec<f32> = Vec::with_capacity(n);

    let fat_color = [0.84, 0.68, 0.48];
    for y in 0..height {
        for x in 0..width {
            let (u, v) = (x as f32 - dx, y as f32 - dy);
            let n1 = scene.tex.fractal(u, v, 60.0 * s, 3);
            let n2 = scene.fine.fractal(u, v, 7.0 * s, 2);
            let shade = 0.55 + 0.75 * n1 + 0.25 * (n2 - 0.5);
            let mut c = [
                scene.base[0] * shade,
                scene.base[1] * (shade + 0.15 * (n2 - 0.5)),
                scene.base[2] * shade,
            ];
            let fat_noise = scene.fine.fractal(u + 500.0, v - 300.0, 110.0 * s, 3);
            let fat = smoothstep(scene.fat_level, scene.fat_level + 0.14, fat_noise);
            c = mix(c, scale(fat_color, 0.8 + 0.35 * n2), fat * 0.55);
            // Vessels: thin dark ridges, only where a slower noise lets them be.
            let ridge =
                1.0 - (2.0 * scene.tex.fractal(u + 31.0 * s, v - 7.0 * s, 70.0 * s, 2) - 1.0).abs();
            let region = smoothstep(
                0.5,
                0.7,
                scene.fine.fractal(u + 200.0, v + 100.0, 160.0 * s, 1),
            );
            c = mix(
                c,
                [0.3, 0.02, 0.04],
                smoothstep(0.955, 0.99, ridge) * region * 0.7,
            );
            px.push(c);
            fine_at.push(n2);
        }
    }
    (px, fine_at)
}

/// Look-alikes in every class: pale fascia strands.
fn draw_fascia(px: &mut [Rgb], width: u32, height: u32, s: f32, r: &mut Rng) {
    let (w, h) = (width as f32, height as f32);
    for _ in 0..r.below(3) {
        let curve = Curve::across(r, w, h, 0.0);
        let hw = r.range(1.2, 3.2) * s;
        let strength = r.range(0.3, 0.6);
        let f = DistanceField::new(&curve, width, height, hw + 2.0);
        for (k, c) in px.iter_mut().enumerate() {
            let a = (hw - f.dist[k] + 0.5).clamp(0.0, 1.0);
            if a > 0.0 {
                *c = mix(*c, [0.9, 0.64, 0.58], a * strength);
            }
        }
    }
}

/// Renders frame `frame` of the experiment seeded `seed`, of the given class.
/// Returns the image and its exact nerve mask (empty unless the class is nerve).
pub fn render(width: u32, height: u32, tissue: Tissue, seed: u64, frame: u32) -> (RgbImage, Mask) {
    let (w, h) = (width as f32, height as f32);
    let s = w / 960.0;
    let scene = Scene::new(seed, w, h, s);
    let mut r = Rng::fork(seed, 1000 + frame as u64);
    let dx = scene.drift.0 * frame as f32 + r.normal() * 2.0 * s;
    let dy = scene.drift.1 * frame as f32 + r.normal() * 2.0 * s;
    let (mut px, fine_at) = background(&scene, width, height, (dx, dy), s);
    let mut mask = Mask::empty(width, height);
    match tissue {
        Tissue::OpeningWound => draw_wound(&mut px, &scene, width, height, (dx, dy), s),
        Tissue::Tendon => {
            let (curve, hw) = scene.tendon;
            let curve = curve.shifted(dx, dy, 4.0 * s, &mut r);
            draw_tendon(&mut px, &fine_at, &curve, hw, width, height, s);
        }
        Tissue::Nerve => {
            for &(curve, hw, strength) in &scene.nerves {
                let curve = curve.shifted(dx, dy, 5.0 * s, &mut r);
                draw_nerve(
                    &mut px, &fine_at, &mut mask, &curve, hw, strength, width, height, &mut r,
                );
            }
        }
    }

    draw_fascia(&mut px, width, height, s, &mut r);
    draw_glare(&mut px, width, height, s, &mut r);
    light_and_expose(&mut px, &fine_at, &scene, width, height, &mut r);
    let radius = if r.chance(0.3) { 2 } else { 1 };
    box_blur(&mut px, width, height, radius, radius);
    if r.chance(0.15) {
        box_blur(&mut px, width, height, (3.0 * s).max(1.0) as usize, 0);
    }
    let sigma = r.range(0.012, 0.035);
    let mut img = RgbImage::new(width, height);
    for (k, p) in img.pixels_mut().enumerate() {
        let c = px[k];
        for (out, v) in p.0.iter_mut().zip(c) {
            *out = ((v + r.normal() * sigma).clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    }
    (img, mask)
}

#[allow(clippy::too_many_arguments)]
fn draw_nerve(
    px: &mut [Rgb],
    fine: &[f32],
    mask: &mut Mask,
    curve: &Curve,
    hw0: f32,
    strength: f32,
    width: u32,
    height: u32,
    r: &mut Rng,
) {
    let f = DistanceField::new(curve, width, height, hw0 * 1.4 + 2.0);
    let phase = r.range(0.0, std::f32::consts::TAU);
    let waves = r.range(1.0, 3.0);
    // Sometimes tissue or a clot lies over part of the nerve; the mask follows what is visible.
    let occluder = r.chance(0.4).then(|| {
        let p = curve.point(r.range(0.3, 0.8));
        (p.0, p.1, hw0 * r.range(1.5, 4.0), hw0 * r.range(1.5, 3.0))
    });
    let color = [0.95, 0.84, 0.72];
    for y in 0..height {
        for x in 0..width {
            let k = y as usize * width as usize + x as usize;
            let d = f.dist[k];
            if !d.is_finite() {
                continue;
            }
            let hw =
                hw0 * (1.0 + 0.25 * (std::f32::consts::TAU * waves * f.along[k] + phase).sin());
            if d >= hw + 0.5 {
                continue;
            }
            if let Some((ox, oy, rx, ry)) = occluder {
                let q = ((x as f32 + 0.5 - ox) / rx).powi(2) + ((y as f32 + 0.5 - oy) / ry).powi(2);
                if q < 1.0 {
                    px[k] = mix(px[k], [0.42, 0.05, 0.05], 0.5);
                    continue;
                }
            }
            let rel = (d / hw).min(1.0);
            let body = (1.0 - rel * rel).sqrt();
            let sheen = 0.35 * (-((rel - 0.35) * (rel - 0.35)) / 0.02).exp();
            // Fascicles: faint bands along the nerve, and the tissue's grain showing through.
            let fascicles = 0.06 * (rel * 9.0 + 2.0 * fine[k]).sin();
            let c = scale(
                color,
                0.62 + 0.3 * body + sheen + fascicles + 0.2 * (fine[k] - 0.5),
            );
            let coverage = (hw - d + 0.5).clamp(0.0, 1.0);
            px[k] = mix(px[k], c, coverage * strength);
            if d < hw {
                mask.set(x, y, true);
            }
        }
    }
}

fn draw_tendon(
    px: &mut [Rgb],
    fine: &[f32],
    curve: &Curve,
    hw: f32,
    width: u32,
    height: u32,
    s: f32,
) {
    let f = DistanceField::new(curve, width, height, hw + 3.0 * s);
    let period = 6.0 * s;
    for (k, c) in px.iter_mut().enumerate() {
        let d = f.dist[k];
        if !d.is_finite() {
            continue;
        }
        let a = smoothstep(hw + 2.0 * s, hw - 2.0 * s, d);
        if a <= 0.0 {
            continue;
        }
        // Collagen fibres run along the tendon: stripes across it, wavy with the tissue grain.
        let fibre = 0.5
            + 0.5 * (d / period * std::f32::consts::TAU + 5.0 * fine[k] + 2.0 * f.along[k]).sin();
        let rel = d / hw;
        let t = scale(
            [0.95, 0.87, 0.85],
            0.62 + 0.4 * fibre - 0.2 * rel * rel + 0.15 * (fine[k] - 0.5),
        );
        *c = mix(*c, t, a * 0.85);
    }
}

fn draw_wound(
    px: &mut [Rgb],
    scene: &Scene,
    width: u32,
    height: u32,
    (dx, dy): (f32, f32),
    s: f32,
) {
    let (cx, cy, rx, ry) = scene.wound;
    for y in 0..height {
        for x in 0..width {
            let k = y as usize * width as usize + x as usize;
            let (u, v) = (x as f32 - dx, y as f32 - dy);
            let q =
                (((x as f32 - cx - dx) / rx).powi(2) + ((y as f32 - cy - dy) / ry).powi(2)).sqrt();
            let reff = q + 0.4 * (scene.fine.fractal(u, v, 40.0 * s, 2) - 0.5);
            let inside = smoothstep(1.05, 0.9, reff);
            let rim = (-((reff - 1.0) / 0.08).powi(2)).exp();
            let n1 = scene.tex.fractal(u + 11.0, v, 30.0 * s, 3);
            let mut cav = scale([0.2, 0.035, 0.03], 0.45 + 0.9 * n1);
            let blood = smoothstep(
                0.55,
                0.62,
                scene.tex.fractal(u + 77.0, v + 33.0, 25.0 * s, 2),
            );
            cav = mix(cav, [0.52, 0.02, 0.03], blood * 0.9);
            let c = mix(px[k], [0.82, 0.42, 0.40], rim * 0.45);
            px[k] = mix(c, cav, inside);
        }
    }
}

fn draw_glare(px: &mut [Rgb], width: u32, height: u32, s: f32, r: &mut Rng) {
    for _ in 0..6 + r.below(20) {
        let (x0, y0) = (r.range(0.0, width as f32), r.range(0.0, height as f32));
        let sa = r.range(1.5, 6.0) * s;
        let sb = sa / r.range(1.0, 4.0);
        let ang = r.range(0.0, std::f32::consts::PI);
        let (ca, sn) = (ang.cos(), ang.sin());
        let peak = r.range(0.5, 1.2);
        let reach = 3.0 * sa;
        let (xa, xb) = (
            (x0 - reach).max(0.0) as u32,
            ((x0 + reach) as u32).min(width - 1),
        );
        let (ya, yb) = (
            (y0 - reach).max(0.0) as u32,
            ((y0 + reach) as u32).min(height - 1),
        );
        for y in ya..=yb {
            for x in xa..=xb {
                let (ex, ey) = (x as f32 - x0, y as f32 - y0);
                let (a, b) = (ex * ca + ey * sn, -ex * sn + ey * ca);
                let g = peak * (-0.5 * (a * a / (sa * sa) + b * b / (sb * sb))).exp();
                let c = &mut px[y as usize * width as usize + x as usize];
                for ch in c.iter_mut() {
                    *ch += g;
                }
            }
        }
    }
}

fn light_and_expose(
    px: &mut [Rgb],
    fine: &[f32],
    scene: &Scene,
    width: u32,
    height: u32,
    r: &mut Rng,
) {
    let gain = scene.gain * (1.0 + r.normal() * 0.04);
    let strip = scene.strip * (1.0 + r.normal() * 0.03);
    let (lx, ly) = (r.range(0.4, 0.7), r.range(0.35, 0.65));
    for y in 0..height {
        for x in 0..width {
            let k = y as usize * width as usize + x as usize;
            let (xn, yn) = (x as f32 / width as f32, y as f32 / height as f32);
            let rr = (xn - lx).powi(2) + (yn - ly).powi(2);
            let mut c = scale(px[k], gain * (1.0 - 0.35 * rr));
            let over = 1.0 - smoothstep(strip * 0.55, strip, xn);
            let white = [0.97 + 0.03 * fine[k], 0.95 + 0.03 * fine[k], 0.93];
            c = mix(c, white, over * 0.92);
            let bloom = 0.12 * (1.0 - smoothstep(strip, strip * 1.3, xn));
            px[k] = [c[0] + bloom, c[1] + bloom, c[2] + bloom];
        }
    }
}

/// Separable box blur of radius `rx` across and `ry` down (0 leaves that axis alone).
fn box_blur(px: &mut [Rgb], width: u32, height: u32, rx: usize, ry: usize) {
    let (w, h) = (width as usize, height as usize);
    let pass =
        |px: &mut [Rgb], len: usize, lines: usize, stride: usize, step: usize, radius: usize| {
            if radius == 0 {
                return;
            }
            let mut line = vec![[0.0f32; 3]; len];
            for l in 0..lines {
                for (i, v) in line.iter_mut().enumerate() {
                    *v = px[l * stride + i * step];
                }
                let mut acc = [0.0f32; 3];
                let get = |i: isize| line[i.clamp(0, len as isize - 1) as usize];
                for i in -(radius as isize)..=radius as isize {
                    let v = get(i);
                    for c in 0..3 {
                        acc[c] += v[c];
                    }
                }
                let norm = 1.0 / (2 * radius + 1) as f32;
                for i in 0..len {
                    px[l * stride + i * step] = scale(acc, norm);
                    let (add, sub) = (
                        get(i as isize + radius as isize + 1),
                        get(i as isize - radius as isize),
                    );
                    for c in 0..3 {
                        acc[c] += add[c] - sub[c];
                    }
                }
            }
        };
    pass(px, w, h, w, 1, rx);
    pass(px, h, w, 1, w, ry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nerve_frames_have_masks_and_others_do_not() {
        let (img, mask) = render(240, 135, Tissue::Nerve, 5, 0);
        assert_eq!(img.dimensions(), (240, 135));
        assert!(mask.count() > 50, "nerve mask too small: {}", mask.count());
        assert!(mask.count() < 240 * 135 / 4);
        for t in [Tissue::OpeningWound, Tissue::Tendon] {
            assert!(render(240, 135, t, 5, 1).1.is_empty());
        }
    }

    #[test]
    fn nerve_is_brighter_than_its_surroundings_but_not_trivially() {
        let (img, mask) = render(480, 270, Tissue::Nerve, 11, 3);
        let roi_x = (0.45 * 480.0) as u32;
        let (mut inside, mut outside, mut ni, mut no) = (0f64, 0f64, 0, 0);
        let mut bright_outside = 0;
        for (x, y, p) in img.enumerate_pixels() {
            if x < roi_x {
                continue;
            }
            let l = p.0.iter().map(|&v| v as f64).sum::<f64>() / 3.0;
            if mask.get(x, y) {
                inside += l;
                ni += 1;
            } else {
                outside += l;
                no += 1;
                bright_outside += (l > 170.0) as usize;
            }
        }
        assert!(ni > 0 && no > 0);
        assert!(
            inside / ni as f64 > outside / no as f64 + 20.0,
            "nerve not visible"
        );
        assert!(
            bright_outside > 0,
            "a single threshold should not find the nerve"
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = render(120, 68, Tissue::Tendon, 9, 2);
        let b = render(120, 68, Tissue::Tendon, 9, 2);
        assert_eq!(a.0, b.0);
        assert_ne!(a.0, render(120, 68, Tissue::Tendon, 9, 3).0);
    }
}
