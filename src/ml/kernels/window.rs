//! Where a convolution's kernel lands on its input: the geometry the depthwise kernels share.

/// A 2-D convolution window: kernel, stride, zero padding and dilation, per axis (rows, columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
}

impl Window {
    /// The output side along `axis` for an input side `len`.
    pub fn output(&self, axis: usize, len: usize) -> usize {
        let reach = self.dilation[axis] * (self.kernel[axis] - 1) + 1;
        (len + 2 * self.padding[axis]).saturating_sub(reach) / self.stride[axis] + 1
    }

    /// For kernel tap `tap` along `axis`: the outputs `[lo, hi)` whose input lies inside the
    /// image (not in the padding), and the input index of output `lo`. Outside that span the tap
    /// only ever multiplies zeros.
    pub fn span(&self, axis: usize, tap: usize, input: usize, output: usize) -> Span {
        let stride = self.stride[axis] as isize;
        // Input index of output `o`: o·stride + shift.
        let shift = (tap * self.dilation[axis]) as isize - self.padding[axis] as isize;
        let lo = if shift >= 0 {
            0
        } else {
            (-shift + stride - 1) / stride
        };
        let last_input = input as isize - 1 - shift;
        let hi = if last_input < 0 {
            0
        } else {
            (last_input / stride + 1).min(output as isize)
        };
        let lo = lo.min(hi);
        Span {
            lo: lo as usize,
            hi: hi as usize,
            first_input: (lo * stride + shift).max(0) as usize,
        }
    }
}

/// The outputs one kernel tap reaches inside the image; see [`Window::span`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub lo: usize,
    pub hi: usize,
    pub first_input: usize,
}

impl Span {
    pub fn len(&self) -> usize {
        self.hi - self.lo
    }

    pub fn is_empty(&self) -> bool {
        self.hi == self.lo
    }
}

#[cfg(test)]
mod tests {
    use super::Window;

    fn window(k: usize, s: usize, p: usize, d: usize) -> Window {
        Window {
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [d, d],
        }
    }

    #[test]
    fn output_sides_match_the_convolution_formula() {
        assert_eq!(window(3, 1, 1, 1).output(0, 7), 7);
        assert_eq!(window(3, 2, 1, 1).output(0, 7), 4);
        assert_eq!(window(3, 2, 1, 1).output(0, 8), 4);
        assert_eq!(window(3, 1, 2, 2).output(0, 5), 5);
    }

    #[test]
    fn spans_cover_exactly_the_outputs_whose_input_is_inside() {
        for (k, s, p, d, len) in [
            (3, 1, 1, 1, 7),
            (3, 2, 1, 1, 8),
            (3, 2, 1, 1, 7),
            (3, 1, 4, 4, 5),
        ] {
            let w = window(k, s, p, d);
            let out = w.output(0, len);
            for tap in 0..k {
                let span = w.span(0, tap, len, out);
                for o in 0..out {
                    let i = (o * s + tap * d) as isize - p as isize;
                    let inside = i >= 0 && i < len as isize;
                    assert_eq!(
                        inside,
                        (span.lo..span.hi).contains(&o),
                        "{k} {s} {p} {d} {tap} {o}"
                    );
                    if o == span.lo && inside {
                        assert_eq!(span.first_input, i as usize);
                    }
                }
            }
        }
    }
}
