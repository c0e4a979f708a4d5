"""NumPy twins of :mod:`sparselearn._kernels._sparse_backprop`.

The kernels work on CSR supports; the twins recompute everything from the
dense pre-activations ``Z = G - b`` with boolean masks (the dense masked
gradient), so a test comparing the two checks the sparse bookkeeping
against an independent computation.
"""
import numpy as np


def _masks(Z, k):
    """Dense ``(active, kept)`` masks: kept = the ``min(k, a_i)`` largest
    positive entries of each row, ties broken by the lower column index."""
    active = Z > 0.0
    # A stable sort of -Z lists each row's active entries first, by
    # decreasing value, equal values by increasing column.
    order = np.argsort(-Z, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(Z.shape[1])[None, :], axis=1)
    kept = active & (rank < k)
    return active, kept


def ranked_supports(G, b, k):
    """CSR ``(indptr, indices, values, n_kept)``; each row lists its kept
    units by decreasing pre-activation, then its excess units by index."""
    Z = G - b
    active, kept = _masks(Z, k)
    counts = active.sum(axis=1)
    indptr = np.zeros(Z.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices, values = [], []
    for i in range(Z.shape[0]):
        top = np.flatnonzero(kept[i])
        top = top[np.lexsort((top, -Z[i, top]))]
        rest = np.flatnonzero(active[i] & ~kept[i])
        indices.extend(top.tolist() + rest.tolist())
        values.extend(Z[i, top].tolist() + Z[i, rest].tolist())
    return (indptr, np.asarray(indices, dtype=np.int64),
            np.asarray(values, dtype=np.float64), kept.sum(axis=1).astype(np.int64))


def capped_output(G, b, u, k, cap):
    """``(out, excess)``: the top-``k`` (``cap``) or plain network output per row,
    and the sum of the excess (rank ``> k``) positive pre-activations per row."""
    Z = G - b
    active, kept = _masks(Z, k)
    contributing = kept if cap else active
    out = np.where(contributing, Z, 0.0) @ u
    excess = np.where(active & ~kept, Z, 0.0).sum(axis=1)
    return out, excess


def sparse_backward(X, G, b, u, r, k, cap, penalty):
    """``(grad_w, grad_b, grad_u)`` of ``sum_i r_i h(x_i) + penalty * sum(excess)``,
    from dense masks: the derivative with respect to ``z_ij`` is
    ``A_ij = [ij contributes] r_i u_j + [ij excess] penalty``."""
    Z = G - b
    active, kept = _masks(Z, k)
    contributing = kept if cap else active
    A = contributing * (r[:, None] * u[None, :]) + penalty * (active & ~kept)
    grad_w = A.T @ X
    grad_b = -A.sum(axis=0)
    grad_u = (contributing * Z * r[:, None]).sum(axis=0)
    return grad_w, grad_b, grad_u


def adam_step(P, grad, m1, m2, step, beta1, beta2, eps, radius):
    """Adam update and row-wise projection onto the ball of ``radius``
    (``radius < 0``: none); returns new ``(P, m1, m2)``."""
    m1 = beta1 * m1 + (1.0 - beta1) * grad
    m2 = beta2 * m2 + (1.0 - beta2) * grad * grad
    P = P - step * m1 / (np.sqrt(m2) + eps)
    if radius >= 0.0:
        norms = np.sqrt((P * P).sum(axis=1))
        over = norms > radius
        scale = radius / np.where(over, norms, 1.0) * (1.0 - 4 * np.finfo(float).eps)
        P = np.where(over[:, None], P * scale[:, None], P)
    return P, m1, m2


def fused_supports(G, b, k):
    """The one-scan kernel's result: the same CSR as :func:`ranked_supports`."""
    return ranked_supports(G, b, k)


def sparse_backward_touched(X, G, b, u, r, k, cap, penalty):
    """``(touched, grad_w, grad_b, grad_u)``: the units active on at least one
    row (increasing) and their rows of :func:`sparse_backward`'s gradients."""
    touched = np.flatnonzero((G - b > 0.0).any(axis=0))
    grad_w, grad_b, grad_u = sparse_backward(X, G, b, u, r, k, cap, penalty)
    return touched, grad_w[touched], grad_b[touched], grad_u[touched]


def lazy_adam_step(P, grad, m1, m2, rows, step, beta1, beta2, eps, radius):
    """Lazy Adam: :func:`adam_step` on the listed rows (``grad`` holds one row
    per listed row), the other rows unchanged; returns new ``(P, m1, m2)``."""
    P, m1, m2 = P.copy(), m1.copy(), m2.copy()
    P[rows], m1[rows], m2[rows] = adam_step(P[rows], grad, m1[rows], m2[rows], step,
                                            beta1, beta2, eps, radius)
    return P, m1, m2
