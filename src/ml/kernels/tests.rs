//! Every kernel against the plain burn operation it replaces, on random inputs: the outputs and
//! every gradient agree to 1e-4 relative (the largest difference over the largest value).

use burn::module::Param;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, relu6};
use burn::tensor::{Device, Distribution, Tensor};

use super::{Activation, activate, batch_norm_act, conv_act, conv_transpose};

fn device() -> Device {
    Device::flex().autodiff()
}

fn random<const D: usize>(shape: [usize; D]) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.5, 1.5), &device())
}

fn assert_close<const D: usize>(ours: Tensor<D>, reference: Tensor<D>, what: &str) {
    assert_eq!(ours.dims(), reference.dims(), "{what}: shapes");
    let ours = ours.into_data().try_to_vec::<f32>().unwrap();
    let reference = reference.into_data().try_to_vec::<f32>().unwrap();
    let largest = reference
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    let worst = ours
        .iter()
        .zip(&reference)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst <= 1e-4 * largest,
        "{what}: differs by {worst} (largest value {largest})"
    );
}

fn reference_act(y: Tensor<4>, act: Activation) -> Tensor<4> {
    match act {
        Activation::None => y,
        Activation::Relu => relu(y),
        Activation::Relu6 => relu6(y),
    }
}

#[test]
fn the_cpu_devices_are_routed_to_our_kernels_and_others_are_not() {
    assert!(super::ours(&random([1])));
    assert!(super::ours(&Tensor::<1>::zeros([1], &Device::flex())));
}

#[test]
fn depthwise_convolution_and_its_gradients_match_burn() {
    // (input, kernel, stride, dilation, bias, activation)
    let cases = [
        ([2, 6, 9, 11], 3, 1, 1, false, Activation::None),
        ([2, 6, 9, 11], 3, 2, 1, false, Activation::Relu6),
        ([1, 4, 8, 8], 3, 2, 1, true, Activation::Relu),
        ([2, 3, 10, 7], 3, 1, 2, true, Activation::Relu6),
        ([1, 5, 6, 6], 5, 1, 1, false, Activation::None),
    ];
    for (dims, k, stride, dilation, bias, act) in cases {
        let what = format!("{dims:?} k{k} s{stride} d{dilation} bias {bias} {act:?}");
        let c = dims[1];
        let pad = dilation * (k - 1) / 2;
        let mut conv = Conv2dConfig::new([c, c], [k, k])
            .with_groups(c)
            .with_stride([stride, stride])
            .with_dilation([dilation, dilation])
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(bias)
            .init(&device());
        conv.weight = Param::from_tensor(random([c, 1, k, k]).require_grad());
        let x = random(dims).require_grad();
        let ours = conv_act(&conv, x.clone(), act);
        let reference = reference_act(conv.forward(x.clone()), act);
        let seed = random(reference.dims());
        let ours_grads = ours.clone().mul(seed.clone()).sum().backward();
        let reference_grads = reference.clone().mul(seed).sum().backward();
        assert_close(ours, reference, &format!("{what}: output"));
        let grad_x = |g| x.grad(g).unwrap();
        assert_close(
            grad_x(&ours_grads),
            grad_x(&reference_grads),
            &format!("{what}: dx"),
        );
        let grad_w = |g| conv.weight.val().grad(g).unwrap();
        assert_close(
            grad_w(&ours_grads),
            grad_w(&reference_grads),
            &format!("{what}: dw"),
        );
    }
}

#[test]
fn pointwise_convolution_and_its_gradients_match_burn() {
    for (dims, out, bias, act) in [
        ([2, 6, 5, 7], 4, false, Activation::None),
        ([1, 3, 4, 4], 9, true, Activation::Relu6),
        ([8, 16, 3, 5], 24, false, Activation::Relu),
    ] {
        let what = format!("{dims:?} -> {out} bias {bias} {act:?}");
        let mut conv = Conv2dConfig::new([dims[1], out], [1, 1])
            .with_bias(bias)
            .init(&device());
        conv.weight = Param::from_tensor(random([out, dims[1], 1, 1]).require_grad());
        let x = random(dims).require_grad();
        let ours = conv_act(&conv, x.clone(), act);
        let reference = reference_act(conv.forward(x.clone()), act);
        let seed = random(reference.dims());
        let ours_grads = ours.clone().mul(seed.clone()).sum().backward();
        let reference_grads = reference.clone().mul(seed).sum().backward();
        assert_close(ours, reference, &format!("{what}: output"));
        let grad_x = |g| x.grad(g).unwrap();
        assert_close(
            grad_x(&ours_grads),
            grad_x(&reference_grads),
            &format!("{what}: dx"),
        );
        let grad_w = |g| conv.weight.val().grad(g).unwrap();
        assert_close(
            grad_w(&ours_grads),
            grad_w(&reference_grads),
            &format!("{what}: dw"),
        );
        if bias {
            let grad_b = |g| conv.bias.as_ref().unwrap().val().grad(g).unwrap();
            assert_close(
                grad_b(&ours_grads),
                grad_b(&reference_grads),
                &format!("{what}: db"),
            );
        }
    }
}

