//! The annotation canvas on the GPU (`shaders/annotate.wgsl`): the photograph and the mask are
//! textures, composited with the zoom, pan, mask opacity and viewing brightness/contrast in one
//! pass. A stroke uploads only the rectangles it changed. Used when iced renders with wgpu; the
//! layered CPU canvas (`mask_canvas`) serves otherwise.

use crate::gui::screens::annotate::{Annotate, ImageKey, Message};
use crate::mask::{Mask, Rect};
use iced::wgpu;
use iced::widget::shader::{self, Viewport};
use iced::{Rectangle, mouse};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Decoded RGBA bytes, shared with the screen.
type Pixels = Arc<Vec<u8>>;

static GPU_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether the window renders through wgpu, so the shader draws (set when its pipeline is made).
pub fn gpu_active() -> bool {
    GPU_ACTIVE.load(Ordering::Relaxed)
}

pub struct MaskShader<'a> {
    pub annotate: &'a Annotate,
}

/// One frame's request: what to show, and the mask changes the GPU may not have yet.
#[derive(Debug)]
pub struct MaskPrimitive {
    uniforms: [f32; 16],
    image_key: Option<ImageKey>,
    image: Option<(Pixels, (u32, u32))>,
    mask: Option<Arc<Mask>>,
    mask_version: u64,
    mask_log: VecDeque<(u64, Rect)>,
}

impl shader::Program<Message> for MaskShader<'_> {
    type State = ();
    type Primitive = MaskPrimitive;

    fn draw(&self, _state: &(), _cursor: mouse::Cursor, bounds: Rectangle) -> MaskPrimitive {
        let a = self.annotate;
        let v = &a.viewport;
        let loaded = a.loaded.as_ref();
        let (w, h) = loaded.map_or((1, 1), |l| l.size);
        let show = a.show_mask && loaded.is_some();
        let nearest = v.scale >= 2.0;
        MaskPrimitive {
            uniforms: [
                bounds.width,
                bounds.height,
                v.offset.x,
                v.offset.y,
                v.scale,
                a.opacity,
                a.adjust.brightness,
                a.adjust.contrast,
                w as f32,
                h as f32,
                show as u8 as f32,
                nearest as u8 as f32,
                0.0, // set by the pipeline from the target format
                0x18 as f32 / 255.0,
                0x18 as f32 / 255.0,
                0x1b as f32 / 255.0,
            ],
            image_key: a.image_key.clone(),
            image: loaded.map(|l| (l.rgba.clone(), l.size)),
            mask: loaded.map(|l| l.mask.clone()),
            mask_version: a.mask_version,
            mask_log: a.mask_log.clone(),
        }
    }
}

/// What the GPU's textures were made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    pub key: ImageKey,
    pub size: (u32, u32),
    pub mask_version: u64,
}

/// What a frame must send to the GPU before it draws.
#[derive(Debug, Clone, PartialEq)]
pub enum Upload {
    /// No picture to show: drop the textures, draw nothing.
    Clear,
    /// New textures for another image (or another load of it): the photo and the whole mask.
    Whole,
    /// The mask changed in these rectangles only.
    MaskRects(Vec<Rect>),
    /// The GPU is up to date.
    Nothing,
}

impl MaskPrimitive {
    /// What this frame must upload, given what the GPU holds.
    pub fn plan(&self, held: Option<&Uploaded>) -> Upload {
        let (Some(key), Some((_, size)), Some(_)) = (&self.image_key, &self.image, &self.mask)
        else {
            return Upload::Clear;
        };
        let Some(held) = held.filter(|h| h.key == *key && h.size == *size) else {
            return Upload::Whole;
        };
        if held.mask_version == self.mask_version {
            return Upload::Nothing;
        }
        let known = self
            .mask_log
            .front()
            .is_some_and(|(v, _)| *v <= held.mask_version + 1);
        if !known {
            return Upload::MaskRects(vec![whole(*size)]);
        }
        Upload::MaskRects(
            self.mask_log
                .iter()
                .filter(|(v, _)| *v > held.mask_version)
                .map(|(_, r)| *r)
                .collect(),
        )
    }

