// The annotation canvas on the GPU: the photograph, viewing brightness/contrast, and the nerve
// mask blended in green, under the screen's zoom and pan. Drawn as one triangle covering the
// widget; each fragment looks up its image pixel.

struct Uniforms {
    // widget width, height (logical px); image offset x, y on the widget
    a: vec4<f32>,
    // scale (screen px per image px), mask opacity, brightness, contrast
    b: vec4<f32>,
    // image width, height; show mask (0/1); nearest sampling (0/1)
    c: vec4<f32>,
    // output to linear (0/1, for sRGB targets); background r, g, b
    d: vec4<f32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;
@group(0) @binding(1) var image_tex: texture_2d<f32>;
@group(0) @binding(2) var mask_tex: texture_2d<f32>;
@group(0) @binding(3) var image_sampler: sampler;

// mask::overlay::NERVE_GREEN (0, 230, 64) in 0-1; a test in mask_shader.rs keeps them equal.
const NERVE_GREEN: vec3<f32> = vec3<f32>(0.0, 0.902, 0.251);

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) index: u32) -> VertexOut {
    let x = f32((index << 1u) & 2u);
    let y = f32(index & 2u);
    var out: VertexOut;
    out.position = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.uv = vec2<f32>(x, y);
    return out;
}

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let local = in.uv * u.a.xy;
    let img = (local - u.a.zw) / u.b.x;
    let size = u.c.xy;
    var color = u.d.yzw;
    if (img.x >= 0.0 && img.y >= 0.0 && img.x < size.x && img.y < size.y) {
        let texel = vec2<i32>(floor(img));
        var s = textureSampleLevel(image_tex, image_sampler, img / size, 0.0).rgb;
        if (u.c.w > 0.5) {
            s = textureLoad(image_tex, texel, 0).rgb;
        }
        s = clamp((s - vec3<f32>(0.5)) * u.b.w + vec3<f32>(0.5 + u.b.z), vec3<f32>(0.0), vec3<f32>(1.0));
        if (u.c.z > 0.5) {
            let m = textureLoad(mask_tex, texel, 0).r;
            s = mix(s, NERVE_GREEN, m * u.b.y);
        }
        color = s;
    }
    if (u.d.x > 0.5) {
        color = srgb_to_linear(color);
    }
    return vec4<f32>(color, 1.0);
}
