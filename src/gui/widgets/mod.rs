pub mod mask_canvas;
pub mod mask_shader;