    /// What the GPU holds once this frame's uploads are done.
    pub fn uploaded(&self) -> Option<Uploaded> {
        Some(Uploaded {
            key: self.image_key.clone()?,
            size: self.image.as_ref()?.1,
            mask_version: self.mask_version,
        })
    }
}

fn whole((width, height): (u32, u32)) -> Rect {
    Rect {
        x: 0,
        y: 0,
        width,
        height,
    }
}

struct Textures {
    held: Uploaded,
    mask: wgpu::Texture,
    bind_group: wgpu::BindGroup,
}

pub struct MaskPipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
    uniforms: wgpu::Buffer,
    srgb_target: bool,
    textures: Option<Textures>,
}

impl shader::Pipeline for MaskPipeline {
    fn new(device: &wgpu::Device, _queue: &wgpu::Queue, format: wgpu::TextureFormat) -> Self {
        GPU_ACTIVE.store(true, Ordering::Relaxed);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("nerve-studio annotate shader"),
            source: wgpu::ShaderSource::Wgsl(include_str!("../../../shaders/annotate.wgsl").into()),
        });
        let layout = bind_group_layout(device);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("nerve-studio annotate pipeline layout"),
            bind_group_layouts: &[&layout],
            push_constant_ranges: &[],
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("nerve-studio annotate pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                buffers: &[],
                compilation_options: wgpu::PipelineCompilationOptions::default(),
            },
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
                compilation_options: wgpu::PipelineCompilationOptions::default(),
            }),
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            multiview: None,
            cache: None,
        });
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("nerve-studio annotate sampler"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("nerve-studio annotate uniforms"),
            size: 64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        MaskPipeline {
            pipeline,
            layout,
            sampler,
            uniforms,
            srgb_target: format.is_srgb(),
            textures: None,
        }
    }
}

/// New picture and mask textures, uploaded whole, and the bind group that shows them.
fn whole_upload(
    p: &MaskPipeline,
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    (rgba, size): (&[u8], (u32, u32)),
    mask: &Mask,
    held: Uploaded,
) -> Textures {
    let image = texture(
        device,
        "nerve-studio image",
        size,
        wgpu::TextureFormat::Rgba8Unorm,
    );
    upload(queue, &image, rgba, size.0, 4, whole(size));
    let mask_texture = texture(
        device,
        "nerve-studio mask",
        size,
        wgpu::TextureFormat::R8Unorm,
    );
    upload(
        queue,
        &mask_texture,
        mask.as_bytes(),
        size.0,
        1,
        whole(size),
    );
    let view = |t: &wgpu::Texture| t.create_view(&wgpu::TextureViewDescriptor::default());
    let (image_view, mask_view) = (view(&image), view(&mask_texture));
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("nerve-studio annotate bind group"),
        layout: &p.layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: p.uniforms.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: wgpu::BindingResource::TextureView(&image_view),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::TextureView(&mask_view),
            },
            wgpu::BindGroupEntry {
                binding: 3,
                resource: wgpu::BindingResource::Sampler(&p.sampler),
            },
        ],
    });
    Textures {
        held,
        mask: mask_texture,
        bind_group,
    }
}

/// The shader's inputs: the uniforms, the picture and mask textures, and the sampler.
fn bind_group_layout(device: &wgpu::Device) -> wgpu::BindGroupLayout {
    let texture_entry = |binding| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT,
        ty: wgpu::BindingType::Texture {
            sample_type: wgpu::TextureSampleType::Float { filterable: true },
            view_dimension: wgpu::TextureViewDimension::D2,
            multisampled: false,
        },
        count: None,
    };
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("nerve-studio annotate bind group layout"),
        entries: &[
            wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            },
            texture_entry(1),
            texture_entry(2),
            wgpu::BindGroupLayoutEntry {
                binding: 3,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                count: None,
            },
        ],
    })
}

