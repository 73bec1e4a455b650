"""The numpy reference of ``layers.py``: each layer's forward and backward by hand.

Not a benchmark: ``layers.py`` times these against nnlib and PyTorch, and checks
that all three compute the same. NHWC data and Keras weight layouts throughout;
numpy comes in as an argument, so that importing this module does not import it
(the thread variables must be set first).
"""


class Reference:
    """Hand-written numpy forward and backward passes (NHWC, Keras weight layouts)."""

    def __init__(self, np):
        self.np = np

    def im2col(self, x, kh, kw):
        """``(N*OH*OW, KH*KW*C)`` patches of NHWC ``x`` (rows match the kernel's)."""
        view = self.np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        n, oh, ow, c = view.shape[:4]
        # (N, OH, OW, C, KH, KW) -> (N, OH, OW, KH, KW, C): C innermost copies fastest.
        cols = self.np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3))
        return cols.reshape(n * oh * ow, kh * kw * c)

    def conv(self, x, w, b):
        """Valid, stride-1 convolution: ``(y, cols)``."""
        kh, kw, _, f = w.shape
        n, h, wd, _ = x.shape
        cols = self.im2col(x, kh, kw)
        y = cols @ w.reshape(-1, f)
        y += b
        return y.reshape(n, h - kh + 1, wd - kw + 1, f), cols

    def conv_backward(self, dy, w, cols, x_shape, need_input=True):
        """``(dx or None, dw, db)`` of ``conv``."""
        kh, kw, c, f = w.shape
        n, oh, ow, _ = dy.shape
        dy2 = dy.reshape(-1, f)
        dw = (cols.T @ dy2).reshape(w.shape)
        db = dy2.sum(axis=0)
        dx = None
        if need_input:
            dcols = (dy2 @ w.reshape(-1, f).T).reshape(n, oh, ow, kh, kw, c)
            dx = self.np.zeros(x_shape, dy.dtype)
            for i in range(kh):  # col2im: one strided add per kernel tap
                for j in range(kw):
                    dx[:, i : i + oh, j : j + ow] += dcols[:, :, :, i, j]
        return dx, dw, db

    def maxpool(self, x, p=2):
        """Non-overlapping ``p`` x ``p`` max pooling (valid): ``(y, windows)``."""
        n, h, w, c = x.shape
        oh, ow = h // p, w // p
        win = x[:, : oh * p, : ow * p].reshape(n, oh, p, ow, p, c)
        y = win[:, :, 0, :, 0]
        for i in range(p):
            for j in range(p):
                if i or j:
                    y = self.np.maximum(y, win[:, :, i, :, j])
        return y, win

    def maxpool_backward(self, dy, y, win, x_shape):
        """Routes ``dy`` to the elements equal to their window's maximum (with
        random float inputs there are no ties)."""
        n, oh, p, ow, _, c = win.shape
        mask = win == y[:, :, None, :, None]
        dwin = (mask * dy[:, :, None, :, None]).reshape(n, oh * p, ow * p, c)
        if dwin.shape == tuple(x_shape):
            return dwin
        dx = self.np.zeros(x_shape, dy.dtype)
        dx[:, : oh * p, : ow * p] = dwin
        return dx

    def batchnorm(self, x, gamma, beta, eps, state, momentum):
        """Training-mode batch normalization over all axes but the last."""
        np = self.np
        x2 = x.reshape(-1, x.shape[-1])
        mean = x2.mean(axis=0)
        xc = x2 - mean
        var = np.einsum("ij,ij->j", xc, xc) / x2.shape[0]
        inv = 1.0 / np.sqrt(var + eps)
        xhat = xc * inv
        y = xhat * gamma + beta
        state[0] = momentum * state[0] + (1 - momentum) * mean
        state[1] = momentum * state[1] + (1 - momentum) * var
        return y.reshape(x.shape), (xhat, inv)

    def batchnorm_backward(self, dy, gamma, cache):
        xhat, inv = cache
        dy2 = dy.reshape(xhat.shape)
        m = xhat.shape[0]
        dbeta = dy2.sum(axis=0)
        dgamma = self.np.einsum("ij,ij->j", dy2, xhat)
        dx = (gamma * inv / m) * (m * dy2 - dbeta - xhat * dgamma)
        return dx.reshape(dy.shape), dgamma, dbeta

    def lstm(self, x, kernel, recurrent, bias):
        """Keras LSTM (gates i, f, c, o; zero initial state), every step's h."""
        np = self.np
        n, t, f = x.shape
        u = recurrent.shape[0]
        z = (x.reshape(n * t, f) @ kernel + bias).reshape(n, t, 4 * u)
        gates = np.empty((t, n, 4 * u), x.dtype)
        hs = np.zeros((t + 1, n, u), x.dtype)  # hs[0] is the initial state
        cs = np.zeros((t + 1, n, u), x.dtype)
        for s in range(t):
            a = z[:, s] + hs[s] @ recurrent
            g = gates[s]
            np.negative(a, out=g)
            np.exp(g, out=g)
            g += 1.0
            np.reciprocal(g, out=g)
            np.tanh(a[:, 2 * u : 3 * u], out=g[:, 2 * u : 3 * u])
            i, fg, cc, o = g[:, :u], g[:, u : 2 * u], g[:, 2 * u : 3 * u], g[:, 3 * u :]
            cs[s + 1] = fg * cs[s] + i * cc
            hs[s + 1] = o * np.tanh(cs[s + 1])
        return hs[1:].transpose(1, 0, 2), (x, gates, hs, cs)

    def lstm_backward(self, dy, kernel, recurrent, cache):
        """BPTT: ``(dx, dkernel, drecurrent, dbias)`` for ``dy`` on every step."""
        np = self.np
        x, gates, hs, cs = cache
        n, t, f = x.shape
        u = recurrent.shape[0]
        da = np.empty_like(gates)
        dh = np.zeros((n, u), x.dtype)
        dc = np.zeros((n, u), x.dtype)
        for s in reversed(range(t)):
            g = gates[s]
            i, fg, cc, o = g[:, :u], g[:, u : 2 * u], g[:, 2 * u : 3 * u], g[:, 3 * u :]
            dh += dy[:, s]
            tc = np.tanh(cs[s + 1])
            dc += dh * o * (1.0 - tc * tc)
            d = da[s]
            d[:, :u] = dc * cc * i * (1.0 - i)
            d[:, u : 2 * u] = dc * cs[s] * fg * (1.0 - fg)
            d[:, 2 * u : 3 * u] = dc * i * (1.0 - cc * cc)
            d[:, 3 * u :] = dh * tc * o * (1.0 - o)
            dc *= fg
            dh = d @ recurrent.T
        da2 = da.transpose(1, 0, 2).reshape(n * t, 4 * u)  # (batch, time) rows
        drecurrent = hs[:-1].reshape(t * n, u).T @ da.reshape(t * n, 4 * u)
        dkernel = x.reshape(n * t, f).T @ da2
        dx = (da2 @ kernel.T).reshape(n, t, f)
        return dx, dkernel, drecurrent, da2.sum(axis=0)


