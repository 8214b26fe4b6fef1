pub mod compare;
pub mod curves;
pub mod mask_canvas;
pub mod mask_shader;
