//! [`NerveKernels`] on burn's CPU backend: tensors in and out of the slice kernels.

use std::borrow::Cow;

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::tensor::{Shape, TensorData};
use burn_flex::FlexTensor;

use super::batch_norm::{self, Normalised};
use super::depthwise;
use super::pointwise;
use super::transposed;
use super::{Activation, NerveKernels, Window};

/// A tensor's values in row-major order, borrowed where the tensor is already laid out so.
pub(super) fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    let n = t.layout().num_elements();
    if t.layout().is_contiguous() {
        let start = t.layout().start_offset();
        Cow::Borrowed(&t.storage::<f32>()[start..start + n])
    } else {
        Cow::Owned(t.to_contiguous().storage::<f32>()[..n].to_vec())
    }
}

/// A tensor's values to write into, without a copy where the tensor is the only owner.
pub(super) fn into_values(t: FlexTensor) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("our kernels take f32 tensors")
}

pub(super) fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape.into()))
}

pub(super) fn dims4(t: &FlexTensor) -> [usize; 4] {
    t.shape().dims::<4>()
}

pub(super) fn pointwise_shape(x: &FlexTensor, weight: &FlexTensor) -> pointwise::Shape {
    let [batch, input, h, w] = dims4(x);
    pointwise::Shape {
        batch,
        input,
        output: weight.shape()[0],
        pixels: h * w,
    }
}

fn pointwise_output(x: &FlexTensor, shape: &pointwise::Shape, y: Vec<f32>) -> FlexTensor {
    let [batch, _, h, w] = dims4(x);
    tensor(y, [batch, shape.output, h, w])
}

pub(super) fn transposed_shape(
    x: &FlexTensor,
    weight: &FlexTensor,
    window: Window,
    padding_out: [usize; 2],
) -> transposed::Shape {
    transposed::Shape::new(dims4(x), dims4(weight), window, padding_out)
}

pub(super) fn depthwise_shape(x: &FlexTensor, window: Window) -> depthwise::Shape {
    depthwise::Shape::new(dims4(x), window)
}

/// The forward of [`NerveKernels::batch_norm_train`], also returning what its backward needs.
pub(super) fn batch_norm_forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    moments: &FlexTensor,
    epsilon: f64,
    act: Activation,
) -> (FlexTensor, Normalised) {
    let dims = dims4(x);
    let layout = batch_norm::Layout::new(dims);
    let moments = values(moments);
    let (mean, variance) = moments.split_at(layout.channels);
    let stats = Normalised::new(mean.to_vec(), variance, epsilon);
    let y = batch_norm::forward(
        &layout,
        &values(x),
        &stats,
        &values(gamma),
        &values(beta),
        act,
    );
    (tensor(y, dims), stats)
}

impl NerveKernels for Flex {
    fn depthwise_conv(x: FlexTensor, weight: FlexTensor, window: Window) -> FlexTensor {
        let shape = depthwise_shape(&x, window);
        let y = depthwise::forward(
            &shape,
            &values(&x),
            &values(&weight),
            None,
            Activation::None,
        );
        tensor(
            y,
            [
                shape.batch,
                shape.channels,
                shape.output[0],
                shape.output[1],
            ],
        )
    }

    fn depthwise_conv_fused(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        window: Window,
        act: Activation,
    ) -> FlexTensor {
        let shape = depthwise_shape(&x, window);
        let y = depthwise::forward(
            &shape,
            &values(&x),
            &values(&weight),
            Some(&values(&bias)),
            act,
        );
        tensor(
            y,
            [
                shape.batch,
                shape.channels,
                shape.output[0],
                shape.output[1],
            ],
        )
    }

    fn pointwise_conv(x: FlexTensor, weight: FlexTensor) -> FlexTensor {
        let shape = pointwise_shape(&x, &weight);
        let y = pointwise::forward(
            &shape,
            &values(&x),
            &values(&weight),
            None,
            Activation::None,
        );
        pointwise_output(&x, &shape, y)
    }

    fn pointwise_conv_fused(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        act: Activation,
    ) -> FlexTensor {
        let shape = pointwise_shape(&x, &weight);
        let y = pointwise::forward(
            &shape,
            &values(&x),
            &values(&weight),
            Some(&values(&bias)),
            act,
        );
        pointwise_output(&x, &shape, y)
    }

    fn conv_transpose(
        x: FlexTensor,
        weight: FlexTensor,
        window: Window,
        padding_out: [usize; 2],
    ) -> FlexTensor {
        let shape = transposed_shape(&x, &weight, window, padding_out);
        let y = transposed::forward(&shape, &values(&x), &values(&weight));
        tensor(y, shape.output_dims())
    }

    fn channel_moments(x: FlexTensor) -> FlexTensor {
        let layout = batch_norm::Layout::new(dims4(&x));
        let (mut mean, variance) = batch_norm::moments(&layout, &values(&x));
        mean.extend(variance);
        tensor(mean, [2, layout.channels])
    }

    fn batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        moments: FlexTensor,
        epsilon: f64,
        act: Activation,
    ) -> FlexTensor {
        batch_norm_forward(&x, &gamma, &beta, &moments, epsilon, act).0
    }

    fn activate(x: FlexTensor, act: Activation) -> FlexTensor {
        let shape = x.shape();
        let mut values = into_values(x);
        act.apply_all(&mut values);
        tensor(values, shape)
    }
}