def lenet_numpy(np, ref, params, x, labels, learning_rate):
    """One SGD step of the LeNet-style CNN, by hand.

    Args:
        np: numpy.
        ref: A ``Reference``.
        params: The eight weights in Keras layouts, updated in place.
        x: A batch of NHWC images.
        labels: Integer labels.
        learning_rate: SGD's step size.

    Returns:
        ``(loss, grads)``, the gradients in the order of ``params``.
    """
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    n = x.shape[0]
    z1, cols1 = ref.conv(x, w1, b1)
    a1 = np.maximum(z1, 0)
    p1, win1 = ref.maxpool(a1)
    z2, cols2 = ref.conv(p1, w2, b2)
    a2 = np.maximum(z2, 0)
    p2, win2 = ref.maxpool(a2)
    flat = p2.reshape(n, -1)
    z3 = flat @ w3 + b3
    a3 = np.maximum(z3, 0)
    logits = a3 @ w4 + b4
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
    dlogits = e / total
    dlogits[rows, labels] -= 1.0
    dlogits /= n
    dw4, db4 = a3.T @ dlogits, dlogits.sum(axis=0)
    dz3 = (dlogits @ w4.T) * (z3 > 0)
    dw3, db3 = flat.T @ dz3, dz3.sum(axis=0)
    dp2 = (dz3 @ w3.T).reshape(p2.shape)
    dz2 = ref.maxpool_backward(dp2, p2, win2, a2.shape) * (z2 > 0)
    dp1, dw2, db2 = ref.conv_backward(dz2, w2, cols2, p1.shape)
    dz1 = ref.maxpool_backward(dp1, p1, win1, a1.shape) * (z1 > 0)
    _, dw1, db1 = ref.conv_backward(dz1, w1, cols1, x.shape, need_input=False)
    grads = (dw1, db1, dw2, db2, dw3, db3, dw4, db4)
    for p, g in zip(params, grads):
        p -= learning_rate * g
    return loss, grads