#[test]
fn fused_inference_pointwise_matches_burn() {
    let plain = Device::flex();
    let conv = Conv2dConfig::new([12, 20], [1, 1])
        .with_bias(true)
        .init(&plain);
    let x = Tensor::<4>::random([1, 12, 9, 10], Distribution::Normal(0.0, 2.0), &plain);
    let ours = conv_act(&conv, x.clone(), Activation::Relu6);
    let reference = relu6(conv.forward(x));
    assert_close(ours, reference, "fused inference, 1x1");
}

#[test]
fn transposed_convolution_and_its_gradients_match_burn() {
    for (dims, out, stride, bias) in [
        ([2, 6, 5, 7], 4, 2, false),
        ([1, 3, 4, 4], 2, 2, true),
        ([3, 5, 3, 3], 7, 1, false),
    ] {
        let what = format!("{dims:?} -> {out} stride {stride} bias {bias}");
        let mut deconv = ConvTranspose2dConfig::new([dims[1], out], [3, 3])
            .with_stride([stride, stride])
            .with_padding([1, 1])
            .with_padding_out([stride - 1, stride - 1])
            .with_bias(bias)
            .init(&device());
        deconv.weight = Param::from_tensor(random([dims[1], out, 3, 3]).require_grad());
        let x = random(dims).require_grad();
        let ours = conv_transpose(&deconv, x.clone());
        let reference = deconv.forward(x.clone());
        let seed = random(reference.dims());
        let ours_grads = ours.clone().mul(seed.clone()).sum().backward();
        let reference_grads = reference.clone().mul(seed).sum().backward();
        assert_close(ours, reference, &format!("{what}: output"));
        let grad_x = |g| x.grad(g).unwrap();
        assert_close(
            grad_x(&ours_grads),
            grad_x(&reference_grads),
            &format!("{what}: dx"),
        );
        let grad_w = |g| deconv.weight.val().grad(g).unwrap();
        assert_close(
            grad_w(&ours_grads),
            grad_w(&reference_grads),
            &format!("{what}: dw"),
        );
    }
}

#[test]
fn fused_inference_depthwise_matches_burn() {
    let plain = Device::flex();
    let conv = Conv2dConfig::new([8, 8], [3, 3])
        .with_groups(8)
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(true)
        .init(&plain);
    let x = Tensor::<4>::random([1, 8, 15, 16], Distribution::Normal(0.0, 2.0), &plain);
    let ours = conv_act(&conv, x.clone(), Activation::Relu6);
    let reference = relu6(conv.forward(x));
    assert_close(ours, reference, "fused inference");
}

#[test]
fn batch_norm_in_training_and_its_gradients_match_burn() {
    for act in [Activation::None, Activation::Relu, Activation::Relu6] {
        for dims in [[4, 5, 6, 7], [1, 3, 1, 1], [2, 16, 3, 3]] {
            let what = format!("{dims:?} {act:?}");
            let c = dims[1];
            let mut bn = BatchNormConfig::new(c).with_epsilon(1e-3).init(&device());
            bn.gamma = Param::from_tensor(random([c]).require_grad());
            bn.beta = Param::from_tensor(random([c]).require_grad());
            let mut reference_bn = BatchNormConfig::new(c).with_epsilon(1e-3).init(&device());
            reference_bn.gamma = bn.gamma.clone();
            reference_bn.beta = bn.beta.clone();
            let x = random(dims).require_grad();
            let ours = batch_norm_act(&bn, x.clone(), act);
            let reference = reference_act(reference_bn.forward(x.clone()), act);
            let seed = random(dims);
            let ours_grads = ours.clone().mul(seed.clone()).sum().backward();
            let reference_grads = reference.clone().mul(seed).sum().backward();
            assert_close(ours, reference, &format!("{what}: output"));
            let gx = |g| x.grad(g).unwrap();
            assert_close(
                gx(&ours_grads),
                gx(&reference_grads),
                &format!("{what}: dx"),
            );
            let gg = |g| bn.gamma.val().grad(g).unwrap();
            assert_close(
                gg(&ours_grads),
                gg(&reference_grads),
                &format!("{what}: dγ"),
            );
            let gb = |g| bn.beta.val().grad(g).unwrap();
            assert_close(
                gb(&ours_grads),
                gb(&reference_grads),
                &format!("{what}: dβ"),
            );
            let stats = |b: &burn::nn::BatchNorm| (b.running_mean.value(), b.running_var.value());
            let (mean, var) = stats(&bn);
            let (ref_mean, ref_var) = stats(&reference_bn);
            assert_close(mean, ref_mean, &format!("{what}: running mean"));
            assert_close(var, ref_var, &format!("{what}: running variance"));
        }
    }
}

#[test]
fn activations_and_their_gradients_match_burn() {
    for act in [Activation::Relu, Activation::Relu6] {
        let x = random([3, 4, 5, 6]).mul_scalar(4.0).require_grad();
        let ours = activate(x.clone(), act);
        let reference = reference_act(x.clone(), act);
        let seed = random([3, 4, 5, 6]);
        let ours_grads = ours.clone().mul(seed.clone()).sum().backward();
        let reference_grads = reference.clone().mul(seed).sum().backward();
        assert_close(ours, reference, &format!("{act:?}: output"));
        let gx = |g| x.grad(g).unwrap();
        assert_close(
            gx(&ours_grads),
            gx(&reference_grads),
            &format!("{act:?}: dx"),
        );
    }
}