fn texture(
    device: &wgpu::Device,
    label: &str,
    (w, h): (u32, u32),
    format: wgpu::TextureFormat,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    })
}

/// Writes `rect` of `bytes` (rows of `row_len` texels of `texel` bytes) into `texture`.
fn upload(
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
    bytes: &[u8],
    row_len: u32,
    texel: u32,
    rect: Rect,
) {
    if rect.width == 0 || rect.height == 0 {
        return;
    }
    let mut packed = Vec::with_capacity((rect.width * rect.height * texel) as usize);
    for y in rect.y..rect.y + rect.height {
        let start = ((y * row_len + rect.x) * texel) as usize;
        packed.extend_from_slice(&bytes[start..start + (rect.width * texel) as usize]);
    }
    queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d {
                x: rect.x,
                y: rect.y,
                z: 0,
            },
            aspect: wgpu::TextureAspect::All,
        },
        &packed,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(rect.width * texel),
            rows_per_image: Some(rect.height),
        },
        wgpu::Extent3d {
            width: rect.width,
            height: rect.height,
            depth_or_array_layers: 1,
        },
    );
}

impl shader::Primitive for MaskPrimitive {
    type Pipeline = MaskPipeline;

    fn prepare(
        &self,
        p: &mut MaskPipeline,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _bounds: &Rectangle,
        _viewport: &Viewport,
    ) {
        let mut uniforms = self.uniforms;
        uniforms[12] = p.srgb_target as u8 as f32;
        let bytes: Vec<u8> = uniforms.iter().flat_map(|f| f.to_le_bytes()).collect();
        queue.write_buffer(&p.uniforms, 0, &bytes);
        let plan = self.plan(p.textures.as_ref().map(|t| &t.held));
        let (Some((rgba, size)), Some(mask), Some(held)) =
            (&self.image, &self.mask, self.uploaded())
        else {
            p.textures = None;
            return;
        };
        match plan {
            Upload::Clear => p.textures = None,
            Upload::Nothing => {}
            Upload::MaskRects(rects) => {
                if let Some(t) = p.textures.as_mut() {
                    for rect in rects {
                        upload(queue, &t.mask, mask.as_bytes(), size.0, 1, rect);
                    }
                    t.held = held;
                }
            }
            Upload::Whole => {
                // The photograph is stored as its sRGB bytes; the shader adjusts and converts.
                p.textures = Some(whole_upload(p, device, queue, (rgba, *size), mask, held));
            }
        }
    }

    fn draw(&self, p: &MaskPipeline, pass: &mut wgpu::RenderPass<'_>) -> bool {
        // Only textures of the image this frame shows are ever drawn.
        let Some(t) = p
            .textures
            .as_ref()
            .filter(|t| Some(&t.held.key) == self.image_key.as_ref())
        else {
            return true;
        };
        pass.set_pipeline(&p.pipeline);
        pass.set_bind_group(0, &t.bind_group, &[]);
        pass.draw(0..3, 0..1);
        true
    }
}

#[cfg(test)]
mod tests {
    /// The shader draws nerve in the same green as every other picture of a mask.
    #[test]
    fn the_shader_green_is_the_nerve_green() {
        let source = include_str!("../../../shaders/annotate.wgsl");
        let line = source
            .lines()
            .find(|l| l.starts_with("const NERVE_GREEN"))
            .expect("the shader names its green");
        let inside = line
            .split("vec3<f32>(")
            .nth(1)
            .unwrap()
            .trim_end_matches(");");
        let channels: Vec<f32> = inside
            .split(',')
            .map(|v| v.trim().parse().unwrap())
            .collect();
        for (shader, ours) in channels.iter().zip(crate::mask::overlay::NERVE_GREEN) {
            assert!((shader * 255.0 - ours as f32).abs() < 0.5, "{line}");
        }
    }
}
