pub mod mask_canvas;
