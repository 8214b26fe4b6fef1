//! [`NerveKernels`] under autodiff on the CPU: the forward runs our kernel, and a backward step
//! of our own is registered for it.

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn_flex::FlexTensor;

use super::batch_norm::{self, Normalised};
use super::depthwise;
use super::flex::{
    batch_norm_forward, depthwise_shape, dims4, into_values, pointwise_shape, tensor,
    transposed_shape, values,
};
use super::pointwise;
use super::transposed;
use super::{Activation, NerveKernels, Window};

type Ad<C> = Autodiff<Flex, C>;

#[derive(Debug)]
struct DepthwiseBackward;

impl Backward<Flex, 2> for DepthwiseBackward {
    type State = (FlexTensor, FlexTensor, Window);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, weight_node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, window) = ops.state;
        let shape = depthwise_shape(&x, window);
        let dy = values(&dy);
        if let Some(node) = x_node {
            let dx = depthwise::input_gradient(&shape, &dy, &values(&weight));
            grads.register::<Flex>(node.id, tensor(dx, dims4(&x)));
        }
        if let Some(node) = weight_node {
            let dw = depthwise::weight_gradient(&shape, &values(&x), &dy);
            grads.register::<Flex>(node.id, tensor(dw, dims4(&weight)));
        }
    }
}

#[derive(Debug)]
struct PointwiseBackward;

impl Backward<Flex, 2> for PointwiseBackward {
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, weight_node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight) = ops.state;
        let shape = pointwise_shape(&x, &weight);
        let dy = values(&dy);
        if let Some(node) = x_node {
            let dx = pointwise::input_gradient(&shape, &dy, &values(&weight));
            grads.register::<Flex>(node.id, tensor(dx, dims4(&x)));
        }
        if let Some(node) = weight_node {
            let dw = pointwise::weight_gradient(&shape, &values(&x), &dy);
            grads.register::<Flex>(node.id, tensor(dw, dims4(&weight)));
        }
    }
}

#[derive(Debug)]
struct TransposedBackward;

impl Backward<Flex, 2> for TransposedBackward {
    type State = (FlexTensor, FlexTensor, Window, [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, weight_node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, window, padding_out) = ops.state;
        let shape = transposed_shape(&x, &weight, window, padding_out);
        let (dx, dw) = transposed::backward(&shape, &values(&x), &values(&weight), &values(&dy));
        if let Some(node) = x_node {
            grads.register::<Flex>(node.id, tensor(dx, dims4(&x)));
        }
        if let Some(node) = weight_node {
            grads.register::<Flex>(node.id, tensor(dw, dims4(&weight)));
        }
    }
}

#[derive(Debug)]
struct BatchNormBackward;

#[derive(Clone, Debug)]
struct BatchNormState {
    x: FlexTensor,
    y: FlexTensor,
    gamma: FlexTensor,
    stats: Normalised,
    act: Activation,
}

impl Backward<Flex, 3> for BatchNormBackward {
    type State = BatchNormState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, gamma_node, beta_node] = ops.parents;
        let dy = into_values(grads.consume::<Flex>(&ops.node));
        let s = ops.state;
        let dims = dims4(&s.x);
        let layout = batch_norm::Layout::new(dims);
        let g = batch_norm::backward(
            &layout,
            &values(&s.x),
            &values(&s.y),
            dy,
            &s.stats,
            &values(&s.gamma),
            s.act,
        );
        if let Some(node) = x_node {
            grads.register::<Flex>(node.id, tensor(g.input, dims));
        }
        if let Some(node) = gamma_node {
            grads.register::<Flex>(node.id, tensor(g.gamma, [layout.channels]));
        }
        if let Some(node) = beta_node {
            grads.register::<Flex>(node.id, tensor(g.beta, [layout.channels]));
        }
    }
}

#[derive(Debug)]
struct ActivationBackward;

impl Backward<Flex, 1> for ActivationBackward {
    type State = (FlexTensor, Activation);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (y, act) = ops.state;
        if let Some(node) = x_node {
            let shape = dy.shape();
            let mut dx = into_values(dy);
            act.gate_all(&mut dx, &values(&y));
            grads.register::<Flex>(node.id, tensor(dx, shape));
        }
    }
}

/// `act(y + bias)` with burn's differentiable addition, for a fused kernel reached under autodiff.
fn add_bias_act<C: CheckpointStrategy>(
    y: FloatTensor<Ad<C>>,
    bias: FloatTensor<Ad<C>>,
    act: Activation,
) -> FloatTensor<Ad<C>> {
    let c = bias.shape()[0];
    let bias = Ad::<C>::float_reshape(bias, [1, c, 1, 1].into());
    Ad::<C>::activate(Ad::<C>::float_add(y, bias), act)
}

impl<C: CheckpointStrategy> NerveKernels for Ad<C> {
    fn depthwise_conv(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        window: Window,
    ) -> FloatTensor<Self> {
        match DepthwiseBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.into_primitive(), weight.into_primitive());
                let y = Flex::depthwise_conv(x.clone(), weight.clone(), window);
                prep.finish((x, weight, window), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::depthwise_conv(
                x.into_primitive(),
                weight.into_primitive(),
                window,
            )),
        }
    }

    fn depthwise_conv_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        window: Window,
        act: Activation,
    ) -> FloatTensor<Self> {
        add_bias_act::<C>(Self::depthwise_conv(x, weight, window), bias, act)
    }

    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        match PointwiseBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.into_primitive(), weight.into_primitive());
                let y = Flex::pointwise_conv(x.clone(), weight.clone());
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::pointwise_conv(
                x.into_primitive(),
                weight.into_primitive(),
            )),
        }
    }

    fn pointwise_conv_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: Activation,
    ) -> FloatTensor<Self> {
        add_bias_act::<C>(Self::pointwise_conv(x, weight), bias, act)
    }

    fn conv_transpose(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        window: Window,
        padding_out: [usize; 2],
    ) -> FloatTensor<Self> {
        match TransposedBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.into_primitive(), weight.into_primitive());
                let y = Flex::conv_transpose(x.clone(), weight.clone(), window, padding_out);
                prep.finish((x, weight, window, padding_out), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::conv_transpose(
                x.into_primitive(),
                weight.into_primitive(),
                window,
                padding_out,
            )),
        }
    }

    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(Flex::channel_moments(x.into_primitive()))
    }

    fn batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        moments: FloatTensor<Self>,
        epsilon: f64,
        act: Activation,
    ) -> FloatTensor<Self> {
        let prep = BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (x, gamma) = (x.into_primitive(), gamma.into_primitive());
        let (beta, moments) = (beta.into_primitive(), moments.into_primitive());
        let (y, stats) = batch_norm_forward(&x, &gamma, &beta, &moments, epsilon, act);
        match prep {
            OpsKind::Tracked(prep) => {
                let state = BatchNormState {
                    x,
                    y: y.clone(),
                    gamma,
                    stats,
                    act,
                };
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn activate(x: FloatTensor<Self>, act: Activation) -> FloatTensor<Self> {
        match ActivationBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = Flex::activate(x.into_primitive(), act);
                prep.finish((y.clone(), act), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::activate(x.into_primitive(), act)),
        }
    }
}
